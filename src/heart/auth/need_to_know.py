"""Need to know: which calls, responses, encounters, events and neighbors a responder may read. Written once, used
by every read path (the calls list and page, the JSON API, the responder's phone, encounters, timelines, neighbors).

A responder sees
- their unit's current call (the response that has neither cleared nor been cancelled), and
- the calls of their own shifts: responses dispatched to a unit while a shift that names them was on it.
An account that names no staff member (a unit's shared phone) counts the unit's shift in progress as its own.
Not the unit's whole history: a year of a unit's calls is thousands of neighbors.
A neighbor's record is narrower still: a responder reads only the neighbors named on their unit's current call.

A members-only program (the Office of Survivor Care) narrows every role: its cases, and the neighbors' records
made for them, are seen by the program's own staff alone (``programs.ProgramMember``) — not by a navigator of
another program, a supervisor who is not on its staff, an analyst or anyone else.

Other roles are limited by their permission families only (heart.auth.permissions). Each condition is a SQL
expression; the set of visible responses is found through indexes (a responder's shifts, then the responses
of that unit in each shift's window), never by scanning every response.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true, union_all

from heart.auth.models import Role, User
from heart.calls.models import Call
from heart.db import utcnow
from heart.dispatch.models import Alert, Response
from heart.encounters.models import Encounter, NarrativeEntry
from heart.events import Event
from heart.navigation.followups.models import FollowUp
from heart.neighbors.models import Neighbor, NeighborLink
from heart.programs.models import Program, ProgramAccess, ProgramMember, Shift, ShiftMember


def is_limited(viewer: User) -> bool:
    """Whether ``viewer`` reads only what need-to-know allows (responders)."""
    return viewer.role == Role.RESPONDER


def own_shifts(viewer: User, now: datetime) -> Select[int]:
    """The ids of the shifts that count as ``viewer``'s own."""
    if viewer.staff_id is not None:
        return select(ShiftMember.shift_id).where(ShiftMember.staff_id == viewer.staff_id)
    return select(Shift.id).where(Shift.unit_id == viewer.unit_id, Shift.starts_at <= now, Shift.ends_at > now)


def visible_responses(viewer: User, now: datetime | None = None) -> Select[int, int]:
    """(response id, call id) of every response a responder may read: the current call and their shifts'."""
    now = now or utcnow()
    parts: list[Select[int, int]] = []
    if viewer.unit_id is not None:
        parts.append(select(Response.id, Response.call_id).where(
            Response.unit_id == viewer.unit_id, Response.cleared_at.is_(None), Response.cancelled_at.is_(None)))
    if viewer.staff_id is not None or viewer.unit_id is not None:
        shifts = own_shifts(viewer, now).subquery()
        parts.append(
            select(Response.id, Response.call_id)
            .select_from(shifts)
            .join(Shift, Shift.id == shifts.c[0])
            .join(Response, and_(Response.unit_id == Shift.unit_id, Response.dispatched_at >= Shift.starts_at,
                                 Response.dispatched_at < Shift.ends_at))
        )
    if not parts:
        return select(Response.id, Response.call_id).where(false())
    if len(parts) == 1:
        return parts[0]
    union = union_all(*parts).subquery()
    return select(union.c[0], union.c[1])


def _visible_response_ids(viewer: User, now: datetime | None) -> Select[int]:
    visible = visible_responses(viewer, now).subquery()
    return select(visible.c[0])


def calls_visible_to(viewer: User, now: datetime | None = None) -> ColumnElement[bool]:
    """A condition on Call: the calls ``viewer`` may read."""
    if not is_limited(viewer):
        return true()
    visible = visible_responses(viewer, now).subquery()
    return Call.id.in_(select(visible.c[1]))


def responses_visible_to(viewer: User, now: datetime | None = None) -> ColumnElement[bool]:
    """A condition on Response: the responses ``viewer`` may read."""
    if not is_limited(viewer):
        return true()
    return Response.id.in_(_visible_response_ids(viewer, now))


def encounters_visible_to(viewer: User, now: datetime | None = None) -> ColumnElement[bool]:
    """A condition on Encounter: those of a response ``viewer`` may read (a phone-only encounter: no responder)."""
    if not is_limited(viewer):
        return true()
    return Encounter.response_id.in_(_visible_response_ids(viewer, now))


def events_visible_to(viewer: User, now: datetime | None = None) -> ColumnElement[bool]:
    """A condition on Event, for a call's timeline: the call's own events, and those of what ``viewer`` may read."""
    if not is_limited(viewer):
        return true()
    responses = _visible_response_ids(viewer, now)
    encounters = select(Encounter.id).where(Encounter.response_id.in_(responses))
    return and_(Event.call_id.in_(select(visible_responses(viewer, now).subquery().c[1])), or_(
        Event.subject_type.in_(("call", "triage_decision", "call_note")),
        and_(Event.subject_type == "response", Event.subject_id.in_(responses)),
        and_(Event.subject_type == "encounter", Event.subject_id.in_(encounters)),
        and_(Event.subject_type == "narrative_entry", Event.subject_id.in_(
            select(NarrativeEntry.id).where(NarrativeEntry.encounter_id.in_(encounters)))),
        and_(Event.subject_type == "alert", Event.subject_id.in_(
            select(Alert.id).where(or_(Alert.response_id.is_(None), Alert.response_id.in_(responses))))),
    ))


def member_programs(viewer: User) -> Select[int]:
    """The ids of the programs ``viewer`` is on the staff of."""
    return select(ProgramMember.program_id).where(ProgramMember.user_id == viewer.id)


def closed_programs(viewer: User) -> Select[int]:
    """The ids of the members-only programs ``viewer`` is not on the staff of."""
    return select(Program.id).where(Program.access == ProgramAccess.MEMBERS,
                                    Program.id.not_in(member_programs(viewer)))


def follow_ups_visible_to(viewer: User) -> ColumnElement[bool]:
    """A condition on FollowUp: every case but those of a members-only program ``viewer`` is not on the staff of."""
    return or_(FollowUp.program_id.is_(None), FollowUp.program_id.not_in(closed_programs(viewer)))


def neighbors_visible_to(viewer: User) -> ColumnElement[bool]:
    """A condition on Neighbor: not a record kept for a members-only program ``viewer`` is not on the staff of; and,
    for a responder, only the neighbors named on their unit's current call (none once it clears). Other roles are
    limited by their permission families (an analyst's include no neighbor route)."""
    program_allows = or_(Neighbor.restricted_to_program_id.is_(None),
                         Neighbor.restricted_to_program_id.in_(member_programs(viewer)))
    if not is_limited(viewer):
        return program_allows
    if viewer.unit_id is None:
        return false()
    current = select(Response.call_id).where(Response.unit_id == viewer.unit_id, Response.cleared_at.is_(None),
                                             Response.cancelled_at.is_(None))
    named = select(NeighborLink.neighbor_id).where(NeighborLink.call_id.in_(current))
    return and_(program_allows, Neighbor.id.in_(named))
