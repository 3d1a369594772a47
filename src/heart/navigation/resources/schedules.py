"""When a service is open, from HSDS 3.0 schedules (RFC 5545 recurrence rules plus opening times).

What HEART reads of a schedule:
- ``valid_from`` / ``valid_to``: the first and last local day the schedule applies (inclusive);
- the recurrence: ``freq`` (WEEKLY, MONTHLY), ``interval`` (from ``dtstart``, else ``valid_from``), ``byday``
  (``MO,TU``; with MONTHLY an ordinal, ``2SA``, ``-1FR``), ``bymonthday``, ``byweekno``, ``byyearday``, ``wkst``,
  ``count``, ``until``: evaluated with dateutil's RFC 5545 implementation. No ``freq``: weekly when ``byday`` is
  given, monthly when only ``bymonthday`` is, otherwise every day;
- ``opens_at`` / ``closes_at`` on each day the rule gives. A closing time at or before the opening time runs past
  midnight (``18:00``–``08:00``; ``00:00``–``00:00`` is around the clock);
- the time zone: an offset written on the time (``09:00-05:00``), else ``timezone`` (HSDS: an offset in hours),
  else the city's time zone. (HSDS says such times are UTC; directories rarely mean that, so HEART reads them as
  the city's local time, which is what a food pantry's "09:00" means.)

A schedule without opening times, or one HEART cannot place in time (an unreadable ``byday``, an ``interval``
with nothing to count from), never counts as open: the search says "hours unknown", never "open".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any, Literal, Protocol

from dateutil import rrule
from dateutil.relativedelta import relativedelta

DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
BYDAY_TOKEN = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
TIME_TEXT = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
EPOCH_MONDAY = date(2000, 1, 3)  # any Monday: where a rule without a start counts from when that cannot matter
CHAIN_DAYS = 8  # how far back-to-back openings are followed ("open until")
LOOK_AHEAD_DAYS = 35  # how far ahead "next opens" looks (a monthly group meets within five weeks)


class ScheduleLike(Protocol):
    """The HSDS schedule fields HEART reads (a ``Schedule`` row, or a record being imported)."""

    valid_from: date | None
    valid_to: date | None
    dtstart: date | None
    timezone: float | None
    until: date | None
    count: float | None
    wkst: str | None
    freq: str | None
    interval: float | None
    byday: str | None
    byweekno: str | None
    bymonthday: str | None
    byyearday: str | None
    opens_at: str | None
    closes_at: str | None


@dataclass(frozen=True, slots=True)
class OpenState:
    """Whether a place is open at a moment: ``open`` is None when the hours are unknown."""

    open: bool | None
    until: datetime | None = None
    next_opens: datetime | None = None


def unusable_reason(schedule: ScheduleLike) -> str | None:
    """Why HEART cannot tell from ``schedule`` when it is open, or None when it can."""
    if not schedule.opens_at or not schedule.closes_at:
        return "no opening hours (opens_at and closes_at)"
    if _clock(schedule.opens_at) is None or _clock(schedule.closes_at) is None:
        return "opening hours that are not times"
    try:
        _days(schedule.byday)
        _numbers(schedule.bymonthday, "bymonthday")
        _numbers(schedule.byweekno, "byweekno")
        _numbers(schedule.byyearday, "byyearday")
    except ValueError as error:
        return str(error)
    if schedule.count is not None and schedule.until is not None:
        return "gives both count and until, which RFC 5545 does not allow together"
    if schedule.timezone is not None and abs(schedule.timezone) >= 24:
        return f"timezone {schedule.timezone:g} is not an offset from UTC in hours"
    if (schedule.interval or 1) > 1 and not (schedule.dtstart or schedule.valid_from):
        return f"repeats every {schedule.interval:g} periods but gives no dtstart or valid_from to count from"
    if schedule.freq == "MONTHLY" and not (schedule.byday or schedule.bymonthday) and not schedule.dtstart:
        return "repeats monthly but gives no day of the month, byday or dtstart"
    return None


def open_state(schedules: Sequence[ScheduleLike], now: datetime, city: tzinfo, *,
               look_ahead: bool = True) -> OpenState:
    """Open now (and until when) or closed (and when it next opens, within five weeks) or unknown.

    Without ``look_ahead`` only today is looked at: enough to say open or not, cheaper for filtering many.
    """
    usable = [schedule for schedule in schedules if unusable_reason(schedule) is None]
    if not usable:
        return OpenState(open=None)
    today = now.astimezone(city).date()
    last = today + timedelta(days=LOOK_AHEAD_DAYS if look_ahead else 0)
    spans = sorted(window for schedule in usable for window in _windows(schedule, today - timedelta(days=1), last,
                                                                         city))
    current = [end for start, end in spans if start <= now < end]
    if current:
        until, horizon = max(current), now + timedelta(days=CHAIN_DAYS)
        for start, end in spans:  # back-to-back windows (a 24-hour line, day after day) are one opening
            if start <= until < end and until < horizon:
                until = end
        return OpenState(open=True, until=until)
    upcoming = [start for start, _ in spans if start > now]
    return OpenState(open=False, next_opens=min(upcoming) if upcoming else None)


def _windows(schedule: ScheduleLike, first: date, last: date, city: tzinfo) -> list[tuple[datetime, datetime]]:
    """The opening windows (aware start, end) that begin on the local days ``first`` to ``last``."""
    opens, opens_zone = _clock(schedule.opens_at or "") or (time(0), None)
    closes, closes_zone = _clock(schedule.closes_at or "") or (time(0), None)
    fallback = timezone(timedelta(hours=schedule.timezone)) if schedule.timezone is not None else city
    found = []
    for day in _days_between(schedule, first, last):
        start = datetime.combine(day, opens, tzinfo=opens_zone or fallback)
        end = datetime.combine(day, closes, tzinfo=closes_zone or fallback)
        if end <= start:
            end += timedelta(days=1)
        found.append((start, end))
    return found


def describe(schedule: ScheduleLike) -> str:
    """The schedule in plain words: "Mon, Tue 09:00–17:00, every 2 weeks, from 2025-01-06"."""
    try:
        days = ", ".join(_day_words(code, ordinal) for code, ordinal in _days(schedule.byday))
    except ValueError:
        days = f"days {schedule.byday}"
    if not days:
        days = f"day {schedule.bymonthday} of the month" if schedule.bymonthday else (
            "every day" if schedule.freq is None else "")
    opens, closes = schedule.opens_at, schedule.closes_at
    if opens and closes:
        hours = "around the clock" if opens[:5] == closes[:5] else f"{opens[:5]}–{closes[:5]}"
    else:
        hours = "hours not given"
    extras: list[str] = []
    if (schedule.interval or 1) > 1:
        extras.append(f"every {schedule.interval:g} {'months' if schedule.freq == 'MONTHLY' else 'weeks'}")
    if schedule.valid_from:
        extras.append(f"from {schedule.valid_from.isoformat()}")
    if schedule.valid_to:
        extras.append(f"until {schedule.valid_to.isoformat()}")
    return ", ".join([" ".join(part for part in (days, hours) if part), *extras])


def _day_words(code: str, ordinal: int | None) -> str:
    name = DAY_NAMES[DAY_CODES.index(code)]
    if ordinal is None:
        return name
    if ordinal == -1:
        return f"last {name}"
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(ordinal if ordinal < 20 else ordinal % 10, "th")
    return f"{ordinal}{suffix} {name}" if ordinal > 0 else f"{name} {-ordinal} from the end"


def _applies(schedule: ScheduleLike, day: date) -> bool:
    return not ((schedule.valid_from and day < schedule.valid_from) or (schedule.valid_to and day > schedule.valid_to))


def sort_key(schedule: ScheduleLike) -> tuple[int, str]:
    """Schedules in week order: by their first day, then opening time."""
    try:
        days = _days(schedule.byday)
    except ValueError:
        days = []
    return (DAY_CODES.index(days[0][0]) if days else -1, schedule.opens_at or "")


def _days_between(schedule: ScheduleLike, first: date, last: date) -> list[date]:
    """The local days from ``first`` to ``last`` on which the schedule's rule occurs and the schedule applies."""
    rule = _rule(_rule_key(schedule), first.replace(day=1))
    if rule is None:
        days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    else:
        days = [moment.date() for moment in rule.between(datetime.combine(first, time(0)),
                                                         datetime.combine(last, time(23, 59)), inc=True)]
    return [day for day in days if _applies(schedule, day)]


