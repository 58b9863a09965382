from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    """Open311 (#16): client applications and their hashed api keys, the tokens POST answers with, and the
    tasks handed to external units over Open311."""

    dependencies = [('komunikator', '0018_resident_accounts_push')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Open311Client',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('komunikator.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='open311_clients', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=200)),
                ('contact', fields.CharField(null=True, max_length=254)),
                ('key_hash', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'open311_clients', 'app': 'komunikator', 'unique_together': (('tenant', 'key_hash'),), 'pk_attr': 'id', 'table_description': 'An application allowed to post Open311 requests to one city, its api_key stored as a hash.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Open311Token',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('komunikator.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='open311_tokens', on_delete=OnDelete.RESTRICT)),
                ('token', fields.CharField(max_length=64)),
                ('ticket', fields.ForeignKeyField('komunikator.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='open311_tokens', on_delete=OnDelete.CASCADE)),
                ('client', fields.ForeignKeyField('komunikator.Open311Client', source_field='client_id', null=True, db_constraint=True, to_field='id', related_name='tokens', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'open311_tokens', 'app': 'komunikator', 'unique_together': (('tenant', 'token'),), 'indexes': [Index(fields=['tenant_id', 'ticket_id'])], 'pk_attr': 'id', 'table_description': 'The token an Open311 POST answered with, naming the report it made (GET tokens).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Open311Dispatch',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('komunikator.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='open311_dispatches', on_delete=OnDelete.RESTRICT)),
                ('task', fields.ForeignKeyField('komunikator.Task', source_field='task_id', db_constraint=True, to_field='id', related_name='open311_dispatches', on_delete=OnDelete.CASCADE)),
                ('unit', fields.CharField(max_length=64)),
                ('endpoint', fields.CharField(max_length=500)),
                ('service_code', fields.CharField(max_length=64)),
                ('marker', fields.CharField(max_length=64)),
                ('status', fields.CharField(default='pending', max_length=16)),
                ('remote_id', fields.CharField(null=True, max_length=128)),
                ('remote_token', fields.CharField(null=True, max_length=128)),
                ('remote_status', fields.CharField(null=True, max_length=16)),
                ('remote_updated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('remote_notes', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('attempts', fields.IntField(default=0)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('polled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'open311_dispatches', 'app': 'komunikator', 'unique_together': (('tenant', 'marker'),), 'indexes': [Index(fields=['tenant_id', 'status', 'polled_at']), Index(fields=['tenant_id', 'task_id'])], 'pk_attr': 'id', 'table_description': 'A task handed to an external unit over Open311, and what the remote system says of it.'},
            bases=['Model'],
        ),
    ]
