from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    """The reporter's signed link: a stored secret (its hash) per ticket and reporter, with an expiry (#11 item 8)."""

    dependencies = [('komunikator', '0009_ticket_previous_state')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ReporterLink',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('komunikator.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='reporter_links', on_delete=OnDelete.RESTRICT)),
                ('ticket', fields.ForeignKeyField('komunikator.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='reporter_links', on_delete=OnDelete.CASCADE)),
                ('contact', fields.ForeignKeyField('komunikator.ReporterContact', source_field='contact_id', null=True, db_constraint=True, to_field='id', related_name='reporter_links', on_delete=OnDelete.CASCADE, description='the reporter the link speaks for: a contact (no account) or an account (exactly one is set)')),
                ('user', fields.ForeignKeyField('komunikator.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='reporter_links', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'reporter_links', 'app': 'komunikator', 'unique_together': (('tenant', 'token_hash'),), 'indexes': [Index(fields=['tenant_id', 'ticket_id'])], 'pk_attr': 'id', 'table_description': 'A link in an e-mail letting the reporter of one ticket act on it, its secret stored as a hash.'},
            bases=['Model'],
        ),
    ]
