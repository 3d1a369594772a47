"""Familiar neighbors' periodic work: expire flags past their date and recount each neighbor's responses in the
window (raising, re-levelling or ending flags), so a flag never outlives its expiry by more than a sweep.

Why a sweep: expiry and raising are facts with a time, events on the log; a page computing them on each read could
not record them. Flags are claimed with conditional writes and one open flag per neighbor is a unique index, so
every server process may run it.
"""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from heart.config import Settings
from heart.db import transaction, utcnow
from heart.navigation.followups.rules import care_rules
from heart.neighbors.familiar.flags import Recount, recount_flags

SWEEP_SECONDS = 3600.0


def run_sweep(factory: sessionmaker[Session], settings: Settings) -> Recount | None:
    """One pass in its own transaction (nothing when the city configures no familiar neighbors)."""
    rules = care_rules(settings)
    if rules.familiar_neighbors is None:
        return None
    with transaction(factory) as session:
        return recount_flags(session=session, now=utcnow(), rules=rules)


def install(app: FastAPI) -> None:
    app.state.realtime.every(SWEEP_SECONDS, partial(run_sweep, app.state.sessionmaker, app.state.settings),
                             "familiar-flag-sweep")
