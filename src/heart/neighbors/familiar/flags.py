"""Familiar-neighbor flags: a neighbor served at least the city's number of times in its window is flagged, so that
teams approach them with care — never so that a response is withheld.

A flag is raised by the count (``recount_flags``), pending a reviewer's approach notes; a reviewer writes them and
an expiry (``review_flag``), which makes it active; it expires by its date (``expire_flags``), is ended by a reviewer
(``end_flag``), ends when the neighbor is no longer served that often or their record is merged into another, and
its level follows the count (5+, 10+, 20+ in Durham). One open flag per neighbor (a unique index says so too). Every
change is an event naming levels, counts and dates — never the approach notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.calls.models import Call
from heart.errors import Conflict, InvalidInput, NotFound
from heart.events import Event, record_event
from heart.navigation.followups.rules import CareRules, FamiliarNeighbors
from heart.neighbors.familiar.models import OPEN_FLAG_STATUSES, FamiliarFlag, FlagStatus
from heart.neighbors.models import Neighbor, NeighborLink

MAX_NOTES = 2000


def served_per_neighbor(since: datetime, until: datetime) -> Select[int, int]:
    """(kept record, responses) for every neighbor served in [since, until): distinct calls any of their records
    was named on. Records kept for a members-only program are not counted."""
    person = func.coalesce(Neighbor.merged_into_id, Neighbor.id).label("person")
    return (select(person, func.count(func.distinct(NeighborLink.call_id)))
            .join(Neighbor, Neighbor.id == NeighborLink.neighbor_id)
            .join(Call, Call.id == NeighborLink.call_id)
            .where(Call.received_at >= since, Call.received_at < until,
                   Neighbor.restricted_to_program_id.is_(None))
            .group_by(person))


def level_for(config: FamiliarNeighbors, responses: int) -> int | None:
    """The highest flag level ``responses`` reach (None: under the lowest)."""
    reached = [level for level in config.flag_at if responses >= level]
    return reached[-1] if reached else None


@dataclass
class Recount:
    raised: int = 0
    changed_level: int = 0
    ended: int = 0
    expired: int = 0


def recount_flags(*, session: Session, now: datetime, rules: CareRules, actor_id: int | None = None) -> Recount:
    """Expire flags past their date, then bring every open flag in line with the last window's count: raise, change
    level, or end (a neighbor no longer served that often)."""
    config = rules.familiar
    summary = Recount(expired=expire_flags(session=session, now=now))
    counts: dict[int, int] = {person: int(responses) for person, responses in session.execute(
        served_per_neighbor(now - timedelta(days=config.window_days), now))}
    flags = {flag.neighbor_id: flag for flag in session.scalars(
        select(FamiliarFlag).where(FamiliarFlag.status.in_(OPEN_FLAG_STATUSES)).with_for_update())}
    for person, responses in sorted(counts.items()):
        level = level_for(config, responses)
        flag = flags.get(person)
        if level is None:
            continue
        if flag is None:
            flag = FamiliarFlag(neighbor_id=person, level=level, responses=responses, counted_at=now, raised_at=now,
                                status=FlagStatus.PENDING)
            session.add(flag)
            session.flush()
            record_event(session=session, kind="familiar_flag.raised", subject_type="neighbor", subject_id=person,
                         at=now, actor_id=actor_id, after={"flag_id": flag.id, "level": level, "responses": responses})
            summary.raised += 1
            continue
        if flag.level != level:
            record_event(session=session, kind="familiar_flag.level_changed", subject_type="neighbor",
                         subject_id=person, at=now, actor_id=actor_id, before={"level": flag.level},
                         after={"flag_id": flag.id, "level": level, "responses": responses})
            summary.changed_level += 1
        flag.level, flag.responses, flag.counted_at = level, responses, now
    for person, flag in flags.items():
        if level_for(config, counts.get(person, 0)) is None:
            _end(session, flag, now, actor_id, "served less often")
            summary.ended += 1
    return summary


def expire_flags(*, session: Session, now: datetime) -> int:
    """Active flags whose expiry has passed become expired (each claimed by a conditional write)."""
    expired = 0
    for flag_id, neighbor_id in session.execute(select(FamiliarFlag.id, FamiliarFlag.neighbor_id).where(
            FamiliarFlag.status == FlagStatus.ACTIVE, FamiliarFlag.expires_at <= now)).all():
        claimed = session.execute(update(FamiliarFlag).where(FamiliarFlag.id == flag_id,
                                                             FamiliarFlag.status == FlagStatus.ACTIVE)
                                  .values(status=FlagStatus.EXPIRED)).rowcount  # type: ignore[attr-defined]
        if claimed == 1:
            expired += 1
            record_event(session=session, kind="familiar_flag.expired", subject_type="neighbor",
                         subject_id=neighbor_id, at=now, actor_id=None, after={"flag_id": flag_id})
    return expired


def review_flag(*, session: Session, flag_id: int, approach_notes: str, expires_at: datetime | None, now: datetime,
                by: User, rules: CareRules) -> FamiliarFlag:
    """A reviewer writes how to approach the neighbor with care and until when: the flag becomes active (its notes
    can be rewritten later the same way). The expiry defaults to the city's number of days, and may not be later."""
    flag = _open_flag(session, flag_id)
    notes = approach_notes.strip()
    if not notes:
        raise InvalidInput("write the approach notes: how to approach this neighbor with care", field="approach_notes")
    if len(notes) > MAX_NOTES:
        raise InvalidInput(f"the approach notes are longer than {MAX_NOTES} characters", field="approach_notes")
    longest = now + timedelta(days=rules.familiar.flag_expires_after_days)
    expires = expires_at or longest
    if expires <= now:
        raise InvalidInput("the expiry must be in the future", field="expires_at")
    if expires > longest:
        raise InvalidInput(f"a flag lasts at most {rules.familiar.flag_expires_after_days} days; choose an earlier "
                           "expiry", field="expires_at")
    changed = [name for name, old, new in (("approach_notes", flag.approach_notes, notes),
                                           ("expires_at", flag.expires_at, expires)) if old != new]
    before = flag.status
    flag.approach_notes, flag.expires_at, flag.reviewer_id, flag.reviewed_at = notes, expires, by.id, now
    flag.status = FlagStatus.ACTIVE
    record_event(session=session, kind="familiar_flag.reviewed", subject_type="neighbor", subject_id=flag.neighbor_id,
                 at=now, actor_id=by.id, before={"status": before.value},
                 after={"flag_id": flag.id, "status": "active", "fields": changed, "expires_at": expires})
    return flag


