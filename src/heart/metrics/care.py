"""Care navigation's figures, written once as Ibis expressions (the same way as ``definitions.py``).

A backend hands these definitions two tables (``CARE_ENCOUNTERS_SCHEMA``, ``REFERRALS_SCHEMA``) and its way of
turning a timestamp into epoch microseconds; the rest is integer arithmetic, comparisons and plain aggregates, and
the divisions and the median's interpolation happen in Python (``service.py``), so every backend gives the same
numbers.

Definitions, for a period of local dates (each row's program's time zone):
- **consented encounters**: encounters (a field team's, or a CCD phone contact's) with the neighbor's consent to
  follow-up, by the encounter's time;
- **followed up in time**: of those, the ones whose follow-up had a first contact attempt (of any result) at or
  before its due time — the due time the city's configuration gave it when it opened (48 hours in Durham);
  **% followed up in time** is their share;
- **time to first contact**: from the encounter to the first attempt that reached the neighbor, over the consented
  encounters of the period whose neighbor was reached; the **median** in hours;
- **referrals by need**: referrals made in the period (by ``made_at``), per need: made, and of those accepted,
  completed, declined and no response (each by whether its time is recorded).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from fractions import Fraction

import ibis
import ibis.expr.types as ir

from heart.metrics.definitions import EpochMicros, LocalClock, Period

CARE_ENCOUNTERS_SCHEMA = ibis.schema({
    "program": "string",  # the program whose encounter it was (CRT, COR, CCD…)
    "timezone": "string",
    "encountered_at": "timestamp('UTC')",
    "due_at": "timestamp('UTC')",  # the earliest due time of its follow-ups (null: none opened)
    "first_attempt_at": "timestamp('UTC')",  # the first contact attempt of any result (null: none)
    "first_contact_at": "timestamp('UTC')",  # the first attempt that reached the neighbor (null: never)
})
"""One row per encounter with consent to follow-up."""

REFERRALS_SCHEMA = ibis.schema({
    "program": "string",  # the program of the encounter the follow-up came from
    "timezone": "string",
    "need": "string",
    "made_at": "timestamp('UTC')",
    "accepted_at": "timestamp('UTC')",
    "completed_at": "timestamp('UTC')",
    "declined_at": "timestamp('UTC')",
    "no_response_at": "timestamp('UTC')",
})
"""One row per referral."""

LOOP = ("accepted", "completed", "declined", "no_response")
MEDIAN = Fraction(1, 2)


def within(utc_us: ir.IntegerValue, timezone: ir.StringValue, clock: LocalClock, period: Period) -> ir.BooleanValue:
    """The instant falls on a local date of the period in the row's zone."""
    condition = utc_us.notnull()
    if period.since is not None:
        condition &= utc_us >= clock.midnight(period.since, timezone)
    if period.until is not None:
        condition &= utc_us < clock.midnight(period.until + timedelta(days=1), timezone)
    return condition


def encounter_facts(encounters: ir.Table, epoch_micros: EpochMicros, clock: LocalClock, period: Period) -> ir.Table:
    """Consented encounters of the period with their flags and the microseconds to first contact."""
    facts = encounters.select(
        "program", "timezone",
        encountered_us=epoch_micros(encounters.encountered_at), due_us=epoch_micros(encounters.due_at),
        attempt_us=epoch_micros(encounters.first_attempt_at), contact_us=epoch_micros(encounters.first_contact_at))
    facts = facts.filter(within(facts.encountered_us, facts.timezone, clock, period))
    return facts.mutate(
        in_time=(facts.attempt_us.notnull() & facts.due_us.notnull() & (facts.attempt_us <= facts.due_us)),
        reached=facts.contact_us.notnull(),
        us_to_contact=facts.contact_us - facts.encountered_us,
    )


def follow_up_summary(facts: ir.Table, by: Sequence[str] = ("program",)) -> ir.Table:
    """Per group (or over all, with ``by`` empty): consented encounters, followed up in time, reached."""
    grouped = facts.group_by(list(by)) if by else facts
    return grouped.aggregate(consented=facts.encountered_us.count(), in_time=facts.in_time.cast("int32").sum(),
                             reached=facts.reached.cast("int32").sum())


def median_neighbours(facts: ir.Table, by: Sequence[str] = ("program",)) -> ir.Table:
    """The two ranked times to first contact the median lies between, per group (``service`` interpolates).

    Rank r (0-based) of n values; the median sits at h = (n - 1)/2, between ranks floor(h) and ceil(h).
    """
    timed = facts.filter(facts.reached & (facts.us_to_contact >= 0))
    keys = list(by)
    order = ibis.window(group_by=keys, order_by=timed.us_to_contact) if keys else ibis.window(
        order_by=timed.us_to_contact)
    everyone = ibis.window(group_by=keys) if keys else ibis.window()
    ranked = timed.mutate(rank=ibis.row_number().over(order), n=timed.us_to_contact.count().over(everyone))
    scaled = (ranked.n - 1) * MEDIAN.numerator
    low = scaled // MEDIAN.denominator
    high = low + ibis.ifelse(scaled % MEDIAN.denominator > 0, 1, 0)
    aggregates = {"n": ranked.n.max(), "median_low": ranked.us_to_contact.max(where=ranked.rank == low),
                  "median_high": ranked.us_to_contact.max(where=ranked.rank == high)}
    return ranked.group_by(keys).aggregate(**aggregates) if keys else ranked.aggregate(**aggregates)


def referrals_by_need(referrals: ir.Table, epoch_micros: EpochMicros, clock: LocalClock, period: Period
                      ) -> ir.Table:
    """Referrals made in the period per need: made, and how many were accepted, completed, declined, no response."""
    made = referrals.mutate(made_us=epoch_micros(referrals.made_at))
    made = made.filter(within(made.made_us, made.timezone, clock, period))
    return made.group_by("need").aggregate(
        made=made.made_us.count(),
        **{status: made[f"{status}_at"].notnull().cast("int32").sum() for status in LOOP})


def care_span(encounters: ir.Table, referrals: ir.Table) -> tuple[ir.Table, ir.Table]:
    """The earliest and latest instants and the zones of both tables, to bound the local clock."""
    return (encounters.aggregate(first=encounters.encountered_at.min(), last=encounters.encountered_at.max()),
            referrals.aggregate(first=referrals.made_at.min(), last=referrals.made_at.max()))


def zones(encounters: ir.Table, referrals: ir.Table) -> ir.Table:
    return encounters.select("timezone").union(referrals.select("timezone")).distinct()
