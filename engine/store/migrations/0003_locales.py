from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('komunikator', '0002_attachments_search_backoff')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ReporterContact',
            name='locale',
            field=fields.CharField(null=True, max_length=16),
        ),
        ops.AddField(
            model_name='User',
            name='locale',
            field=fields.CharField(null=True, max_length=16),
        ),
    ]
