import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    """Saved views of the universal lists, and each user's default view per list (#14)."""

    dependencies = [('komunikator', '0012_report_indexes')]  # the chain's head when written

    initial = False

    operations = [
        ops.CreateModel(
            name='SavedView',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('komunikator.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='saved_views', on_delete=OnDelete.RESTRICT)),
                ('owner', fields.ForeignKeyField('komunikator.User', source_field='owner_id', db_constraint=True, to_field='id', related_name='saved_views', on_delete=OnDelete.CASCADE)),
                ('list_name', fields.CharField(max_length=32)),
                ('name', fields.CharField(max_length=100)),
                ('filter_document', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('sort', fields.CharField(default='', max_length=300)),
                ('columns', fields.TextField(default='', unique=False)),
                ('sharing', fields.CharField(default='personal', max_length=16)),
                ('unit', fields.CharField(null=True, description='the unit a view shared with a unit is shared with (its members and those of units below see it)', max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'saved_views', 'app': 'komunikator', 'indexes': [Index(fields=['tenant_id', 'list_name', 'sharing']), Index(fields=['tenant_id', 'owner_id'])], 'pk_attr': 'id', 'table_description': 'A named view of a universal list: filter, sort and columns, for its owner, their unit or the office.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DefaultView',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('komunikator.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='default_views', on_delete=OnDelete.RESTRICT)),
                ('user', fields.ForeignKeyField('komunikator.User', source_field='user_id', db_constraint=True, to_field='id', related_name='default_views', on_delete=OnDelete.CASCADE)),
                ('list_name', fields.CharField(max_length=32)),
                ('view', fields.ForeignKeyField('komunikator.SavedView', source_field='view_id', db_constraint=True, to_field='id', related_name='defaults', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'default_views', 'app': 'komunikator', 'unique_together': (('tenant', 'user', 'list_name'),), 'pk_attr': 'id', 'table_description': 'The saved view a user opens a list with (one per user and list).'},
            bases=['Model'],
        ),
    ]
