"""What the store raises; the service layer maps these to HTTP answers."""

from __future__ import annotations


class StoreError(Exception):
    """Base of the store's own errors."""


class NotFound(StoreError, LookupError):
    """No such row in this tenant (a row of another tenant is not found either)."""


class CrossTenant(StoreError, ValueError):
    """A row of one tenant was about to point at a row of another."""


class StaleVersion(StoreError):
    """The row changed since it was read (optimistic concurrency): reload and retry."""

    def __init__(self, what: str, expected: int) -> None:
        super().__init__(f"{what} is no longer at version {expected}: it was changed meanwhile")
        self.expected = expected


class Duplicate(StoreError):
    """A row with the same unique key exists already (an idempotent write that happened before)."""
