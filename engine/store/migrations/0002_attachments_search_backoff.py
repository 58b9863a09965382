from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('komunikator', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Attachment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('komunikator.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.RESTRICT)),
                ('ticket', fields.ForeignKeyField('komunikator.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.CASCADE)),
                ('task', fields.ForeignKeyField('komunikator.Task', source_field='task_id', null=True, db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.SET_NULL)),
                ('comment', fields.ForeignKeyField('komunikator.Comment', source_field='comment_id', null=True, db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.SET_NULL)),
                ('uploaded_by', fields.ForeignKeyField('komunikator.User', source_field='uploaded_by_id', null=True, db_constraint=True, to_field='id', related_name='uploaded_attachments', on_delete=OnDelete.SET_NULL)),
                ('visibility', fields.CharField(default='internal', max_length=16)),
                ('content_type', fields.CharField(max_length=64)),
                ('original_name', fields.CharField(default='', max_length=255)),
                ('size', fields.IntField()),
                ('width', fields.IntField(null=True)),
                ('height', fields.IntField(null=True)),
                ('sha256', fields.CharField(max_length=64)),
                ('storage_key', fields.CharField(max_length=255)),
                ('thumb_key', fields.CharField(null=True, max_length=255)),
                ('hidden_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('hidden_reason', fields.TextField(null=True, unique=False)),
                ('hidden_by', fields.ForeignKeyField('komunikator.User', source_field='hidden_by_id', null=True, db_constraint=True, to_field='id', related_name='hidden_attachments', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'attachments', 'app': 'komunikator', 'indexes': [Index(fields=['tenant_id', 'ticket_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'A photo or file on a ticket, a task or a comment (re-encoded, EXIF stripped).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TicketSearch',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('komunikator.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='ticket_search', on_delete=OnDelete.RESTRICT)),
                ('ticket', fields.ForeignKeyField('komunikator.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='search', on_delete=OnDelete.CASCADE)),
                ('document', fields.TextField(default='', unique=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'ticket_search', 'app': 'komunikator', 'unique_together': (('tenant', 'ticket'),), 'pk_attr': 'id', 'table_description': 'The searchable text of a ticket, rewritten in the transaction that changes it.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='next_attempt_at',
            field=fields.DatetimeField(null=True, description='not before this moment (back-off after a failed attempt), NULL means at once', auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='OutboxMessage',
            index=Index(fields=['tenant_id', 'status', 'next_attempt_at']),
        ),
    ]