def _rule_key(schedule: ScheduleLike) -> tuple[Any, ...]:
    return (schedule.freq, schedule.interval, schedule.byday, schedule.bymonthday, schedule.byweekno,
            schedule.byyearday, schedule.wkst, schedule.count, schedule.until, schedule.dtstart, schedule.valid_from)


@lru_cache(maxsize=4096)
def _rule(key: tuple[Any, ...], month: date) -> rrule.rrule | None:
    """The recurrence of a schedule, its start moved to shortly before ``month`` when that cannot change the
    answer (so that finding one day's occurrences does not walk every week since 2005)."""
    freq, interval, byday, bymonthday, byweekno, byyearday, wkst, count, until, dtstart, valid_from = key
    days, monthdays = _days(byday), _numbers(bymonthday, "bymonthday")
    if freq is None and not days and not monthdays and not byweekno and not byyearday:
        return None
    monthly = freq == "MONTHLY" or (freq is None and bool(monthdays) and not days)
    frequency: Literal[1, 2] = rrule.MONTHLY if monthly else rrule.WEEKLY
    step = int(interval or 1)
    first = dtstart or valid_from or EPOCH_MONDAY
    if frequency == rrule.MONTHLY and not days and not monthdays:
        monthdays = [first.day]  # the rule's implicit day of the month, kept when the start moves below
    if count is None and not byweekno and not byyearday:
        first = _closer_start(first, month, frequency, step)
    weekdays = [getattr(rrule, code)(ordinal) if ordinal else getattr(rrule, code) for code, ordinal in days]
    return rrule.rrule(frequency, dtstart=datetime.combine(first, time(0)), interval=step,
                       wkst=getattr(rrule, wkst) if wkst else None, count=int(count) if count is not None else None,
                       until=datetime.combine(until, time(23, 59, 59)) if until else None,
                       byweekday=weekdays or None, bymonthday=monthdays or None,
                       byweekno=_numbers(byweekno, "byweekno") or None,
                       byyearday=_numbers(byyearday, "byyearday") or None)


