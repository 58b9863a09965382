"""Transactions without Tortoise outside the store: `async with transaction():`.

Inside a transaction every query through a `TenantScope` runs on the
transaction's connection. Nested, a transaction is a savepoint: its failure
rolls back only what it wrote. A unique-key clash inside one surfaces as the
store's `Duplicate` (a write that is idempotent by key happened before), and
the database answering an error as `DatabaseError` — so nothing outside
`engine/store` needs Tortoise's exceptions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from komunikator.engine.store import db
from komunikator.engine.store.errors import Duplicate


@asynccontextmanager
async def transaction() -> AsyncIterator[None]:
    """One transaction (a savepoint when nested); committed when the block ends, rolled back if it raises."""
    try:
        async with in_transaction(db.CONNECTION):
            yield
    except IntegrityError as error:
        raise Duplicate(str(error)) from error


#: A nested `transaction()`, named for what it is used as: undo only this block's writes on failure.
savepoint = transaction
