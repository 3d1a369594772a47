"""Care navigation's periodic work: alert the supervisors to due follow-ups nobody has touched.

Why a sweep and not a figure computed when a page is read: the alert is a fact with a time — when the supervisors
were told, once, as an event on the log, and who acknowledged it — which a page computing "overdue" on each read
cannot record. The sweep claims each follow-up with a conditional write, so every server process may run it.
"""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from heart.config import Settings
from heart.db import transaction, utcnow
from heart.navigation.followups.rules import care_rules
from heart.navigation.followups.service import alert_untouched

SWEEP_SECONDS = 60.0  # how often due follow-ups are looked at: the alert is at most this late


def run_sweep(factory: sessionmaker[Session], settings: Settings) -> int:
    """One pass, in its own transaction: how many alerts were raised."""
    with transaction(factory) as session:
        return alert_untouched(session=session, now=utcnow(), rules=care_rules(settings))


def install(app: FastAPI) -> None:
    """Run the sweep with the app's other periodic work (the realtime hub runs them while the server runs)."""
    app.state.realtime.every(SWEEP_SECONDS, partial(run_sweep, app.state.sessionmaker, app.state.settings),
                             "follow-up-sweep")
