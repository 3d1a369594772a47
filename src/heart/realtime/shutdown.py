"""Open event streams end as soon as the server is asked to stop, instead of holding the shutdown up.

Uvicorn waits for every open response before it stops; a live board never finishes its response. We wrap
uvicorn's signal handler so that streams see the request to stop and end cleanly (the browser reconnects
to the next server on its own).
"""

from __future__ import annotations

import threading
from typing import Any

_stopping = threading.Event()


def stopping() -> bool:
    """True once this process has been asked to shut down."""
    return _stopping.is_set()


def hook_uvicorn() -> None:
    """Make uvicorn's SIGINT/SIGTERM handler also tell the streams (idempotent; no-op without uvicorn)."""
    try:
        from uvicorn.server import Server
    except ImportError:  # pragma: no cover - served by something else
        return
    if getattr(Server.handle_exit, "_heart_hooked", False):
        return
    original = Server.handle_exit

    def handle_exit(self: Any, sig: int, frame: Any) -> None:
        _stopping.set()
        original(self, sig, frame)

    handle_exit._heart_hooked = True  # type: ignore[attr-defined]
    Server.handle_exit = handle_exit  # type: ignore[method-assign]
