"""Whether the configuration still knows a ticket's process, state and category.

A definition change may remove a state (or a category, or a whole process)
that tickets still sit in, until `komunikator db migrate-definitions`
moves them. Such a ticket can still be read; nothing may be done to it.
Every entry point that acts asks `unconfigured` first.
"""

from __future__ import annotations

from typing import Final, Literal

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime.outcome import Refusal
from komunikator.engine.runtime.views import TicketView

#: The refusal code (answered 409) for a ticket the configuration no longer fits.
UNKNOWN_DEFINITION: Final[Literal["unknown_definition"]] = "unknown_definition"


def unconfigured(tenant: CompiledTenant, ticket: TicketView) -> Refusal | None:
    """A refusal naming what the configuration lacks, or None when it knows the ticket's process, state, category."""
    process = tenant.processes.get(ticket.process)
    if process is None:
        what = f"process {ticket.process!r}"
    elif ticket.state not in process.states:
        what = f"state {ticket.state!r} of process {ticket.process!r}"
    elif ticket.category not in tenant.categories:
        what = f"category {ticket.category!r}"
    else:
        return None
    return Refusal(UNKNOWN_DEFINITION, f"the configuration no longer has {what}; nothing can be done to this "
                                       "ticket until `komunikator db migrate-definitions` moves it")
