"""What the store raises; the service layer maps these to HTTP answers."""

from __future__ import annotations

from tortoise.exceptions import BaseORMException, OperationalError


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


#: The database answered an error (a missing table, a lost connection, a constraint): what commands report
#: as a database failure. Tortoise's base exception, named here so nothing outside the store imports Tortoise.
DatabaseError = BaseORMException
#: The database could not run the statement (not migrated, locked, gone).
DatabaseUnavailable = OperationalError
