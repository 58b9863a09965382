import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    """Big list exports written by a background job, for the user who asked (#14)."""

    dependencies = [('komunikator', '0019_list_unit_sort_index')]  # the chain's head when written

    initial = False

    operations = [
        ops.CreateModel(
            name='ListExport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('komunikator.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='list_exports', on_delete=OnDelete.RESTRICT)),
                ('requester', fields.ForeignKeyField('komunikator.User', source_field='requester_id', db_constraint=True, to_field='id', related_name='list_exports', on_delete=OnDelete.CASCADE)),
                ('list_name', fields.CharField(max_length=32)),
                ('format', fields.CharField(max_length=8)),
                ('filter_document', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('sort', fields.CharField(default='', max_length=300)),
                ('columns', fields.TextField(default='', unique=False)),
                ('language', fields.CharField(default='pl', max_length=8)),
                ('status', fields.CharField(default='pending', max_length=16)),
                ('rows', fields.IntField(default=0, description="rows written so far, and the view's count when it was asked for (maybe the planner's estimate)")),
                ('total', fields.IntField(null=True)),
                ('file_name', fields.CharField(null=True, description="the file's name in the exports folder (KOMUNIKATOR_EXPORT_DIR), once written", max_length=200)),
                ('error', fields.TextField(null=True, unique=False)),
                ('lease_until', fields.DatetimeField(null=True, description='a worker writing it holds it until then (a lapsed lease lets another start again)', auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(null=True, description='the file is deleted, and the link answers 410, from then on', auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'list_exports', 'app': 'komunikator', 'indexes': [Index(fields=['tenant_id', 'status']), Index(fields=['tenant_id', 'requester_id'])], 'pk_attr': 'id', 'table_description': "A big export of a universal list's view, written by a background job for the user who asked for it."},
            bases=['Model'],
        ),
    ]
