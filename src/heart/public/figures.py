"""The public figures the site shows, computed from the live database and kept for a while.

Only whole calendar years that have ended are published (``heart.metrics.public``'s rule): the site offers each
year from the first with data to the last that ended, defaulting to the latest. A year's report takes a second or
two on a year of Durham's volume, so each process keeps it ``HEART_PUBLIC_CACHE_MINUTES``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from heart.calls.models import Call
from heart.config import Settings
from heart.metrics.backends import open_database
from heart.metrics.definitions import MISSED_REASONS, REACHED
from heart.metrics.public import groups as g
from heart.metrics.public.schemas import PublicCell, PublicReport, PublicTable
from heart.metrics.public.service import public_figures

_lock = threading.Lock()
_computing = threading.Lock()
_kept: dict[tuple[str, int], tuple[float, PublicReport]] = {}


def published_years(*, session: Session, today: date) -> list[int]:
    """The whole years that have ended, from the first call on record to the last, newest first (none without
    calls)."""
    first, last = session.execute(select(func.min(Call.received_at), func.max(Call.received_at))).one()
    if first is None:
        return []
    return list(range(min(today.year - 1, last.year), first.year - 1, -1))


def report_for(*, settings: Settings, year: int, today: date,
               providers: Callable[[], list[g.Provider]] = list) -> PublicReport:
    """The year's public figures (suppression applied), from the cache while it is fresh."""
    key = (settings.database_url, year)
    if (kept := _fresh(key, settings.public_cache_minutes)) is not None:
        return kept
    with _computing:  # a burst of first visitors waits for one computation instead of each repeating it
        if (kept := _fresh(key, settings.public_cache_minutes)) is not None:
            return kept
        with open_database(settings.database_url) as source:
            report = public_figures(source=source, year=year, today=today, providers=providers())
        with _lock:
            _kept[key] = (time.monotonic(), report)
        return report


def _fresh(key: tuple[str, int], minutes: float) -> PublicReport | None:
    with _lock:
        found = _kept.get(key)
    return found[1] if found and time.monotonic() - found[0] < minutes * 60 else None


def forget_reports() -> None:
    """Drop every kept report (tests that change the data between two pages)."""
    with _lock:
        _kept.clear()


@dataclass(frozen=True, slots=True)
class MissedReasons:
    """One program's eligible calls: reached, and every missed one under its one reason; they add up to ``total``."""

    program: str
    total: PublicCell
    reached: PublicCell
    reach: PublicCell
    reasons: list[tuple[str, str, PublicCell]]  # (reason key, words, count)


def missed_reasons(report: PublicReport) -> list[MissedReasons]:
    """Why eligible calls did not get the program's response, per field program, as published (small counts read
    "fewer than 11")."""
    found = []
    for code, entry in report.programs.items():
        group = entry.groups.get("reach")
        if group is None:
            continue
        table: PublicTable = group.tables["outcomes"]
        rows = {row.key: row for row in table.rows}
        reasons = [(reason, rows[reason].label.removeprefix("missed: "), rows[reason].cells["count"])
                   for reason in MISSED_REASONS if reason in rows]
        found.append(MissedReasons(code, table.total, rows[REACHED].cells["count"], group.figures["pct_reached"],
                                   reasons))
    return found
