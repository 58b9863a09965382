from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('komunikator', '0003_locales')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LoginFailure',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('komunikator.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='login_failures', on_delete=OnDelete.RESTRICT)),
                ('email', fields.CharField(max_length=254)),
                ('address', fields.CharField(null=True, max_length=64)),
                ('failed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'login_failures', 'app': 'komunikator', 'indexes': [Index(fields=['tenant_id', 'email', 'failed_at']), Index(fields=['tenant_id', 'address', 'failed_at'])], 'pk_attr': 'id', 'table_description': 'A refused login (wrong password or unknown e-mail), counted to slow down guessing.'},
            bases=['Model'],
        ),
    ]
