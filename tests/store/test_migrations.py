"""The migration chain on an empty database: applies, is idempotent, leaves indexes and triggers right."""

from __future__ import annotations

from tortoise import Tortoise
from tortoise.migrations.autodetector import MigrationAutodetector
from typer.testing import CliRunner

from komunikator.cli.app import app
from komunikator.engine.store import db
from komunikator.engine.store.extras import APPEND_ONLY_TABLES, expected_triggers, is_extra_table
from komunikator.engine.store.introspect import (
    MIGRATIONS_TABLE,
    IndexInfo,
    TriggerInfo,
    indexes,
    tables,
    triggers,
)
from komunikator.engine.store.models import ALL_MODELS, Tenant
from komunikator.engine.store.runner import StoreRunner


def _plugin_tables() -> set[str]:
    """The tables of the installed plugins' models (each plugin is a Tortoise app of its own)."""
    import importlib
    import inspect

    from tortoise.models import Model

    tables: set[str] = set()
    for _app, module_name, _migrations in db.plugin_apps():
        module = importlib.import_module(module_name)
        tables |= {obj._meta.db_table for obj in vars(module).values()
                   if inspect.isclass(obj) and issubclass(obj, Model) and obj.__module__ == module.__name__}
    return tables


MODEL_TABLES = {model._meta.db_table for model in ALL_MODELS} | _plugin_tables()


async def _read_schema() -> tuple[list[str], list[IndexInfo], list[TriggerInfo]]:
    connection = db.connection()
    return await tables(connection), await indexes(connection), await triggers(connection)


async def _triggers() -> list[TriggerInfo]:
    return await triggers(db.connection())


async def _execute(sql: str) -> None:
    await db.connection().execute_script(sql)


def _schema(url: str) -> tuple[list[str], list[IndexInfo], list[TriggerInfo]]:
    with StoreRunner(url) as runner:
        return runner.run(_read_schema())


def test_upgrade_from_empty_creates_every_table_then_is_idempotent(empty_database_url: str) -> None:
    with StoreRunner(empty_database_url, init=False) as runner:
        first = runner.run(db.upgrade(empty_database_url))
        again = runner.run(db.upgrade(empty_database_url))
        status = runner.run(db.status(empty_database_url))
    assert first and first[0] == "0001_initial"
    assert again == []
    assert status and all(state.applied for state in status)
    found, _, trigger_list = _schema(empty_database_url)
    assert {t for t in found if not is_extra_table(t)} == MODEL_TABLES | {MIGRATIONS_TABLE}
    # the second upgrade recreated the triggers rather than duplicating or losing them
    assert [(t.table, t.name) for t in trigger_list] == expected_triggers(db.dialect(empty_database_url))


def test_status_before_upgrade_lists_pending(empty_database_url: str) -> None:
    with StoreRunner(empty_database_url, init=False) as runner:
        status = runner.run(db.status(empty_database_url))
    assert status[0].name == "0001_initial"
    assert not any(s.applied for s in status)


def test_every_index_leads_with_tenant_id(database_url: str) -> None:
    _, index_list, _ = _schema(database_url)
    tenant_owned = MODEL_TABLES - {Tenant._meta.db_table}
    checked = [ix for ix in index_list if ix.table in tenant_owned]
    assert len(checked) >= len(tenant_owned)  # every table has at least one
    wrong = [f"{ix.table}.{ix.name}{ix.columns}" for ix in checked if ix.columns[0] != "tenant_id"]
    assert wrong == []
    # the unique rules of the data model exist, tenant first
    uniques = {(ix.table, ix.columns) for ix in index_list if ix.unique}
    for expected in [
        ("users", ("tenant_id", "email")),
        ("tickets", ("tenant_id", "number")),
        ("ticket_counters", ("tenant_id", "year")),
        ("definition_versions", ("tenant_id", "version")),
        ("idempotency_keys", ("tenant_id", "key")),
        ("outbox", ("tenant_id", "dedupe_key")),
        ("tasks", ("tenant_id", "ticket_id", "key")),
    ]:
        assert expected in uniques
    assert ("tenants", ("slug",)) in uniques


def test_append_only_triggers_exist(database_url: str) -> None:
    _, _, trigger_list = _schema(database_url)
    assert {t.table for t in trigger_list} >= set(APPEND_ONLY_TABLES)
    assert [(t.table, t.name) for t in trigger_list] == expected_triggers(db.dialect(database_url))


def test_upgrade_recreates_a_dropped_trigger(database_url: str, db_backend: str) -> None:
    drop = (
        "DROP TRIGGER audit_events_no_delete"
        if db_backend == "sqlite"
        else "DROP TRIGGER audit_events_append_only ON audit_events"
    )
    with StoreRunner(database_url) as runner:
        before = runner.run(_triggers())
        runner.run(_execute(drop))
        assert len(runner.run(_triggers())) == len(before) - 1
        assert runner.run(db.upgrade(database_url)) == []
        assert runner.run(_triggers()) == before


def test_cli_db_upgrade_and_status(empty_database_url: str) -> None:
    cli = CliRunner()
    pending = cli.invoke(app, ["db", "status", "--url", empty_database_url])
    assert pending.exit_code == 0, pending.output
    assert "[ ] 0001_initial" in pending.output
    result = cli.invoke(app, ["db", "upgrade", "--url", empty_database_url])
    assert result.exit_code == 0, result.output
    assert "applied 0001_initial" in result.output
    again = cli.invoke(app, ["db", "upgrade", "--url", empty_database_url])
    assert again.exit_code == 0 and "nothing to apply" in again.output
    done = cli.invoke(app, ["db", "status", "--url", empty_database_url])
    assert "[x] 0001_initial" in done.output and "up to date" in done.output


async def _pending_migrations() -> list[str]:
    apps = Tortoise.apps
    assert apps is not None
    detector = MigrationAutodetector(apps, db.tortoise_config("sqlite://:memory:")["apps"])
    return [writer.name for writer in await detector.changes()]


def test_models_and_migrations_agree() -> None:
    # a model change without its migration: run `tortoise … makemigrations` (engine/store/migrations/README.md)
    with StoreRunner("sqlite://:memory:") as runner:
        assert runner.run(_pending_migrations()) == []


def test_core_migrations_form_one_chain() -> None:
    """The core migrations are one line: one start, no fork (two changes landing at once must be chained)."""
    import ast
    from pathlib import Path

    folder = Path(db.__file__).parent / "migrations"
    names = sorted(path.stem for path in folder.glob("[0-9][0-9][0-9][0-9]_*.py"))
    parents: dict[str, list[str]] = {}
    for name in names:
        tree = ast.parse((folder / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == "dependencies" for target in node.targets
            ):
                parents[name] = [dep[1] for dep in ast.literal_eval(node.value) if dep[0] == "komunikator"]
    roots = [name for name in names if not parents.get(name)]
    assert roots == [names[0]], f"only {names[0]} may start the chain, not {roots}"
    children: dict[str, list[str]] = {}
    for name in names:
        assert len(parents.get(name, [])) <= 1, f"{name} depends on several core migrations: {parents[name]}"
        for parent in parents.get(name, []):
            assert parent in names, f"{name} depends on {parent}, which does not exist"
            children.setdefault(parent, []).append(name)
    forks = {parent: kids for parent, kids in children.items() if len(kids) > 1}
    assert not forks, f"two migrations follow the same one (make one depend on the other): {forks}"
