import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    """Resident accounts (#15): verified e-mail, one-time links, settings, Web Push subscriptions."""

    dependencies = [('komunikator', '0010_reporter_links')]

    initial = False

    operations = [
        ops.AddField(
            model_name='User',
            name='email_verified_at',
            field=fields.DatetimeField(null=True, description='when a resident opened the link that verified their e-mail (null: not yet, or a staff account)', auto_now=False, auto_now_add=False),
        ),
        ops.CreateModel(
            name='PushSubscription',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('komunikator.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='push_subscriptions', on_delete=OnDelete.RESTRICT)),
                ('user', fields.ForeignKeyField('komunikator.User', source_field='user_id', db_constraint=True, to_field='id', related_name='push_subscriptions', on_delete=OnDelete.CASCADE)),
                ('endpoint', fields.TextField(unique=False)),
                ('endpoint_hash', fields.CharField(max_length=64)),
                ('p256dh', fields.CharField(max_length=128)),
                ('auth', fields.CharField(max_length=64)),
                ('label', fields.CharField(default='', max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'push_subscriptions', 'app': 'komunikator', 'unique_together': (('tenant', 'endpoint_hash'),), 'indexes': [Index(fields=['tenant_id', 'user_id'])], 'pk_attr': 'id', 'table_description': 'A browser or device a resident receives Web Push on: its push service endpoint and RFC 8291 keys.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ResidentSettings',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('komunikator.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='resident_settings', on_delete=OnDelete.RESTRICT)),
                ('user', fields.ForeignKeyField('komunikator.User', source_field='user_id', db_constraint=True, to_field='id', related_name='resident_settings', on_delete=OnDelete.CASCADE)),
                ('channels', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('topics', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('areas', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'resident_settings', 'app': 'komunikator', 'unique_together': (('tenant', 'user'),), 'pk_attr': 'id', 'table_description': 'What a resident wants to hear and how: channels, topics and areas (plugins read them).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AccountToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('komunikator.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='account_tokens', on_delete=OnDelete.RESTRICT)),
                ('user', fields.ForeignKeyField('komunikator.User', source_field='user_id', db_constraint=True, to_field='id', related_name='account_tokens', on_delete=OnDelete.CASCADE)),
                ('purpose', fields.CharField(max_length=16)),
                ('token_hash', fields.CharField(max_length=64)),
                ('email', fields.CharField(max_length=254)),
                ('ticket', fields.ForeignKeyField('komunikator.Ticket', source_field='ticket_id', null=True, db_constraint=True, to_field='id', related_name='account_tokens', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'account_tokens', 'app': 'komunikator', 'unique_together': (('tenant', 'token_hash'),), 'indexes': [Index(fields=['tenant_id', 'user_id', 'purpose'])], 'pk_attr': 'id', 'table_description': 'A one-time link sent by e-mail: verify an address, reset a password, change the e-mail, claim a report.'},
            bases=['Model'],
        ),
    ]
