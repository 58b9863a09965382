from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    """Staff accounts (#13): a temporary password set by an administrator must be changed before anything else."""

    dependencies = [('komunikator', '0021_list_export_attempts')]  # the chain's head when written

    initial = False

    operations = [
        ops.AddField(
            model_name='User',
            name='must_change_password',
            field=fields.BooleanField(default=False, description='an administrator gave them a temporary password: the staff pages wait until they choose their own'),
        ),
    ]
