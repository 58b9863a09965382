"""`units:` and `roles:` — the office's structure."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from komunikator.engine.schema.base import Id, LocalizedText, Strict


class Open311Link(Strict):
    """An external unit's own Open311 GeoReport v2 server: its tasks are posted there and their status polled back.

    The api key never sits in YAML: it is read from an environment variable
    or from a file (a mounted secret) when a task is sent.
    """

    endpoint: str = Field(pattern=r"^https?://[^\s\"'<>]+$", max_length=400,
                          description="the server's base URL, e.g. https://zgloszenia.pgk.example.pl/open311/v2")
    api_key_env: str | None = Field(None, pattern=r"^[A-Z][A-Z0-9_]{0,99}$",
                                    description="the environment variable that holds the api key")
    api_key_file: str | None = Field(None, min_length=1, max_length=400,
                                     description="a file that holds the api key (e.g. a mounted secret)")
    jurisdiction_id: str | None = Field(None, max_length=100, description="sent when the server asks for one")
    services: dict[Id, str] = Field(default_factory=dict,
                                    description="the remote service_code for each of the city's categories")
    default_service: str | None = Field(None, max_length=64,
                                        description="the remote service_code for categories not in `services`")

    @model_validator(mode="after")
    def _one_key_and_a_service(self) -> Open311Link:
        if (self.api_key_env is None) == (self.api_key_file is None):
            raise ValueError("give the api key as exactly one of `api_key_env` or `api_key_file`")
        if not self.services and self.default_service is None:
            raise ValueError("map the categories to remote service codes: `services` and/or `default_service`")
        return self

    def service_for(self, category: str) -> str | None:
        """The remote service_code a task of `category` is posted as."""
        return self.services.get(category, self.default_service)


class Unit(Strict):
    """An organisational unit: a department, a team, or an external body."""

    name: LocalizedText
    parent: Id | None = Field(None, description="the unit this one belongs to")
    external: bool = Field(False, description="outside the office (city guard, a municipal company)")
    accounts: bool = Field(
        True,
        description="whether the unit's people log in; an external unit without accounts gets its tasks by e-mail",
    )
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = None
    open311: Open311Link | None = Field(
        None, description="an external unit reached through its own Open311 server: tasks are posted there")

    @model_validator(mode="after")
    def _open311_is_external(self) -> Unit:
        if self.open311 is not None and (not self.external or self.accounts):
            raise ValueError("a unit reached through `open311` is external without accounts "
                             "(external: true, accounts: false)")
        return self


#: The kinds of comment staff write: a note, a public update, a message to the reporter, to a unit.
CommentKind = Literal["internal", "public", "to_reporter", "to_unit"]
COMMENT_KINDS: tuple[CommentKind, ...] = ("internal", "public", "to_reporter", "to_unit")


class CommentRights(Strict):
    """Which comment kinds a role may add: while the ticket is open, and once it is closed."""

    open: list[CommentKind] = Field(
        default_factory=list, description="kinds the role may add while the ticket is open"
    )
    closed: list[CommentKind] = Field(
        default_factory=list, description="kinds the role may add to a closed ticket (usually none, or internal)"
    )


#: A permission a plugin adds (`lost_and_found.manage`); the compiler checks the plugin has it and is enabled.
PermissionName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")]


#: What may be done to a task (the engine's fixed task machine).
TaskActionName = Literal["take", "complete", "delegate", "withdraw"]
TASK_ACTION_NAMES: tuple[str, ...] = ("take", "complete", "delegate", "withdraw")


class Role(Strict):
    """A role a person holds in a unit (a membership is user × unit × role).

    What a member reads of a ticket is data too, safe by default: a role
    shows the reporter's contact, the office's internal comments, other
    units' tasks and the full history only if it says so.
    """

    name: LocalizedText
    sees: Literal["all", "unit", "tasks"] = Field(
        "unit",
        description="all: every ticket; unit: tickets with tasks or responsibility in the member's "
        "units (and their children); tasks: only tasks addressed to the member's unit",
    )
    manages_users: bool = Field(
        False,
        description="administers the city: creates and deactivates staff accounts, resets their passwords, "
        "grants and revokes memberships, reads the compiled configuration (/staff/admin) and handles GDPR "
        "requests; in any unit the membership is in",
    )
    edits_tickets: bool = Field(
        False, description="may edit a ticket's fields, reclassify it and mark duplicates (verification)"
    )
    handles_tasks: bool = Field(
        False, description="may take, complete, delegate and withdraw tasks of the member's units"
    )
    task_actions: list[TaskActionName] | None = Field(
        None,
        description="which of them, on tasks of the member's units: [take, complete] for a clerk, "
        "[take, complete, delegate, withdraw] for a head (default: all four with handles_tasks, none without)",
    )
    sees_reporter_contact: bool = Field(
        False, description="reads the reporter's name, e-mail and phone"
    )
    sees_internal_comments: bool = Field(
        False,
        description="reads internal notes and messages to the reporter or to other units (without it: public "
        "comments, its own, and those on or to its units' tasks)",
    )
    sees_other_tasks: bool = Field(
        False, description="reads the tasks of units other than the member's own (and their history)"
    )
    sees_full_history: bool = Field(
        False,
        description="reads every history entry (without it: state changes, its units' tasks and the comments "
        "it may read; no reasons or edits)",
    )
    comments: CommentRights = Field(
        default_factory=CommentRights, description="which comment kinds the role may add, on open and closed tickets"
    )
    permissions: list[PermissionName] = Field(
        default_factory=list,
        description="what the role may do in the city's plugins (`PLUGIN.PERMISSION`, e.g. lost_and_found.manage)",
    )

    @model_validator(mode="after")
    def _task_rights_agree(self) -> Role:
        if self.task_actions and "handles_tasks" in self.model_fields_set and not self.handles_tasks:
            raise ValueError("`task_actions` gives the role task rights; remove `handles_tasks: false`")
        return self

    @property
    def task_rights(self) -> frozenset[str]:
        """The task actions the role has on its units' tasks (`task_actions`, else the `handles_tasks` bundle)."""
        if self.task_actions is not None:
            return frozenset(self.task_actions)
        return frozenset(TASK_ACTION_NAMES) if self.handles_tasks else frozenset()