def _closer_start(first: date, day: date, frequency: int, step: int) -> date:
    """``first`` moved forward by whole intervals to within a few periods of ``day`` (same occurrences near it)."""
    if frequency == rrule.WEEKLY:
        periods = max(0, ((day - first).days // 7 - 2) // step)
        return first + timedelta(weeks=periods * step)
    months = (day.year - first.year) * 12 + day.month - first.month - 2
    periods = max(0, months // step)
    return first + relativedelta(months=periods * step)


def _days(byday: str | None) -> list[tuple[str, int | None]]:
    found: list[tuple[str, int | None]] = []
    for token in _tokens(byday):
        match = BYDAY_TOKEN.match(token.upper())
        if not match:
            raise ValueError(f"byday {byday!r} is not a list of RFC 5545 days (MO,TU or 2SA,-1FR)")
        found.append((match.group(2), int(match.group(1)) if match.group(1) else None))
    return found


def _numbers(text: str | None, name: str) -> list[int]:
    try:
        return [int(token) for token in _tokens(text)]
    except ValueError:
        raise ValueError(f"{name} {text!r} is not a comma-separated list of numbers") from None


def _tokens(text: str | None) -> Iterable[str]:
    return [token.strip() for token in (text or "").split(",") if token.strip()]


def _clock(text: str) -> tuple[time, tzinfo | None] | None:
    match = TIME_TEXT.match(text.strip())
    if not match:
        return None
    hours, minutes, seconds, zone = match.groups()
    if int(hours) > 23 or int(minutes) > 59 or int(seconds or 0) > 59:
        return None
    return time(int(hours), int(minutes), int(seconds or 0)), _offset(zone)


def _offset(zone: str | None) -> tzinfo | None:
    if zone is None:
        return None
    if zone == "Z":
        return UTC
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
