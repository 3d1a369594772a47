"""The public site's periodic work, registered by the app factory: erase residents' contact details once their
request or sign-up has been closed longer than ``HEART_ENGAGEMENT_RETENTION_DAYS``, and forget the forms' rate-limit
tally after a day. Conditional updates (``purged_at IS NULL``) make it safe in every server process at once."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from sqlalchemy.orm import Session

from heart.config import Settings
from heart.live import ScheduledJob
from heart.public.service import purge_contact_details

PURGE_SECONDS = 3600.0


def purge(*, session: Session, now: datetime, settings: Settings) -> int:
    """One pass: how many requests and sign-ups were erased."""
    return purge_contact_details(session=session, now=now, retention_days=settings.engagement_retention_days)


def jobs(settings: Settings) -> tuple[ScheduledJob, ...]:
    """Every hour: contact details past their retention erased."""
    return (ScheduledJob("engagement-purge", PURGE_SECONDS, partial(purge, settings=settings)),)
