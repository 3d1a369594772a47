"""Domain exceptions. Services raise these; ``http_status`` is the one map from them to HTTP status codes, used by
the JSON API (which answers JSON) and the pages (which answer an HTML page or fragment) alike."""

from __future__ import annotations

from collections.abc import Iterable


class DomainError(Exception):
    """A refusal a person can act on; ``str(error)`` is one plain sentence."""


class NotFound(DomainError):
    """Something named by id does not exist (HTTP 404)."""

    def __init__(self, what: str, ident: object, *, field: str | None = None,
                 known: Iterable[str] | None = None) -> None:
        listed = "" if known is None else f" (known: {', '.join(known) or 'none'})"
        super().__init__(f"{what} {ident} does not exist{listed}")
        self.field = field


class Conflict(DomainError):
    """The request is well-formed but impossible in the current state (HTTP 409)."""


class ConfirmationNeeded(Conflict):
    """The action would record something a person must confirm first; ``confirm`` is the value that confirms it."""

    def __init__(self, message: str, *, confirm: str) -> None:
        super().__init__(message)
        self.confirm = confirm
        self.field = "confirm"


class InvalidInput(DomainError):
    """A value is wrong in a way the schema could not tell (HTTP 422)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Unavailable(DomainError):
    """Something HEART needs on this server is missing (HTTP 503); the log says what and where."""


class PermissionDenied(DomainError):
    """The user's role does not allow this (HTTP 403)."""


STATUS_OF: tuple[tuple[type[DomainError], int], ...] = (
    (NotFound, 404),
    (InvalidInput, 422),
    (PermissionDenied, 403),
    (Conflict, 409),
    (Unavailable, 503),
)
"""Each kind of refusal and its HTTP status, the first that matches; any other refusal is 400."""


def http_status(error: DomainError) -> int:
    """The HTTP status of a refusal: the same for a JSON route and a page."""
    return next((status for kind, status in STATUS_OF if isinstance(error, kind)), 400)
