"""Server-sent events: the wire format, and a streaming response that never buffers."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi.responses import StreamingResponse

HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no", "Connection": "keep-alive"}
KEEPALIVE = b": keepalive\n\n"


def message(event: str, data: str, *, ident: int | None = None) -> bytes:
    """One named event; every line of ``data`` becomes a ``data:`` line (the browser joins them again)."""
    lines = [f"event: {event}"]
    if ident is not None:
        lines.append(f"id: {ident}")
    lines.extend(f"data: {line}" for line in data.splitlines() or [""])
    return ("\n".join(lines) + "\n\n").encode()


def retry(milliseconds: int) -> bytes:
    """Tell the browser how soon to reconnect after the stream ends."""
    return f"retry: {milliseconds}\n\n".encode()


def stream(body: AsyncIterator[bytes]) -> StreamingResponse:
    """A text/event-stream response; Starlette cancels ``body`` when the client goes away."""
    return StreamingResponse(body, media_type="text/event-stream", headers=HEADERS)
