"""Session hooks that announce committed events: NOTIFY on PostgreSQL, a callback in-process on SQLite.

The announcement names only event ids, kinds and call ids, never personal data (NOTIFY payloads reach
every listening connection and may end up in server logs).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session, sessionmaker

from heart.events import Event

CHANNEL = "heart_events"
_PENDING = "heart_realtime_pending"
_NOTIFIED = "heart_realtime_notified"
_MAX_PAYLOAD = 7000  # PostgreSQL refuses payloads of 8000 bytes or more
_HOOKED = "_heart_realtime_hooked"


def payload_of(events: list[Event], earlier: dict[str, Any] | None = None) -> dict[str, Any]:
    """A compact summary of appended events: the highest id, the kinds and the calls they touch."""
    summary = earlier or {"e": 0, "k": [], "c": []}
    summary["e"] = max([summary["e"], *(e.id for e in events if e.id is not None)])
    summary["k"] = sorted({*summary["k"], *(e.kind for e in events)})[:30]
    summary["c"] = sorted({*summary["c"], *(e.call_id for e in events if e.call_id is not None)})[:100]
    return summary


def encode(summary: dict[str, Any]) -> str:
    """The payload as text, trimmed to what NOTIFY accepts (the event id always survives)."""
    text_ = json.dumps(summary, separators=(",", ":"))
    if len(text_) > _MAX_PAYLOAD:
        text_ = json.dumps({"e": summary["e"], "k": summary["k"][:10], "c": []}, separators=(",", ":"))
    return text_


def enable_notifications(factory: sessionmaker[Session], *, on_commit: Callable[[str], None] | None = None) -> None:
    """Make sessions from ``factory`` announce the events they commit.

    On PostgreSQL each flush that appended events sends ``pg_notify`` in the same transaction, so listeners
    hear of it only once it commits. ``on_commit`` (used on SQLite) is called after each such commit with
    the payload. Calling this twice on one factory changes nothing.
    """
    if getattr(factory, _HOOKED, False):
        return
    setattr(factory, _HOOKED, True)

    def after_flush(session: Session, _context: Any) -> None:
        appended = [obj for obj in session.new if isinstance(obj, Event)]
        if not appended:
            return
        session.info[_PENDING] = payload_of(appended, session.info.get(_PENDING))
        # One NOTIFY per transaction is enough: it is delivered at commit, and listeners then read everything.
        if session.get_bind().dialect.name == "postgresql" and not session.info.get(_NOTIFIED):
            session.connection().execute(text("select pg_notify(:channel, :payload)"),
                                         {"channel": CHANNEL, "payload": encode(payload_of(appended))})
            session.info[_NOTIFIED] = True

    def after_commit(session: Session) -> None:
        session.info.pop(_NOTIFIED, None)
        pending = session.info.pop(_PENDING, None)
        if pending is not None and on_commit is not None:
            on_commit(encode(pending))

    def after_rollback(session: Session, *_: Any) -> None:
        session.info.pop(_NOTIFIED, None)
        session.info.pop(_PENDING, None)

    event.listen(factory, "after_flush", after_flush)
    event.listen(factory, "after_commit", after_commit)
    event.listen(factory, "after_soft_rollback", after_rollback)
