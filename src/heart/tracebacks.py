"""Tracebacks in logs name the code, never the values: exception messages are withheld from every log record.

An exception's message can carry what a request sent or what the database holds (a driver's "Key
(external_id)=(…) already exists", a ValueError built from a narrative). The frames of a traceback are
code, so they stay; the message of each exception in the chain is replaced by its type. This holds for every
logger in the process (HEART's, uvicorn's "Exception in ASGI application", SQLAlchemy's pool, asyncio),
because it is applied where log records are made rather than in one handler.
"""

from __future__ import annotations

import logging
import traceback
from types import TracebackType
from typing import Any

WITHHELD = "(message withheld: it may carry personal data)"
_installed = False


def withheld_traceback(error: BaseException, tb: TracebackType | None = None) -> str:
    """The traceback of ``error`` and the exceptions it chains, each message replaced by WITHHELD."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    parts: list[str] = []
    for position, item in enumerate(reversed(chain)):
        if position:
            parts.append("\nThe above exception led to the following one:\n\n")
        frames = item.__traceback__ if item is not error or tb is None else tb
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(frames))
        parts.append(f"{type(item).__module__}.{type(item).__qualname__}: {WITHHELD}\n")
    return "".join(parts).rstrip("\n")


def withhold_exception_messages() -> None:
    """Make every log record that carries an exception show ``withheld_traceback`` instead (idempotent)."""
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        if record.exc_info and record.exc_info[1] is not None:
            # Formatters print exc_text when it is set; without exc_info no handler can render the original.
            record.exc_text = withheld_traceback(record.exc_info[1], record.exc_info[2])
            record.exc_info = None
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
