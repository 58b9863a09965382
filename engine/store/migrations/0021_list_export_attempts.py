from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    """Background list exports count their attempts: an unexpected failure is retried up to a bound."""

    dependencies = [('komunikator', '0020_list_exports')]  # the chain's head when written

    initial = False

    operations = [
        ops.AddField(
            model_name='ListExport',
            name='attempts',
            field=fields.IntField(default=0, description='how many times a worker started writing it (an unexpected failure is retried up to a bound)'),
        ),
    ]