def end_flag(*, session: Session, flag_id: int, now: datetime, by: User) -> FamiliarFlag:
    """A reviewer ends a flag (the neighbor's situation changed); ending it twice changes nothing."""
    flag = session.get(FamiliarFlag, flag_id, with_for_update=True, populate_existing=True)
    if flag is None:
        raise NotFound("flag", flag_id, field="flag_id")
    if flag.status == FlagStatus.ENDED:
        return flag
    if not flag.is_open:
        raise Conflict(f"flag {flag.id} has {flag.status.value}; there is nothing to end")
    _end(session, flag, now, by.id, "ended by a reviewer")
    return flag


def end_flags_of_merged(*, session: Session, records: list[int], at: datetime, actor_id: int | None) -> None:
    """Records merged into another neighbor carry no flag of their own (the kept record's count includes theirs)."""
    for flag in session.scalars(select(FamiliarFlag).where(FamiliarFlag.neighbor_id.in_(records),
                                                           FamiliarFlag.status.in_(OPEN_FLAG_STATUSES))):
        _end(session, flag, at, actor_id, "record merged into another")


def _end(session: Session, flag: FamiliarFlag, at: datetime, actor_id: int | None, why: str) -> None:
    before = flag.status
    flag.status, flag.ended_at, flag.ended_by_id = FlagStatus.ENDED, at, actor_id
    record_event(session=session, kind="familiar_flag.ended", subject_type="neighbor", subject_id=flag.neighbor_id,
                 at=at, actor_id=actor_id, before={"status": before.value},
                 after={"flag_id": flag.id, "status": "ended", "why": why})


def _open_flag(session: Session, flag_id: int) -> FamiliarFlag:
    flag = session.get(FamiliarFlag, flag_id, with_for_update=True, populate_existing=True)
    if flag is None:
        raise NotFound("flag", flag_id, field="flag_id")
    if not flag.is_open:
        raise Conflict(f"flag {flag.id} has {flag.status.value.replace('_', ' ')}; a new one is raised by the count")
    return flag


def open_flag_of(*, session: Session, neighbor_id: int) -> FamiliarFlag | None:
    """The open flag of a neighbor (of the record kept for them)."""
    kept = session.scalar(select(func.coalesce(Neighbor.merged_into_id, Neighbor.id)).where(Neighbor.id == neighbor_id))
    return session.scalar(select(FamiliarFlag).where(FamiliarFlag.neighbor_id == kept,
                                                     FamiliarFlag.status.in_(OPEN_FLAG_STATUSES)))


def flags_of(*, session: Session, neighbor_id: int) -> list[FamiliarFlag]:
    """Every flag the neighbor ever had, newest first."""
    return list(session.scalars(select(FamiliarFlag).where(FamiliarFlag.neighbor_id == neighbor_id)
                                .order_by(FamiliarFlag.raised_at.desc(), FamiliarFlag.id.desc())))


def flag_history(*, session: Session, neighbor_id: int) -> list[Event]:
    """The audit trail of a neighbor's flags (events: who, when, what changed — never the notes), oldest first."""
    return list(session.scalars(select(Event).where(Event.subject_type == "neighbor", Event.subject_id == neighbor_id,
                                                    Event.kind.like("familiar_flag.%")).order_by(Event.at, Event.id)))


def flags_to_review(*, session: Session, limit: int = 200) -> list[tuple[FamiliarFlag, Neighbor]]:
    """Open flags, those waiting for a reviewer first, then the highest levels."""
    return list(session.execute(select(FamiliarFlag, Neighbor).join(Neighbor, Neighbor.id == FamiliarFlag.neighbor_id)
                                .where(FamiliarFlag.status.in_(OPEN_FLAG_STATUSES))
                                .order_by((FamiliarFlag.status == FlagStatus.PENDING).desc(),
                                          FamiliarFlag.level.desc(), FamiliarFlag.responses.desc(),
                                          FamiliarFlag.id).limit(limit)).all())
