"""The plugin's table: the register of found items (its own Tortoise app, `lost_and_found`)."""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

#: What becomes of an item.
STATUSES = ("kept", "returned", "unclaimed")


class FoundItem(Model):
    """A thing somebody found and handed to the office, kept until its owner comes or its time runs out."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation = fields.ForeignKeyField(  # type: ignore[type-arg]
        "komunikator.Tenant", related_name="found_items", on_delete=fields.RESTRICT)
    description = fields.CharField(max_length=500)
    kind = fields.CharField(max_length=64)  # documents, keys, phone, bag, bicycle, other
    found_on = fields.DateField()
    found_at = fields.CharField(max_length=300)  # the place, as the finder said it
    kept_until = fields.DateField()
    status = fields.CharField(max_length=16, default="kept")
    value = fields.IntField(null=True)  # estimated, in PLN
    ticket: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(  # type: ignore[type-arg]
        "komunikator.Ticket", related_name="found_items", null=True, on_delete=fields.SET_NULL)
    returned_to = fields.CharField(max_length=200, null=True)
    created_at = fields.DatetimeField()
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        app = "lost_and_found"
        table = "lost_and_found_items"
        indexes = (Index(fields=("tenant_id", "status", "kept_until")),)
