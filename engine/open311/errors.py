"""The one error of the Open311 endpoint: rendered as the spec's list of `{code, description}`."""

from __future__ import annotations


class Open311Error(Exception):
    """A refusal with an HTTP status (400, 403, 404 …); the spec's `code` is the status itself."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description

    def body(self) -> list[dict[str, object]]:
        """The spec's error document: `[{"code": 400, "description": "…"}]`."""
        return [{"code": self.status, "description": self.description}]


def bad_request(description: str) -> Open311Error:
    """400: a parameter is missing or wrong."""
    return Open311Error(400, description)


def not_found(what: str) -> Open311Error:
    """404: no such service or request in this city (another city's ids answer the same)."""
    return Open311Error(404, f"{what} not found")


def forbidden(description: str = "invalid api_key") -> Open311Error:
    """403: the api_key is missing, unknown, revoked or another city's."""
    return Open311Error(403, description)
