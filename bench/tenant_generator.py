"""Generate a large, valid tenant plus a small library for the compile benchmark.

The tenant is meant to look like a big city's real configuration: a unit
hierarchy with external bodies, many categories spread over several files,
processes of 4–8 states with parallel tasks, timers, conditions with
arguments and reopening, the templates and notification rules they name, and
library entries picked, extended and overridden. Everything is deterministic
(a fixed seed), so two runs time the same input.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

SLUG = "benchcity"

#: Library processes (the rest are the tenant's own).
LIBRARY_PROCESSES = 3
#: Library categories (the tenant picks some, extends one).
LIBRARY_CATEGORIES = 8
#: Categories per tenant file (`categories/<group>.yaml`).
CATEGORIES_PER_FILE = 40

_GROUPS = (
    "roads", "greenery", "waste", "lighting", "water", "transport", "order",
    "animals", "buildings", "snow", "noise", "parks", "signs", "cycling", "other",
)
_WORDS = (
    "dziura", "latarnia", "kosz", "drzewo", "znak", "chodnik", "graffiti", "wrak",
    "studzienka", "przystanek", "ławka", "hałas", "pies", "śnieg", "lód", "kałuża",
)


@dataclass(frozen=True)
class Sizes:
    """How big the generated tenant is."""

    categories: int = 300
    units: int = 40
    processes: int = 10


@dataclass(frozen=True)
class Generated:
    """Where the generated folders are and what they hold."""

    tenant_dir: Path
    library_dir: Path
    files: tuple[Path, ...]
    sizes: Sizes


def _text(pl: str, en: str) -> dict[str, str]:
    return {"pl": pl, "en": en}


def _units(count: int) -> tuple[dict[str, Any], list[str], list[str]]:
    """A hierarchy: office → dispatch + departments → teams; a few external bodies."""
    count = max(count, 6)
    units: dict[str, Any] = {
        "office": {"name": _text("Urząd Miasta", "City office")},
        "dispatch": {"name": _text("Biuro Obsługi Mieszkańców", "Dispatch"), "parent": "office",
                     "email": "bom@benchcity.example.pl"},
    }
    external_count = max(2, count // 8)
    internal_count = count - 2 - external_count
    departments = max(1, internal_count // 4)
    internal: list[str] = []
    for d in range(departments):
        name = f"dept_{d:02d}"
        units[name] = {"name": _text(f"Wydział {d}", f"Department {d}"), "parent": "office",
                       "phone": f"+48 42 000 {d:02d} 00"}
        internal.append(name)
    for t in range(internal_count - departments):
        name = f"team_{t:02d}"
        units[name] = {"name": _text(f"Referat {t}", f"Team {t}"), "parent": f"dept_{t % departments:02d}"}
        internal.append(name)
    external: list[str] = []
    for e in range(external_count):
        name = f"ext_{e:02d}"
        entry: dict[str, Any] = {"name": _text(f"Spółka miejska {e}", f"Municipal company {e}"), "external": True}
        if e % 2:
            entry |= {"accounts": False, "email": f"zgloszenia{e}@company{e}.example.pl"}
        units[name] = entry
        external.append(name)
    return units, internal, external


def _process(index: int, rng: random.Random, internal: list[str], external: list[str]) -> dict[str, Any]:
    """A process of 4–8 states: optional waiting state, a chain of task steps, two final states."""
    n_states = 4 + index % 5
    waiting = n_states >= 6
    steps = [f"step_{i}" for i in range(n_states - 3 - int(waiting))]
    states: dict[str, Any] = {"new": {"public": "open", "label": _text("Przyjęte", "Received")}}
    if waiting:
        states["waiting"] = {"public": "open", "label": _text("Czeka na mieszkańca", "Waiting for the resident"),
                             "sla": "paused"}
    for i, step in enumerate(steps):
        states[step] = {"public": "open", "label": _text(f"Etap {i + 1}", f"Step {i + 1}"),
                        "on_withdraw": "new" if i == 0 else steps[i - 1]}
    states["resolved"] = {"public": "closed", "final": True, "label": _text("Załatwione", "Resolved")}
    states["rejected"] = {"public": "closed", "final": True, "label": _text("Odrzucone", "Rejected")}

    def tasks(k: int) -> list[dict[str, Any]]:
        # parallel work: several tasks created by one transition
        out: list[dict[str, Any]] = [{"create_task": {"unit": "category.unit", "due": "category.sla.resolve"}}]
        for _ in range(k - 1):
            unit = rng.choice(internal + external)
            out.append({"create_task": {"unit": f"unit:{unit}", "due": f"{rng.randint(2, 10)} business days",
                                        "title": _text("Pomoc", "Assist")}})
        return out

    first = steps[0]
    transitions: dict[str, Any] = {
        "verify": {
            "from": "new", "to": first, "by": ["dispatcher", "unit_head@unit:dispatch"],
            "label": _text("Zweryfikuj", "Verify"),
            "effects": [*tasks(1 + index % 3), {"notify": {"to": "reporter", "template": f"p{index}_accepted"}},
                        {"set_due": "category.sla.resolve"}],
        },
        "fast_track": {
            "from": "new", "to": first, "automatic": True,
            "when": [{"priority_in": ["urgent"]}, "reporter_has_contact"],
            "effects": [*tasks(1), {"set_priority": "urgent"}],
        },
        "reject": {
            "from": ["new", *steps], "to": "rejected", "by": ["dispatcher"], "requires": ["public_comment"],
            "effects": [{"cancel_tasks": "rejected"},
                        {"notify": {"to": ["reporter", "followers"], "template": f"p{index}_rejected",
                                    "channels": ["email", "push"]}}],
        },
    }
    if waiting:
        transitions["ask_reporter"] = {"from": "new", "to": "waiting", "by": ["dispatcher"],
                                       "requires": ["public_comment"],
                                       "effects": [{"notify": {"to": "reporter", "template": f"p{index}_question"}}]}
        transitions["answered"] = {"from": "waiting", "to": "new", "by": ["reporter", "dispatcher"]}
    for i, step in enumerate(steps[1:], start=1):
        transitions[f"advance_{i}"] = {
            "from": steps[i - 1], "to": step, "automatic": True, "when": "all_tasks_done",
            "effects": tasks(1 + (index + i) % 2),
        }
    transitions["resolve"] = {
        "from": steps[-1], "to": "resolved", "automatic": True, "when": "all_tasks_done",
        "effects": [{"notify": {"to": ["reporter", "followers", "role:unit_head@responsible_unit"],
                                "template": f"p{index}_resolved"}}],
    }
    transitions["close_by_hand"] = {
        "from": steps, "to": "resolved", "by": ["unit_head@responsible_unit", "worker@task_unit"],
        "when": {"attribute_equals": {"attribute": "size", "value": "small"}},
        "requires": ["internal_comment"], "effects": [{"cancel_tasks": {"reason": "closed by hand"}}],
    }
    transitions["reopen"] = {
        "from": "resolved", "to": first, "by": ["dispatcher"],
        "when": {"resolved_within": f"{rng.choice([14, 30, 60])} days"}, "requires": ["public_comment"],
        "effects": tasks(1),
    }
    timers: dict[str, dict[str, Any]] = {
        "remind": {"state": "new", "after": "1 business day",
                   "effects": [{"notify": {"to": "role:unit_head@unit:dispatch", "template": f"p{index}_waiting"}}]},
        "give_up": {"state": steps[-1], "after": f"{rng.randint(20, 40)} days", "fire": "reject"},
    }
    if waiting:
        timers["resume"] = {"state": "waiting", "after": "14 days", "fire": "answered"}
    return {"name": _text(f"Proces {index}", f"Process {index}"), "states": states,
            "transitions": transitions, "timers": timers}


def _templates(index: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in ("accepted", "rejected", "question", "resolved", "waiting"):
        out[f"p{index}_{kind}"] = {
            "subject": _text(f"Zgłoszenie {{{{ ticket.number }}}}: {kind}",
                             f"Report {{{{ ticket.number }}}}: {kind}"),
            "text": _text(
                "Dzień dobry,\n{% if comment.text %}{{ comment.text }}\n{% endif %}"
                "Status: {{ ticket.status_label }}.\n",
                "Hello,\n{% if comment.text %}{{ comment.text }}\n{% endif %}"
                "Status: {{ ticket.status_label }}.\n",
            ),
            "push": "{{ ticket.number }}: {{ ticket.status_label }}",
        }
    return out


def _attributes(rng: random.Random) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "size": {"type": "choice", "label": _text("Rozmiar", "Size"), "required": True, "default": "small",
                 "values": {"small": _text("mały", "small"), "large": _text("duży", "large")}},
    }
    if rng.random() < 0.5:
        attrs["count"] = {"type": "number", "label": _text("Ile", "How many"), "min": 1, "max": 100, "default": 1}
    if rng.random() < 0.5:
        attrs["plate"] = {"type": "string", "label": _text("Numer", "Number"), "max_length": 12,
                          "staff_only": True}
    if rng.random() < 0.3:
        attrs["seen_at"] = {"type": "datetime", "label": _text("Kiedy", "When")}
    if rng.random() < 0.3:
        attrs["kinds"] = {"type": "multichoice", "label": _text("Rodzaj", "Kind"),
                          "values": {w: _text(w, w) for w in rng.sample(_WORDS[:6], 3)}}
    return attrs


def _category(i: int, rng: random.Random, group: str, process: str, unit: str) -> dict[str, Any]:
    word = _WORDS[i % len(_WORDS)]
    return {
        "name": _text(f"{word.capitalize()} {i}", f"Item {i}"),
        "description": _text(f"Zgłoś problem: {word}", f"Report a problem: {word}"),
        "group": group,
        "process": process,
        "unit": unit,
        "priority": rng.choice(["low", "normal", "normal", "high", "urgent"]),
        "sla": {"verify": "2 business days", "resolve": f"{rng.randint(3, 30)} business days",
                "by_priority": {"urgent": {"resolve": "1 business day"}}},
        "intake": rng.choice([["public", "staff"], ["staff"], ["public"]]),
        "public_map": rng.choice(["shown", "shown", "blurred", "hidden"]),
        "photo": rng.choice(["optional", "required", "none"]),
        "keywords": rng.sample(_WORDS, 3),
        "attributes": _attributes(rng),
    }


def _dump(path: Path, data: dict[str, Any], comment: str) -> Path:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = None  # leaf collections inline, as people write them
    yaml.allow_unicode = True
    yaml.width = 110
    yaml.representer.sort_base_mapping_type_on_output = False  # keep the order written here
    buf = io.StringIO()
    yaml.dump(data, buf)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# {comment}\n{buf.getvalue()}", encoding="utf-8")
    return path


def generate(root: Path, sizes: Sizes | None = None, seed: int = 2026) -> Generated:
    """Write `root/definitions/` (library) and `root/tenants/benchcity/` (tenant)."""
    sizes = sizes or Sizes()
    rng = random.Random(seed)
    library_dir = root / "definitions"
    tenant_dir = root / "tenants" / SLUG
    files: list[Path] = []
    units, internal, external = _units(sizes.units)

    n_lib = min(LIBRARY_PROCESSES, max(1, sizes.processes // 3))
    processes = {f"proc_{i:02d}": _process(i, rng, internal, external) for i in range(sizes.processes)}
    names = list(processes)
    lib_processes = {n: processes.pop(n) for n in names[:n_lib]}
    # Library processes name tenant units (`unit:team_03`): references are
    # checked after the overlay, against the merged configuration.
    lib_templates: dict[str, Any] = {}
    for i in range(n_lib):
        lib_templates |= _templates(i)
    tenant_templates: dict[str, Any] = {}
    for i in range(n_lib, sizes.processes):
        tenant_templates |= _templates(i)

    groups = _GROUPS[: max(1, min(len(_GROUPS), sizes.categories // 20))]
    lib_cats = {
        f"lib_{w}": _category(i, rng, groups[i % len(groups)], names[i % n_lib], "dispatch")
        for i, w in enumerate(_WORDS[:LIBRARY_CATEGORIES])
    }
    files.append(_dump(library_dir / "roles.yaml", {
        "roles": {
            "dispatcher": {"name": _text("Dyspozytor", "Dispatcher"), "sees": "all", "edits_tickets": True},
            "unit_head": {"name": _text("Kierownik", "Head of unit"), "sees": "unit", "manages_users": True},
            "worker": {"name": _text("Pracownik", "Worker"), "sees": "tasks"},
        },
        "category_groups": {g: {"name": _text(g, g), "order": i} for i, g in enumerate(groups)},
    }, "library: roles and groups"))
    files.append(_dump(library_dir / "processes.yaml", {"processes": lib_processes},
                       "library: standard processes"))
    files.append(_dump(library_dir / "templates.yaml", {"templates": lib_templates}, "library: templates"))
    files.append(_dump(library_dir / "categories.yaml", {"categories": lib_cats}, "library: categories"))

    files.append(_dump(tenant_dir / "tenant.yaml", {"tenant": {
        "slug": SLUG, "name": _text("Miasto Testowe", "Bench City"), "number_prefix": "BC",
        "hosts": ["benchcity.example.pl"], "locales": ["pl", "en"],
        "map": {"center": [51.85, 19.40], "zoom": 13,
                "bounds": {"south": 51.8, "west": 19.3, "north": 51.9, "east": 19.5}},
        "branding": {"primary_color": "#1f5fa8"},
        "contact": {"email": "um@benchcity.example.pl", "phone": "+48 42 000 00 00"},
        "days_off": [{"date": "2026-05-02", "reason": "za święto 15 sierpnia"}],
    }}, "the city"))
    files.append(_dump(tenant_dir / "org.yaml", {
        "units": units,
        "roles": {"auditor": {"name": _text("Audytor", "Auditor"), "sees": "all"},
                  "worker": {"sees": "unit"}},  # overrides one key of the library role
    }, "organisation"))
    overrides: dict[str, Any] = {
        names[0]: {"transitions": {"reopen": {"when": {"resolved_within": "45 days"}}},
                   "states": {"rejected": {"label": _text("Odrzucone przez BOM", "Rejected by dispatch")}}},
    }
    if n_lib > 1:
        overrides[names[1]] = {"name": _text("Naprawa (miasto)", "Repair (city)")}
    files.append(_dump(tenant_dir / "processes" / "own.yaml", {"processes": processes}, "the city's processes"))
    files.append(_dump(tenant_dir / "processes" / "overrides.yaml", {"processes": overrides},
                       "changes to library processes"))
    files.append(_dump(tenant_dir / "templates.yaml", {"templates": tenant_templates}, "messages"))
    files.append(_dump(tenant_dir / "notifications.yaml", {"notifications": {
        "staff_task_assigned": {"on": "task_assigned", "to": ["task_unit"], "template": "p0_accepted",
                                "channels": ["email", "inbox"]},
        "overdue": {"on": "ticket_overdue", "to": ["role:unit_head@responsible_unit", "unit:dispatch"],
                    "template": "p0_waiting", "categories": ["cat_000", "cat_001"]},
        "public_comment": {"on": "comment_public", "to": "followers", "template": "p0_resolved",
                           "channels": ["push", "inbox"]},
    }}, "notification rules"))

    all_processes = names
    picked: dict[str, Any] = {name: {"unit": internal[i % len(internal)]} for i, name in enumerate(list(lib_cats)[:4])}
    picked["street_hole"] = {"extends": next(iter(lib_cats)), "unit": internal[0],
                             "name": _text("Dziura (ulica)", "Street hole")}
    own_count = max(0, sizes.categories - len(picked))
    categories = {
        f"cat_{i:03d}": _category(
            i, rng, groups[i % len(groups)], all_processes[i % len(all_processes)], internal[i % len(internal)]
        )
        for i in range(own_count)
    }
    files.append(_dump(tenant_dir / "categories" / "library.yaml", {"categories": picked},
                       "categories taken from the library"))
    chunk = list(categories.items())
    for start in range(0, len(chunk), CATEGORIES_PER_FILE):
        part = dict(chunk[start : start + CATEGORIES_PER_FILE])
        files.append(_dump(tenant_dir / "categories" / f"part_{start // CATEGORIES_PER_FILE:02d}.yaml",
                           {"categories": part}, "categories"))
    return Generated(tenant_dir, library_dir, tuple(files), sizes)
