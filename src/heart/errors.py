"""Domain exceptions. Services raise these; the web layer maps them to status codes in one place."""

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
