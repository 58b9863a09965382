from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    """The reports' task events of a period read by (tenant, at), not the whole history (#14, reports)."""

    dependencies = [('komunikator', '0017_addresses_districts')]  # the chain's head when written

    initial = False

    operations = [
        ops.AddIndex(
            model_name='TaskAssignment',
            index=Index(fields=['tenant_id', 'at']),
        ),
    ]
