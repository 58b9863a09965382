"""Process timers and SLA escalation: the jobs that move tickets when time passes.

`fire_due_timers(registry, now=…)` is the job the Celery worker and the
embedded runner call (every tenant: due timers, then overdue escalations);
`fire_tenant_timers`, `escalate_overdue` and `overdue` are its parts, per
tenant. The decisions are the runtime's (`runtime.fire_timer`,
`runtime.escalate`); this package claims rows and writes outcomes.
"""

from komunikator.engine.timers.jobs import (
    ESCALATION_ACTIONS,
    OverdueItem,
    escalate_overdue,
    fire_due_timers,
    fire_tenant_timers,
    overdue,
)

__all__ = [
    "ESCALATION_ACTIONS",
    "OverdueItem",
    "escalate_overdue",
    "fire_due_timers",
    "fire_tenant_timers",
    "overdue",
]
