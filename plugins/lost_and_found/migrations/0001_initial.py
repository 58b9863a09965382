from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('komunikator', '0005_unit_list_index')]

    initial = True

    operations = [
        ops.CreateModel(
            name='FoundItem',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('komunikator.Tenant', source_field='tenant_id', db_constraint=True,
                                                  to_field='id', related_name='found_items',
                                                  on_delete=OnDelete.RESTRICT)),
                ('description', fields.CharField(max_length=500)),
                ('kind', fields.CharField(max_length=64)),
                ('found_on', fields.DateField()),
                ('found_at', fields.CharField(max_length=300)),
                ('kept_until', fields.DateField()),
                ('status', fields.CharField(default='kept', max_length=16)),
                ('value', fields.IntField(null=True)),
                ('ticket', fields.ForeignKeyField('komunikator.Ticket', source_field='ticket_id', null=True,
                                                  db_constraint=True, to_field='id', related_name='found_items',
                                                  on_delete=OnDelete.SET_NULL)),
                ('returned_to', fields.CharField(null=True, max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'lost_and_found_items', 'app': 'lost_and_found',
                     'indexes': [Index(fields=['tenant_id', 'status', 'kept_until'])], 'pk_attr': 'id',
                     'table_description': 'A thing somebody found and handed to the office, kept until its owner comes or its time runs out.'},
            bases=['Model'],
        ),
    ]
