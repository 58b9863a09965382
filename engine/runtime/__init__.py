"""The engine's runtime: what a user may do now and what doing it means.

Pure functions over immutable views; the store applies the returned effects
in one transaction.
"""

from komunikator.engine.runtime.actions import allowed_actions, fire, settle, start
from komunikator.engine.runtime.calendar import WorkCalendar
from komunikator.engine.runtime.capabilities import Capabilities, TaskCapabilities, capabilities
from komunikator.engine.runtime.clock import escalate, fire_timer, remap_state
from komunikator.engine.runtime.moves import calendar_for
from komunikator.engine.runtime.outcome import Action, Outcome, Refusal, TaskAction
from komunikator.engine.runtime.tasks import allowed_task_actions, fire_task
from komunikator.engine.runtime.views import SYSTEM, Membership, TaskView, TicketView, UserView

__all__ = [
    "SYSTEM",
    "Action",
    "Capabilities",
    "Membership",
    "Outcome",
    "Refusal",
    "TaskAction",
    "TaskCapabilities",
    "TaskView",
    "TicketView",
    "UserView",
    "WorkCalendar",
    "allowed_actions",
    "allowed_task_actions",
    "calendar_for",
    "capabilities",
    "escalate",
    "fire",
    "fire_task",
    "fire_timer",
    "remap_state",
    "settle",
    "start",
]
