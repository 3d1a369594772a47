"""Familiar neighbors' periodic work, registered by the app factory: expire flags past their date and recount each
neighbor's responses in the window (raising, re-levelling or ending flags), so a flag never outlives its expiry by
more than a sweep.

Why a sweep: expiry and raising are facts with a time, events on the log; a page computing them on each read could
not record them. Flags are claimed with conditional writes and one open flag per neighbor is a unique index, so
every server process may run it.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from sqlalchemy.orm import Session

from heart.config import Settings
from heart.live import ScheduledJob
from heart.navigation.followups.rules import care_rules
from heart.neighbors.familiar.flags import Recount, recount_flags

SWEEP_SECONDS = 3600.0


def sweep(*, session: Session, now: datetime, settings: Settings) -> Recount | None:
    """One pass (nothing when the city configures no familiar neighbors); the rules as they stand now."""
    rules = care_rules(settings)
    if rules.familiar_neighbors is None:
        return None
    return recount_flags(session=session, now=now, rules=rules)


def jobs(settings: Settings) -> tuple[ScheduledJob, ...]:
    """Every hour: flags raised, re-levelled, ended or expired (``flags.recount_flags``)."""
    return (ScheduledJob("familiar-flag-sweep", SWEEP_SECONDS, partial(sweep, settings=settings)),)
