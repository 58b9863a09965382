from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    """Tickets remember the state before their current one: where a `to: $previous` transition leads (#11 item 9)."""

    dependencies = [('komunikator', '0007_rate_limits_email_confirmation')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Ticket',
            name='previous_state',
            field=fields.CharField(null=True, description='the state before the current one, where a `to: $previous` transition leads (migration 0009)', max_length=64),
        ),
    ]
