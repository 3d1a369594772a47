"""Care navigation's periodic work, registered by the app factory: alert the supervisors to due follow-ups nobody
has touched.

Why a sweep and not a figure computed when a page is read: the alert is a fact with a time — when the supervisors
were told, once, as an event on the log, and who acknowledged it — which a page computing "overdue" on each read
cannot record. The sweep claims each follow-up with a conditional write, so every server process may run it.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from sqlalchemy.orm import Session

from heart.config import Settings
from heart.live import ScheduledJob
from heart.navigation.followups.rules import care_rules
from heart.navigation.followups.service import alert_untouched

SWEEP_SECONDS = 60.0  # how often due follow-ups are looked at: the alert is at most this late


def sweep(*, session: Session, now: datetime, settings: Settings) -> int:
    """One pass: how many alerts were raised (the rules are read as they stand now, so an edited file counts)."""
    return alert_untouched(session=session, now=now, rules=care_rules(settings))


def jobs(settings: Settings) -> tuple[ScheduledJob, ...]:
    """Every minute: due follow-ups nobody has touched alert the supervisors (``service.alert_untouched``)."""
    return (ScheduledJob("follow-up-sweep", SWEEP_SECONDS, partial(sweep, settings=settings)),)
