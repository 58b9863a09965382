"""The sections a tenant or library folder may contain, and their models."""

from __future__ import annotations

from pydantic import BaseModel

from komunikator.engine.schema.categories import Category, CategoryGroup
from komunikator.engine.schema.messages import NotificationRule, Template
from komunikator.engine.schema.org import Role, Unit
from komunikator.engine.schema.processes import Process
from komunikator.engine.schema.reports import Report
from komunikator.engine.schema.tenant import TenantConfig

#: Sections whose value is one object.
SINGLE_SECTIONS: dict[str, type[BaseModel]] = {"tenant": TenantConfig}

#: Sections whose value maps ids to objects; each entry is validated on its own
#: so that one broken entry does not hide the others.
ENTRY_SECTIONS: dict[str, type[BaseModel]] = {
    "units": Unit,
    "roles": Role,
    "category_groups": CategoryGroup,
    "categories": Category,
    "processes": Process,
    "templates": Template,
    "notifications": NotificationRule,
    "reports": Report,
}

#: Sections the shared library (`definitions/`) may hold.
LIBRARY_SECTIONS = (
    "roles", "category_groups", "categories", "processes", "templates", "notifications", "reports",
)

#: Overlay directives: keys that steer merging and are removed before validation.
DIRECTIVES = ("extends", "disabled")
