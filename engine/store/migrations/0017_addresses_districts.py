from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    """The city's address points (PRG import) and the district a ticket's pin lies in (#15, addresses and boundaries)."""

    dependencies = [('komunikator', '0014_open311')]  # the chain's head when written (0018 came before 0014)

    initial = False

    operations = [
        ops.CreateModel(
            name='AddressPoint',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('komunikator.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='address_points', on_delete=OnDelete.RESTRICT)),
                ('place', fields.CharField(max_length=100)),
                ('street', fields.CharField(null=True, max_length=150)),
                ('number', fields.CharField(max_length=20)),
                ('postcode', fields.CharField(null=True, max_length=6)),
                ('street_key', fields.CharField(max_length=150)),
                ('number_key', fields.CharField(max_length=20)),
                ('lat', fields.FloatField()),
                ('lon', fields.FloatField()),
                ('district', fields.CharField(null=True, description='the district (tenant.geography) the point lies in, when the city has districts', max_length=64)),
            ],
            options={'table': 'address_points', 'app': 'komunikator', 'indexes': [Index(fields=['tenant_id', 'street_key', 'number_key']), Index(fields=['tenant_id', 'lat'])], 'pk_attr': 'id', 'table_description': 'An address of the city (street, house number, postcode, place) with its point, from its register.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Ticket',
            name='district',
            field=fields.CharField(null=True, description='the district of the city (tenant.geography) the pin lies in, set on intake and when the pin moves (0017)', max_length=64),
        ),
    ]
