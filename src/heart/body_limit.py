"""A size limit on request bodies: a body over it gets ``413`` with a message that says the limit.

A declared ``Content-Length`` over the limit is refused before anything is read; a body sent without one
(chunked) is counted as it arrives and refused as soon as it passes the limit, so a 50 MB document never sits
in memory. The limit is one setting for every route, and its own setting for the routes that take larger
documents (``POST /api/eido``: a NENA EIDO incident with its notes).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from heart.config import Settings


def size_in_words(size: int) -> str:
    """``1048576`` → ``"1 MB"``, ``1572864`` → ``"1.5 MB"``, ``4096`` → ``"4 kB"`` (binary units, as the settings)."""
    for unit, scale in (("MB", 2**20), ("kB", 2**10)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a body passes its limit; FastAPI lets HTTP exceptions through as they are."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=too_large_message(limit))


def too_large_message(limit: int) -> str:
    return f"the request body is larger than {size_in_words(limit)}, the most this address accepts; send less"


@dataclass(frozen=True, slots=True)
class Limits:
    """The byte limit for every route, and the larger ones by path prefix."""

    default: int
    by_prefix: tuple[tuple[str, int], ...] = ()

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(default=settings.max_body_bytes, by_prefix=(("/api/eido", settings.max_eido_body_bytes),))

    def for_path(self, path: str) -> int:
        for prefix, limit in self.by_prefix:
            if path == prefix or path.startswith(prefix + "/"):
                return limit
        return self.default


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimit:
    """ASGI middleware enforcing ``Limits`` on every HTTP request body."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.limits = Limits.of(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_path(str(scope.get("path", "")))
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _refuse(limit, scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if started:  # the route answered before reading everything: nothing more to say
                raise
            await _refuse(limit, scope, receive, send)


async def _refuse(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse({"detail": too_large_message(limit)}, status_code=413, headers={"Connection": "close"})
    await response(scope, receive, send)
