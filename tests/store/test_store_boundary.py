"""Only engine/store queries the models: everything else goes through a TenantScope.

Tortoise has no global tenant filter, so a stray `Ticket.filter(...)` in a
route would read every city's tickets. This test parses the source tree and
fails on any class-level query method of a model used outside engine/store.
"""

from __future__ import annotations

import ast
import inspect

from tortoise.models import Model

from komunikator.engine.settings import REPO_ROOT
from komunikator.engine.store import models

STORE_PACKAGE = "komunikator.engine.store"
SCANNED = ("engine", "web", "cli", "plugins")
ALLOWED = REPO_ROOT / "engine" / "store"
#: Tortoise's class-level query methods (Model.<name>).
QUERY_METHODS = frozenset({
    "all", "annotate", "bulk_create", "bulk_update", "create", "earliest", "exclude", "exists",
    "fetch_for_list", "filter", "first", "get", "get_or_create", "get_or_none", "in_bulk", "latest",
    "raw", "select_for_update", "update_or_create",
})
MODEL_NAMES = frozenset(
    name for name, obj in vars(models).items()
    if inspect.isclass(obj) and issubclass(obj, Model) and obj is not Model
)


def violations(source: str, filename: str = "<src>") -> list[str]:
    """`file:line: Model.method` for every direct model query in `source`."""
    tree = ast.parse(source, filename)
    model_aliases: set[str] = set()
    module_aliases: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(STORE_PACKAGE):
            for alias in node.names:
                if alias.name in MODEL_NAMES:
                    model_aliases.add(alias.asname or alias.name)
                elif alias.name == "models":
                    module_aliases.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(STORE_PACKAGE) and alias.asname:
                    module_aliases.add(alias.asname)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and node.attr in QUERY_METHODS):
            continue
        target = node.value
        if isinstance(target, ast.Name) and target.id in model_aliases:
            found.append(f"{filename}:{node.lineno}: {target.id}.{node.attr}")
        elif isinstance(target, ast.Attribute) and target.attr in MODEL_NAMES:
            root = target.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and (root.id in module_aliases or root.id == "komunikator"):
                found.append(f"{filename}:{node.lineno}: {target.attr}.{node.attr}")
    return found


def test_the_checker_catches_direct_queries() -> None:
    source = """
from komunikator.engine.store.models import Ticket, User as U
from komunikator.engine.store import models as m
import komunikator.engine.store.models as mm
import komunikator.engine.store.models

async def bad(scope):
    await Ticket.filter(number="ZG-2026-000001")
    await U.get(id=1)
    await m.Task.all()
    await mm.Comment.create(body="x")
    await komunikator.engine.store.models.AuditEvent.get_or_none(id=1)

async def fine(scope, ticket):
    await scope.tickets().filter(state="new")
    await scope.get(Ticket, id=1)
    await ticket.save()
    Ticket.__name__
"""
    assert violations(source) == [
        "<src>:8: Ticket.filter",
        "<src>:9: U.get",
        "<src>:10: Task.all",
        "<src>:11: Comment.create",
        "<src>:12: AuditEvent.get_or_none",
    ]


def test_the_store_itself_would_be_caught() -> None:
    # the scope queries models directly, as it must: outside engine/store that is a finding
    scope_source = (ALLOWED / "scope.py").read_text(encoding="utf-8")
    assert "Tenant.get_or_none" in " ".join(violations(scope_source))


def test_nothing_outside_the_store_queries_models() -> None:
    found = []
    scanned = 0
    for folder in SCANNED:
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            if path.is_relative_to(ALLOWED):
                continue
            scanned += 1
            found += violations(path.read_text(encoding="utf-8"), str(path.relative_to(REPO_ROOT)))
    assert scanned > 10
    assert found == [], "query through TenantScope (engine/store/scope.py) instead:\n" + "\n".join(found)


def test_tortoise_stays_in_the_store() -> None:
    """Nothing outside engine/store imports Tortoise: transactions, errors and expressions come from the store.

    A plugin's own models and migrations are Tortoise declarations by nature, so
    `plugins/*/models.py` and `plugins/*/migrations/` may import it too.
    """
    found = []
    for folder in SCANNED:
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            if path.is_relative_to(ALLOWED) or path.name == "models.py" or "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
                names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                         else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
                if any(name == "tortoise" or name.startswith("tortoise.") for name in names):
                    found.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}")
    assert found == []
