"""What the navigators' screens read: the queue, one follow-up, and a neighbor's timeline.

Each function that returns a neighbor's personal fields logs the read (``heart.neighbors.service.log_reads``) in
the reader's transaction, naming the screen or purpose. The queue is read in a handful of set-based queries,
whatever its length. Need to know applies to every list: a case of a members-only program is listed only to its
staff. Merges are followed: a follow-up of a record merged into another shows the record kept, and a neighbor's
timeline gathers the calls and follow-ups of every record merged into it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.auth.need_to_know import follow_ups_visible_to
from heart.calls.models import Call
from heart.encounters.models import Encounter
from heart.navigation.followups.models import (
    OPEN_STATUSES,
    ContactAttempt,
    FollowUp,
    FollowUpNeed,
    FollowUpNote,
    FollowUpStatus,
    Referral,
)
from heart.navigation.followups.rules import care_rules
from heart.navigation.followups.service import get_follow_up
from heart.neighbors import service as neighbors
from heart.neighbors.models import Consent, Neighbor, NeighborLink
from heart.programs.models import Program

RECENTLY_CLOSED = timedelta(days=7)


@dataclass
class Item:
    """One follow-up as a list shows it."""

    follow_up: FollowUp
    neighbor: Neighbor  # the record kept (the follow-up's own record, or the one it was merged into)
    call: Call | None  # the call whose encounter opened it (None: a case opened from a referral or a petition)
    program: str  # the code of the program whose encounter opened it ("" for a case opened without one)
    case_program: str = ""  # the code of the follow-up's own program (CN, OSC, IVC…)
    needs: list[str] = field(default_factory=list)
    attempts: int = 0
    last_attempt: ContactAttempt | None = None

    def overdue(self, now: datetime) -> bool:
        return self.follow_up.status == FollowUpStatus.AWAITING_CONTACT and now >= self.follow_up.due_at

    def time_left(self, now: datetime) -> timedelta:
        """Until it is due (negative once overdue)."""
        return self.follow_up.due_at - now

    @property
    def alert_open(self) -> bool:
        return self.follow_up.supervisor_alerted_at is not None and self.follow_up.alert_acknowledged_at is None


@dataclass
class Queue:
    awaiting_contact: list[Item]
    in_contact: list[Item]
    recently_closed: list[Item]

    @property
    def alerts(self) -> list[Item]:
        """Due follow-ups nobody touched: the supervisors' alerts, until acknowledged or worked."""
        return [item for item in self.awaiting_contact if item.alert_open]


@dataclass
class Detail:
    item: Item
    encounter: Encounter | None
    consent: Consent | None
    attempts: list[ContactAttempt]
    notes: list[FollowUpNote]
    referrals: list[Referral]


@dataclass
class Timeline:
    """A neighbor's record with everything that happened around them, oldest first."""

    neighbor: Neighbor
    merged: list[Neighbor]  # the records merged into this one
    consents: list[Consent]
    calls: list[tuple[NeighborLink, Call, Encounter | None]]
    follow_ups: list[Item]
    referrals: list[Referral]
    entries: list[tuple[datetime, str, str, str | None]]  # (when, kind, words, link)


def build_queue(*, session: Session, reader: User, now: datetime, purpose: str = "follow-up queue",
                program: str | None = None) -> Queue:
    """Open follow-ups (awaiting first contact by due time, overdue first; then those in contact, least recently
    opened first) and those closed in the last week, of every program ``reader`` may see (or of ``program``); every
    neighbor shown is logged as read."""
    visible = follow_ups_visible_to(reader)
    if program:
        visible = visible & FollowUp.program_id.in_(select(Program.id).where(Program.code == program))
    open_rows = list(session.scalars(select(FollowUp).where(FollowUp.status.in_(OPEN_STATUSES), visible)
                                     .order_by(FollowUp.due_at, FollowUp.id)))
    closed_rows = list(session.scalars(select(FollowUp).where(FollowUp.status == FollowUpStatus.CLOSED,
                                                              FollowUp.closed_at >= now - RECENTLY_CLOSED, visible)
                                       .order_by(FollowUp.closed_at.desc(), FollowUp.id.desc()).limit(100)))
    items = _items(session, open_rows + closed_rows)
    neighbors.log_reads(session=session, neighbor_ids=[item.neighbor.id for item in items], reader=reader,
                        purpose=purpose, at=now)
    return Queue(awaiting_contact=[i for i in items if i.follow_up.status == FollowUpStatus.AWAITING_CONTACT],
                 in_contact=[i for i in items if i.follow_up.status == FollowUpStatus.IN_CONTACT],
                 recently_closed=[i for i in items if i.follow_up.status == FollowUpStatus.CLOSED])


