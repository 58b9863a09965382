from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    """Address points keep the register's identifier (PRG `PA_IIP_IDENTYFIKATOR`): Open311's `address_id` (#16)."""

    dependencies = [('komunikator', '0022_must_change_password')]  # the chain's head when written

    initial = False

    operations = [
        ops.AddField(
            model_name='AddressPoint',
            name='ref',
            field=fields.CharField(null=True, description='the identifier of the point in the register (PRG PA_IIP_IDENTYFIKATOR), kept across imports: Open311 address_id', max_length=100),
        ),
        ops.AddIndex(
            model_name='AddressPoint',
            index=Index(fields=['tenant_id', 'ref']),
        ),
    ]
