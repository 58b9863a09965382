from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('komunikator', '0005_unit_list_index')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Timer',
            name='timer_index',
            field=fields.IntField(null=True, description='before migration 0006 timers were keyed by their position in a list; kept for those rows only'),
        ),
        ops.AddField(
            model_name='Timer',
            name='timer_name',
            field=fields.CharField(default='', max_length=64),
        ),
    ]