def list_item(*, session: Session, follow_up_id: int, reader: User, now: datetime, purpose: str) -> Item:
    """One follow-up as a list shows it (need to know applies); its neighbor is logged as read."""
    follow_up = get_follow_up(session=session, follow_up_id=follow_up_id, reader=reader)
    item = _items(session, [follow_up])[0]
    neighbors.log_reads(session=session, neighbor_ids=[item.neighbor.id], reader=reader, purpose=purpose, at=now)
    return item


def follow_up_detail(*, session: Session, follow_up_id: int, reader: User, now: datetime,
                     purpose: str = "follow-up page") -> Detail:
    """One follow-up with its neighbor, attempts, notes and referrals; the neighbor is logged as read."""
    item = list_item(session=session, follow_up_id=follow_up_id, reader=reader, now=now, purpose=purpose)
    follow_up = item.follow_up
    return Detail(
        item=item, encounter=session.get(Encounter, follow_up.encounter_id) if follow_up.encounter_id else None,
        consent=session.get(Consent, follow_up.consent_id) if follow_up.consent_id else None,
        attempts=list(session.scalars(select(ContactAttempt).where(ContactAttempt.follow_up_id == follow_up.id)
                                      .order_by(ContactAttempt.at, ContactAttempt.id))),
        notes=list(session.scalars(select(FollowUpNote).where(FollowUpNote.follow_up_id == follow_up.id)
                                   .order_by(FollowUpNote.created_at, FollowUpNote.id))),
        referrals=list(session.scalars(select(Referral).where(Referral.follow_up_id == follow_up.id)
                                       .order_by(Referral.made_at, Referral.id))),
    )


def neighbor_timeline(*, session: Session, neighbor_id: int, reader: User, now: datetime,
                      purpose: str = "neighbor page") -> Timeline:
    """A neighbor's record (need to know applies; the read is logged) with their calls, encounters, follow-ups,
    referrals and consents as one timeline."""
    neighbor = neighbors.read_neighbor(session=session, neighbor_id=neighbor_id, reader=reader, purpose=purpose,
                                       at=now)
    merged = neighbors.merged_into(session=session, neighbor_id=neighbor.id, reader=reader)
    records = [neighbor.id, *(record.id for record in merged)]
    neighbors.log_reads(session=session, neighbor_ids=records[1:], reader=reader, purpose=purpose, at=now)
    links = neighbors.calls_of(session=session, neighbor_ids=records)
    call_ids = [link.call_id for link in links]
    calls = {call.id: call for call in session.scalars(select(Call).where(Call.id.in_(call_ids)))}
    encounter_ids = [link.encounter_id for link in links if link.encounter_id]
    encounters = {e.id: e for e in session.scalars(select(Encounter).where(Encounter.id.in_(encounter_ids)))}
    rows = list(session.scalars(select(FollowUp).where(FollowUp.neighbor_id.in_(records),
                                                       follow_ups_visible_to(reader)).order_by(FollowUp.id)))
    items = _items(session, rows, neighbor)
    referrals = list(session.scalars(select(Referral).where(Referral.follow_up_id.in_([r.id for r in rows]))
                                     .order_by(Referral.made_at, Referral.id)))
    consents = [consent for ident in records for consent in neighbors.consents_of(session=session, neighbor_id=ident)]
    entries = _entries(links, calls, encounters, items, referrals, consents)
    return Timeline(neighbor=neighbor, merged=merged, consents=consents,
                    calls=[(link, calls[link.call_id], encounters.get(link.encounter_id or 0)) for link in links],
                    follow_ups=items, referrals=referrals, entries=entries)


