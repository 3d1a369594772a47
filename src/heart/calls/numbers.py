"""Incident numbers: every call gets the city's next number for its year, in the transaction that creates it.

The count lives in one row per year (``incident_sequences``); a call claims the next value with one ``UPDATE …
RETURNING``, which holds the row until its transaction ends, so two intakes at the same moment never share a number
and a rolled-back intake gives its number back. The unique index on ``calls.incident_number`` backs that up.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from heart.calls.desk import IncidentNumber
from heart.calls.models import IncidentSequence

_CLAIM = (update(IncidentSequence).where(IncidentSequence.year == bindparam("claim_year"))
          .values(last=IncidentSequence.last + 1).returning(IncidentSequence.last))
"""Claim the year's next number (built once: every intake runs it)."""


def next_incident_number(*, session: Session, received_at: datetime, rules: IncidentNumber) -> str:
    """Claim the next number of the year ``received_at`` falls in (the city's calendar)."""
    year = received_at.astimezone(rules.zone).year
    while True:
        seq = session.scalar(_CLAIM, {"claim_year": year})
        if seq is not None:
            return rules.number(year, seq)
        try:  # the year's first call: start its count (another intake may be starting it at the same moment)
            with session.begin_nested():
                session.add(IncidentSequence(year=year, last=1))
                session.flush()
        except IntegrityError:
            continue  # it did: claim from the row it made
        return rules.number(year, 1)


def continue_from(*, session: Session, year: int, last: int) -> None:
    """Make the year's count at least ``last`` (after numbers were given in bulk, e.g. by the demo's history)."""
    row = session.get(IncidentSequence, year)
    if row is None:
        session.add(IncidentSequence(year=year, last=last))
    elif row.last < last:
        row.last = last
    session.flush()
