"""`template_check`'s sample contexts have the shape delivery gives templates.

`komunikator check` renders every template against the samples; if they
drifted from `delivery.render.build_context` (a field added there, or
renamed), check would refuse good templates or pass bad ones.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.config.builtins import builtin_registry
from komunikator.engine.config.compiler import compile_tenant
from komunikator.engine.config.template_check import BY_NAME, DIGEST_TASK, VARIABLES, Use, render_problem, sample
from komunikator.engine.delivery import digest
from komunikator.engine.delivery.render import MessageSubject, build_context
from komunikator.engine.lists import jobs as list_jobs
from komunikator.engine.store.models import Task, Ticket

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)


def _tenant() -> CompiledTenant:
    return compile_tenant(REPO / "tenants" / "zgierz", REPO / "definitions", builtin_registry())


def test_samples_have_the_fields_delivery_fills() -> None:
    tenant = _tenant()
    category = next(iter(tenant.categories.values()))
    ticket = Ticket(number="ZG-2026-000001", category=category.name, process=category.process,
                    state=tenant.processes[category.process].entry, address="Długa 1", description="d",
                    created_at=NOW, due_at=NOW)
    task = Task(key="T1", unit=category.unit, due_at=NOW, title={"pl": "Zadanie"})
    payload = {"comment": "c", "message": {"text": "m", "sender_name": "s"},
               "digest": digest._digest(tenant, [digest.WaitingTask("ZG-2026-000001", "T1", category.unit,
                                                                    category.name, None, NOW, None)],
                                        1, date(2026, 3, 14), NOW, "https://x"),
               "data": {"id": 1}, "account": {"url": "https://x/konto/potwierdz/t", "email": "e@x.pl",
                                              "valid_hours": 48},
               "export": {"list_name": "Zgłoszenia", "rows": 12000, "format": "XLSX",
                          "url": "https://x/staff/exports/1", "expires_at": "15.03.2026 09:30", "attempts": 1}}
    context = build_context(tenant, "example.org", "pl", "Anna", MessageSubject(ticket, task, "Jan", payload))
    assert set(context) == {*VARIABLES, "event"}
    for name, fields in VARIABLES.items():
        assert set(context[name]) == set(fields), name
    assert set(context["digest"]["tasks"][0]) == set(DIGEST_TASK)
    filled = sample(Use("x", tuple(v for v in VARIABLES if v not in ("tenant", "recipient", "comment"))), filled=True)
    for name in VARIABLES:
        assert set(filled[name]) == set(context[name]), name


def test_templates_sent_by_name_match_delivery() -> None:
    assert digest.TEMPLATE in BY_NAME
    assert list_jobs.TEMPLATE in BY_NAME  # a big list export is ready (engine/lists/jobs.py)
    assert {"message_to_reporter", "message_to_unit"} <= set(BY_NAME)


def test_both_sides_of_a_condition_are_rendered() -> None:
    use = Use("a message", ("ticket",), ("task",))
    assert render_problem("{% if task is defined %}{{ task.title }}{% else %}{{ ticket.number }}{% endif %}",
                          use) is None
    # only reached when the optional variable is absent
    assert render_problem("{% if task is defined %}ok{% else %}{{ ticket.numbr }}{% endif %}", use) == (
        1, "unknown variable ticket.numbr; did you mean ticket.number?")
    # only reached when a value is empty
    assert render_problem("line\n{% if not ticket.address %}{{ ticket.adress }}{% endif %}", use) == (
        2, "unknown variable ticket.adress; did you mean ticket.address?")
    assert render_problem("{{ task.title }}", Use("a ticket message", ("ticket",))) == (
        1, "'task' is not available in a ticket message (it has: tenant, recipient, comment, ticket)")