def _entries(links: list[NeighborLink], calls: dict[int, Call], encounters: dict[int, Encounter], items: list[Item],
             referrals: list[Referral], consents: list[Consent]) -> list[tuple[datetime, str, str, str | None]]:
    """The timeline's lines, oldest first: (when, kind, words, link)."""
    entries: list[tuple[datetime, str, str, str | None]] = []
    for link in links:
        call = calls[link.call_id]
        entries.append((call.received_at, "call", f"Call {call.external_id or call.id}: "
                        f"{call.nature_code or call.incident_type or 'call'}", f"/calls/{call.id}"))
        encounter = encounters.get(link.encounter_id or 0)
        if encounter is not None:
            entries.append((encounter.created_at, "encounter", f"Encounter on call {call.external_id or call.id}",
                            f"/calls/{call.id}"))
    cases = care_rules().case_programs()  # programs whose cases a person opens (not a follow-up of an encounter)
    for item in items:
        kind = "case" if item.case_program in cases and item.call is None else "follow-up"
        entries.append((item.follow_up.opened_at, kind, f"{item.case_program or 'Follow-up'} {kind} "
                        f"{item.follow_up.id} opened", f"/follow-ups/{item.follow_up.id}"))
        if item.follow_up.closed_at is not None:
            entries.append((item.follow_up.closed_at, kind, f"{item.case_program or 'Follow-up'} {kind} "
                            f"{item.follow_up.id} closed", f"/follow-ups/{item.follow_up.id}"))
    for referral in referrals:
        for status in ("made", "accepted", "completed", "declined", "no_response"):
            at = getattr(referral, f"{status}_at")
            if at is not None:
                entries.append((at, "referral", f"Referral to {referral.service_name}: {status.replace('_', ' ')}",
                                f"/follow-ups/{referral.follow_up_id}"))
    for consent in consents:
        entries.append((consent.given_at, "consent", f"Consent given ({consent.purpose.replace('_', ' ')})", None))
        if consent.withdrawn_at is not None:
            entries.append((consent.withdrawn_at, "consent",
                            f"Consent withdrawn ({consent.purpose.replace('_', ' ')})", None))
    entries.sort(key=lambda entry: entry[0])
    return entries


def _items(session: Session, rows: list[FollowUp], neighbor: Neighbor | None = None) -> list[Item]:
    """List items for ``rows`` in their order, each with the record kept for its neighbor (``neighbor`` when given):
    a fixed number of queries, however many rows."""
    if not rows:
        return []
    ids = [row.id for row in rows]
    kept = _kept_records(session, {r.neighbor_id for r in rows}, neighbor)
    encounters: dict[int, int] = {ident: call for ident, call in session.execute(
        select(Encounter.id, Encounter.call_id).where(Encounter.id.in_({r.encounter_id for r in rows
                                                                        if r.encounter_id})))}
    programs: dict[int, str] = {ident: code for ident, code in session.execute(
        select(Encounter.id, Program.code).join(Program, Program.id == Encounter.program_id)
        .where(Encounter.id.in_(list(encounters))))}
    case_programs: dict[int, str] = {ident: code for ident, code in session.execute(
        select(Program.id, Program.code).where(Program.id.in_({r.program_id for r in rows if r.program_id})))}
    calls = {c.id: c for c in session.scalars(select(Call).where(Call.id.in_(set(encounters.values()))))}
    needs: dict[int, list[str]] = defaultdict(list)
    for follow_up_id, need in session.execute(select(FollowUpNeed.follow_up_id, FollowUpNeed.need)
                                              .where(FollowUpNeed.follow_up_id.in_(ids))
                                              .order_by(FollowUpNeed.id)):
        needs[follow_up_id].append(need)
    counts: dict[int, int] = {ident: int(count) for ident, count in session.execute(
        select(ContactAttempt.follow_up_id, func.count()).where(ContactAttempt.follow_up_id.in_(ids))
        .group_by(ContactAttempt.follow_up_id))}
    latest_ids = select(func.max(ContactAttempt.id)).where(ContactAttempt.follow_up_id.in_(ids)).group_by(
        ContactAttempt.follow_up_id)
    last = {a.follow_up_id: a for a in session.scalars(select(ContactAttempt).where(ContactAttempt.id.in_(latest_ids)))}
    return [Item(follow_up=row, neighbor=kept[row.neighbor_id],
                 call=calls[encounters[row.encounter_id]] if row.encounter_id else None,
                 program=programs.get(row.encounter_id or 0, ""),
                 case_program=case_programs.get(row.program_id or 0, ""),
                 needs=needs[row.id], attempts=int(counts.get(row.id, 0)), last_attempt=last.get(row.id))
            for row in rows]


def _kept_records(session: Session, neighbor_ids: set[int], neighbor: Neighbor | None) -> dict[int, Neighbor]:
    """For each record id: the record kept for it (itself, or the record it was merged into)."""
    records = {n.id: n for n in session.scalars(select(Neighbor).where(Neighbor.id.in_(neighbor_ids)))}
    kept_ids = {record.kept_id for record in records.values()} - set(records)
    records.update({n.id: n for n in session.scalars(select(Neighbor).where(Neighbor.id.in_(kept_ids)))})
    if neighbor is not None:
        records[neighbor.id] = neighbor
    return {ident: records[records[ident].kept_id] for ident in neighbor_ids}
