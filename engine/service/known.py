"""Names a ticket carries that the configuration may no longer know, shown as such instead of failing.

A ticket keeps the process, state, category and units it was created
under; after a definition change (until `komunikator db
migrate-definitions` moves it) some may be gone. Reads show them as unknown
(`state_known: false`, a label that says so) and offer no actions; they
never fail.
"""

from __future__ import annotations

from komunikator.engine.compiled import CompiledState, CompiledTenant


def state_of(tenant: CompiledTenant, process: str, state: str) -> CompiledState | None:
    """The state's definition, or None when the configuration no longer has it (or its process)."""
    compiled = tenant.processes.get(process)
    return compiled.states.get(state) if compiled is not None else None


def state_label(tenant: CompiledTenant, process: str, state: str) -> dict[str, str]:
    """The state's label per language; for an unknown state, a label saying so with its name."""
    found = state_of(tenant, process, state)
    if found is not None:
        return dict(found.label)
    return {"pl": f"Nieznany stan ({state})", "en": f"Unknown state ({state})"}


def category_name(tenant: CompiledTenant, category: str) -> dict[str, str]:
    """The category's name per language; for an unknown category, a name saying so."""
    found = tenant.categories.get(category)
    if found is not None:
        return {str(lang): text for lang, text in found.spec.name.items()}
    return {"pl": f"Nieznana kategoria ({category})", "en": f"Unknown category ({category})"}

