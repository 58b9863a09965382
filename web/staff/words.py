"""The pages' words for the engine's names: actions, inputs, refusal codes, audit events, fields.

Every message is English in the code and translated by the catalogs (`N_` marks it for
extraction); the YAML's own labels (states, transitions, categories, units) come from the
tenant and are shown as the YAML writes them.
"""

from __future__ import annotations

from komunikator.web.staff.i18n import N_

BUILTIN_ACTIONS = {
    "reclassify": N_("Change the category"),
    "mark_duplicate": N_("Mark as a duplicate"),
    "set_priority": N_("Change the priority"),
}

TASK_ACTIONS = {
    "take": N_("Take"),
    "complete": N_("Complete"),
    "delegate": N_("Hand over"),
    "withdraw": N_("Withdraw"),
}

TASK_STATES = {
    "open": N_("waiting"),
    "in_progress": N_("in progress"),
    "done": N_("done"),
    "withdrawn": N_("withdrawn"),
    "cancelled": N_("cancelled"),
}

#: what each input of an action asks for
INPUTS = {
    "public_comment": N_("Public comment (the reporter reads it)"),
    "internal_comment": N_("Internal note"),
    "reason": N_("Reason"),
    "duplicate_of": N_("Number of the original report"),
    "unit": N_("Unit"),
    "priority": N_("Priority"),
    "category": N_("New category"),
    "to_unit": N_("Hand over to unit"),
    "to_user": N_("or to a person"),
    "comment": N_("Note (optional)"),
    "body": N_("Text"),
    "target_unit": N_("Unit (for a message to a unit)"),
    "visibility": N_("Kind"),
    "lat": N_("Latitude"),
    "lon": N_("Longitude"),
    "description": N_("Description"),
    "address": N_("Address"),
}

PRIORITIES = {"low": N_("low"), "normal": N_("normal"), "high": N_("high"), "urgent": N_("urgent")}

FIELDS = {
    "description": N_("Description"),
    "address": N_("Address"),
    "lat": N_("Latitude"),
    "lon": N_("Longitude"),
    "category": N_("Category"),
    "process": N_("Process"),
    "unit": N_("Unit"),
    "state": N_("Status"),
    "priority": N_("Priority"),
    "assignee": N_("Assignee"),
    "task": N_("Task"),
    "due_at": N_("Deadline"),
    "public_status": N_("Public status"),
}

#: the engine's refusal codes and the service's error codes, as a clerk reads them
REFUSALS = {
    "forbidden": N_("You may not do this on this report."),
    "not_available": N_("This is not possible in the report's current state."),
    "condition_failed": N_("The conditions for this step are not met yet."),
    "missing_input": N_("Fill in the required field."),
    "invalid_input": N_("A value is not valid."),
    "unknown_action": N_("This action does not exist."),
    "stale_version": N_("Someone else changed this report meanwhile. The page shows its current state: "
                        "check it and repeat your action."),
    "not_found": N_("The report was not found."),
    "outside_tenant": N_("The location lies outside the city."),
    "missing_location": N_("Give a location or an address."),
    "unknown_attribute": N_("This category has no such attribute."),
    "missing_attribute": N_("This attribute is required."),
    "invalid_attribute": N_("The attribute's value is not valid."),
    "csrf": N_("The form has expired. Reload the page and try again."),
}

#: audit events other than transitions (a transition's event is its own name)
EVENTS = {
    "submit": N_("Report received"),
    "edit": N_("Report edited"),
    "reclassify": N_("Category changed"),
    "set_priority": N_("Priority changed"),
    "comment": N_("Comment"),
    "task_create": N_("Task created"),
    "task_take": N_("Task taken"),
    "task_complete": N_("Task completed"),
    "task_delegate": N_("Task handed over"),
    "task_withdraw": N_("Task withdrawn"),
    "task_cancel": N_("Task cancelled"),
    "attachment_add": N_("Photo added"),
    "attachment_hide": N_("Photo hidden"),
    "attachment_unhide": N_("Photo restored"),
    "sla_resume": N_("Deadline clock resumed"),
    "timer_cancelled": N_("Timer cancelled"),
    "mark_duplicate": N_("Marked as a duplicate"),
    "task_withdrawn": N_("Returned after a withdrawn task"),
    "task_overdue": N_("Task overdue"),
    "ticket_overdue": N_("Report overdue"),
    "open311_sent": N_("Sent to the unit's Open311 system"),
}

#: events whose `state` is a task's state (the others' is the ticket's)
TASK_EVENTS = frozenset({"task_create", "task_take", "task_complete", "task_delegate", "task_withdraw", "task_cancel",
                         "task_overdue"})

#: the reasons the engine itself writes when it cancels tasks (a person's reason is shown as written)
ENGINE_REASONS = {
    "ticket rejected": N_("the report was rejected"),
    "the ticket moved to another process": N_("the report moved to another process"),
    "the ticket is a duplicate": N_("the report is a duplicate"),
    "the ticket was closed": N_("the report was closed"),
    "cancelled by the process": N_("cancelled by the process"),
    "task %(task)s was withdrawn": N_("task %(task)s was withdrawn"),
}

VISIBILITY = {
    "internal": N_("Internal"),
    "public": N_("Public"),
    "to_reporter": N_("Message to the reporter"),
    "to_unit": N_("Message to a unit"),
}
