"""Errors the service layer reports; the web layer turns them into JSON answers."""

from __future__ import annotations

from typing import Any

from komunikator.engine.runtime.outcome import Refusal

_REFUSAL_STATUS = {
    "forbidden": 403,
    "not_available": 409,
    "condition_failed": 409,
    "stale_timer": 409,
    "unknown_definition": 409,  # a definition change left the ticket behind (runtime.configured)
    "missing_input": 422,
    "invalid_input": 422,
    "unknown_action": 422,
}


class ServiceError(Exception):
    """A request the service refuses: HTTP-like status, a code, a precise message."""

    def __init__(
        self, status: int, code: str, message: str, *, field: str | None = None, details: Any = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.details = details


def refused(refusal: Refusal) -> ServiceError:
    """The engine's refusal as a service error."""
    return ServiceError(_REFUSAL_STATUS.get(refusal.code, 409), refusal.code, refusal.message, field=refusal.field)


def invalid(message: str, field: str | None = None, code: str = "invalid_input") -> ServiceError:
    """A 422 about one field."""
    return ServiceError(422, code, message, field=field)


def not_found(what: str = "ticket") -> ServiceError:
    """The single 404 for missing and foreign rows alike."""
    return ServiceError(404, "not_found", f"{what} not found")


#: Driver exceptions meaning the database connection went away mid-request.
_GONE = {"ConnectionDoesNotExistError", "InterfaceError", "ConnectionResetError", "DBConnectionError",
         "OperationalError", "InternalClientError", "ConnectionFailureError", "TransactionManagementError",
         "AdminShutdownError"}


def database_gone(exc: BaseException) -> bool:
    """Whether `exc` (or its cause) says the database session died: nothing was saved."""
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return False
        if type(seen).__name__ in _GONE:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def unavailable() -> ServiceError:
    """The 503 a client retries (with the same Idempotency-Key)."""
    return ServiceError(503, "database_unavailable", "the database is unavailable; nothing was saved, retry")
