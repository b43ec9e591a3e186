"""Typed errors with stable codes; the CLI maps them to one line and exit 2, the API to problem+json."""

from __future__ import annotations


class NewRetailError(Exception):
    """An error a user can act on.

    ``code`` is stable (clients and tests match on it); ``field`` names the offending input field and
    ``position`` where in a file or body it was found.
    """

    http_status = 400

    def __init__(
        self, code: str, message: str, *, field: str | None = None, position: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.position = position

    def extensions(self) -> dict[str, object]:
        """Extra members for the error's problem document (e.g. an offset and hints)."""
        return {}

    def __str__(self) -> str:
        where = self.position or self.field
        return f"{self.message} ({where})" if where else self.message


class InvalidInput(NewRetailError):
    """The request or file is malformed; nothing was changed."""

    http_status = 422


class NotFound(NewRetailError):
    http_status = 404


class Conflict(NewRetailError):
    http_status = 409


class NoData(NewRetailError):
    """The request is well-formed but selects nothing (e.g. a date range with no partitions)."""

    http_status = 404


class Unauthorized(NewRetailError):
    """No valid credentials were presented (or they expired or were revoked)."""

    http_status = 401


class Forbidden(NewRetailError):
    """The caller is known but its role or store scope does not allow the action."""

    http_status = 403


class RateLimited(NewRetailError):
    """Too many requests from one caller in a short time; retry after a moment."""

    http_status = 429


class TooLarge(NewRetailError):
    """The request body is over the endpoint's limit; nothing of it was kept."""

    http_status = 413
