from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('komunikator', '0006_timer_names')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RateEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('komunikator.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='rate_events', on_delete=OnDelete.RESTRICT)),
                ('bucket', fields.CharField(max_length=300)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'rate_events', 'app': 'komunikator', 'indexes': [Index(fields=['tenant_id', 'bucket', 'at'])], 'pk_attr': 'id', 'table_description': 'One counted request (an anonymous report …) in a rate-limit bucket: the table is the shared counter.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='ReporterContact',
            name='confirm_token',
            field=fields.CharField(null=True, description='the secret of the confirmation link, random, null once confirmed or erased', max_length=64),
        ),
        ops.AddField(
            model_name='ReporterContact',
            name='email_confirmed_at',
            field=fields.DatetimeField(null=True, description='when the reporter opened the confirmation link, until then mail carries only the text of the city', auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='ReporterContact',
            index=Index(fields=['tenant_id', 'confirm_token']),
        ),
        # Reports made before confirmation existed keep receiving their notices (nobody could have confirmed them).
        ops.RunSQL(
            "UPDATE reporter_contacts SET email_confirmed_at = created_at "
            "WHERE email IS NOT NULL AND erased_at IS NULL AND email_confirmed_at IS NULL",
            reverse_sql="SELECT 1",
        ),
    ]
