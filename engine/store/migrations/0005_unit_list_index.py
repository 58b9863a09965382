from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('komunikator', '0004_login_failures')]

    initial = False

    operations = [
        ops.RemoveIndex(
            model_name='Ticket',
            name=None,
            fields=['tenant_id', 'responsible_unit', 'public_status'],
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['tenant_id', 'responsible_unit', 'public_status', 'created_at']),
        ),
    ]
