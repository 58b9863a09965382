from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

#: Tickets of one public status in the list engine's order `unit, -created_at` (ties by id): the lists sort
#: text in code point order, which PostgreSQL spells `COLLATE "C"` (engine/lists/query.py, `_sort_expression`),
#: and an index serves that order only in the same collation. SQLite compares text by code point anyway.
_CREATE = {
    "postgres": 'CREATE INDEX IF NOT EXISTS "tickets_list_status_unit_created" ON "tickets" '
                '("tenant_id", "public_status", "responsible_unit" COLLATE "C", "created_at" DESC, "id")',
    "sqlite": 'CREATE INDEX IF NOT EXISTS "tickets_list_status_unit_created" ON "tickets" '
              '("tenant_id", "public_status", "responsible_unit", "created_at" DESC, "id")',
}
_DROP = 'DROP INDEX IF EXISTS "tickets_list_status_unit_created"'


async def _create(_apps: Any, editor: Any) -> None:
    dialect = editor.client.capabilities.dialect
    await editor.client.execute_script(_CREATE["postgres" if dialect == "postgres" else "sqlite"])


async def _drop(_apps: Any, editor: Any) -> None:
    await editor.client.execute_script(_DROP)


class Migration(migrations.Migration):
    """A ticket list's page at depth, filtered by status and sorted by unit then newest, walks an index (#14).

    Hand-written: the index's column collation (`COLLATE "C"`) is not a thing Tortoise's `Index` can say,
    so it is not declared on the model either (the autodetector does not see it).
    """

    dependencies = [('komunikator', '0011_saved_views')]  # the chain's head when written

    initial = False

    operations = [
        ops.RunPython(_create, _drop),
    ]
