"""Assignment and the response status machine: dispatched → en route → on scene → (transporting) → cleared.

Every transition is a conditional write, so two people (or a double tap) can never apply one twice, and
every transition appends an event. A repeated tap for a step already taken changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Table, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from heart.auth.models import Role, User
from heart.auth.need_to_know import responses_visible_to
from heart.calls.models import Call, CallStatus
from heart.calls.service import MAX_CLOCK_SKEW, get_call
from heart.dispatch.models import Response
from heart.dispatch.schemas import CancelResponse, ClearResponse
from heart.encounters.service import open_encounter
from heart.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from heart.events import reason_given, record_event
from heart.navigation.followups.flows import hand_off
from heart.navigation.followups.rules import CareRules, care_rules
from heart.programs.models import Program, Unit, UnitStatus
from heart.triage.policy import Policy
from heart.triage.safety import unarmed_refusal
from heart.triage.service import policy_named

STEPS = ("dispatched_at", "en_route_at", "on_scene_at", "transport_started_at", "cleared_at")
UNIT_STATUS_AFTER = {
    "en_route_at": UnitStatus.EN_ROUTE,
    "on_scene_at": UnitStatus.ON_SCENE,
    "transport_started_at": UnitStatus.TRANSPORTING,
}
OPEN_CALL = (CallStatus.OPEN, CallStatus.TRIAGED, CallStatus.ASSIGNED)


class UnitNotAvailable(Conflict):
    """The unit is off duty or already on a call."""


class ExclusionHolds(Conflict):
    """The unit is an unarmed team and the call's facts do not clear every exclusion."""


def assign_unit(*, session: Session, call_id: int, unit_id: int, at: datetime, now: datetime, by: User,
                additional: bool = False, policy: Policy | None = None) -> Response:
    """Send a unit to a call; the unit becomes dispatched in the same transaction (a conditional claim).

    This is the one place a response is created, whatever the path (the board's buttons, the JSON API, a unit
    added to a call later). In the same transaction, with the call's row locked and read afresh, a unit of an
    unarmed program is refused unless the call's current facts clear every exclusion; the refusal names what
    blocks it. A call that already has a unit on it gets another only when ``additional`` says so (the board's
    "add a unit"), so two quick presses on two "Assign" buttons send one unit.
    """
    call = get_call(session=session, call_id=call_id, for_update=True)
    found = session.execute(_UNIT_AND_PROGRAM, {"unit_id": unit_id}).first()  # the unit and its program, in one read
    if found is None:
        raise NotFound("unit", unit_id, field="unit_id")
    unit, program = found
    _check_time(at, now)
    if call.status not in OPEN_CALL:
        raise Conflict(f"call {call.id} is {call.status.value}; a unit cannot be sent to it")
    if call.pathway is None:
        raise Conflict(f"call {call.id} has no triage decision yet; triage it before sending a unit")
    if call.pathway != program.code:
        raise Conflict(f"call {call.id} is routed to {call.pathway}, not {program.code}; override the triage "
                       f"decision with a reason before sending {unit.call_sign}")
    if at < call.received_at:
        raise Conflict(f"the dispatch time {at.isoformat()} is before the call was received")
    refusal = unarmed_refusal(policy or policy_named(None), program.code, call)
    if refusal is not None:
        raise ExclusionHolds(f"{unit.call_sign} cannot be sent: {refusal}")
    on_call = live_units(session=session, call_id=call.id)
    if on_call and not additional:
        raise Conflict(f"call {call.id} already has {', '.join(on_call)} on it; use \"Add a unit\" to send "
                       f"{unit.call_sign} as well")
    claimed = _set_unit(session, unit.id, UNITS.c.status == UnitStatus.AVAILABLE,
                        status=UnitStatus.DISPATCHED, status_changed_at=at)
    if not claimed:  # someone else took it first, or it is off duty
        session.refresh(unit)
        state = "off duty" if unit.status == UnitStatus.OFF_DUTY else "already on another call"
        raise UnitNotAvailable(f"{unit.call_sign} is {state} and cannot be sent")
    response = Response(call_id=call.id, unit_id=unit.id, program_id=program.id, dispatched_at=at,
                        dispatched_by_id=by.id)
    session.add(response)
    try:
        session.flush()
    except IntegrityError:  # the database's own guard: one live response per unit
        raise UnitNotAvailable(f"{unit.call_sign} is already on another call and cannot be sent") from None
    before_status = call.status
    call.status = CallStatus.ASSIGNED
    record_event(session=session, kind="response.dispatched", subject_type="response", subject_id=response.id,
                 call_id=call.id, at=at, actor_id=by.id, before={"unit_status": "available",
                                                                 "call_status": before_status.value},
                 after={"unit_id": unit.id, "call_sign": unit.call_sign, "unit_status": "dispatched",
                        "additional": bool(on_call)})
    return response


def live_units(*, session: Session, call_id: int) -> list[str]:
    """Call signs of the units on the call now (dispatched, en route, on scene or transporting)."""
    return list(session.scalars(_LIVE_UNITS, {"call_id": call_id}))


def call_state(*, session: Session, call_id: int) -> str:
    """Where a call stands now, in words for a message: "CRT-5 still on call 12", "call 12 is back in the queue"."""
    call = get_call(session=session, call_id=call_id)
    on_call = live_units(session=session, call_id=call.id)
    if on_call:
        return f"{', '.join(on_call)} still on call {call.id}"
    if call.status == CallStatus.TRIAGED:
        return f"call {call.id} is back in the queue for {call.pathway}"
    if call.status == CallStatus.CANCELLED:
        return f"call {call.id} is closed (no unit needed)"
    return f"call {call.id} is {call.status.value}"


def mark_en_route(*, session: Session, response_id: int, at: datetime, now: datetime, by: User) -> Response:
    """The unit is on its way."""
    return _advance(session, response_id, "en_route_at", at, now, by, requires=("dispatched_at",))


def mark_on_scene(*, session: Session, response_id: int, at: datetime, now: datetime, by: User) -> Response:
    """The unit has arrived (a unit that arrives without calling en route is still on scene)."""
    return _advance(session, response_id, "on_scene_at", at, now, by, requires=("dispatched_at",))


def start_transport(
    *, session: Session, response_id: int, at: datetime, now: datetime, by: User, destination: str | None
) -> Response:
    """The unit is taking the neighbor somewhere (a facility, a shelter, home)."""
    response = _advance(session, response_id, "transport_started_at", at, now, by, requires=("on_scene_at",))
    if destination and not response.transport_destination:
        response.transport_destination = destination
    return response


def clear_response(
    *, session: Session, response_id: int, outcome: ClearResponse, at: datetime, now: datetime, by: User,
    care: CareRules | None = None,
) -> Response:
    """The unit is done: record outcomes, open the encounter, and free the unit. With the neighbor's consent, the
    warm handoff opens their follow-up in the navigators' queue in the same transaction."""
    response = _lock(session, response_id, by)
    if response.cleared_at is not None:
        return response  # a repeated tap
    if response.on_scene_at is None:
        raise Conflict(_never_arrived(session, response, "cleared"))
    _check_order(response, "cleared_at", at, now)
    transported = outcome.transported if outcome.transported is not None else (
        response.transport_started_at is not None)
    response.cleared_at = at
    response.transported = transported
    response.transport_destination = outcome.transport_destination or response.transport_destination
    # A backup requested during the response stays recorded, whatever the outcome form says.
    response.pd_backup_for_safety = outcome.pd_backup_for_safety or bool(response.pd_backup_for_safety)
    response.ems_support = outcome.ems_support or bool(response.ems_support)
    response.team_felt_safe = outcome.team_felt_safe
    response.disposition = outcome.disposition
    _free_unit(session, response, at)
    record_event(session=session, kind="response.cleared", subject_type="response", subject_id=response.id,
                 call_id=response.call_id, at=at, actor_id=by.id,
                 after={"transported": transported, "pd_backup_for_safety": response.pd_backup_for_safety,
                        "ems_support": response.ems_support, "team_felt_safe": outcome.team_felt_safe,
                        "disposition": outcome.disposition})
    _settle_call(session, response, at, resolved=True)
    # The encounter's flush writes the response, the call and their events together (one flush, not three: its
    # look for an encounter already open reads no row the changes so far could touch).
    with session.no_autoflush:
        encounter = open_encounter(session=session, response=response, needs=outcome.needs,
                                   services=outcome.services, consent_to_follow_up=outcome.consent_to_follow_up,
                                   narrative=outcome.narrative, at=at, actor_id=by.id)
    if outcome.consent_to_follow_up or outcome.handoff is not None:
        hand_off(session=session, encounter=encounter, handoff=outcome.handoff, at=at, actor_id=by.id,
                 rules=care or care_rules())
    return response


def cancel_response(
    *, session: Session, response_id: int, data: CancelResponse, at: datetime, now: datetime, by: User
) -> Response:
    """Call a unit off before it arrives; the unit is free again at once."""
    response = _lock(session, response_id, by)
    if response.cancelled_at is not None:
        return response
    if response.on_scene_at is not None:
        raise Conflict(f"response {response.id} is already on scene; clear it instead of cancelling")
    _check_order(response, "cancelled_at", at, now)
    response.cancelled_at = at
    response.cancel_reason = data.reason
    _free_unit(session, response, at)
    record_event(session=session, kind="response.cancelled", subject_type="response", subject_id=response.id,
                 call_id=response.call_id, at=at, actor_id=by.id,
                 after={"reason": reason_given(data.reason),
                        "call_still_needs_response": data.call_still_needs_response})
    _settle_call(session, response, at, resolved=False, still_needed=data.call_still_needs_response)
    return response


def get_response(*, session: Session, response_id: int, viewer: User | None = None) -> Response:
    """A response by id; one a viewer may not read (heart.auth.need_to_know) is said not to exist."""
    query = select(Response).where(Response.id == response_id)
    if viewer is not None:
        query = query.where(responses_visible_to(viewer))
    response = session.scalar(query)
    if response is None:
        raise NotFound("response", response_id, field="response_id")
    return response


def responses_for_call(*, session: Session, call_id: int, viewer: User | None = None) -> list[Response]:
    """A call's responses, oldest first (those ``viewer`` may read)."""
    query = select(Response).where(Response.call_id == call_id).order_by(Response.id)
    if viewer is not None:
        query = query.where(responses_visible_to(viewer))
    return list(session.scalars(query))


def _may_touch(user: User, response: Response) -> bool:
    return user.role != Role.RESPONDER or (user.unit_id is not None and user.unit_id == response.unit_id)


def _lock(session: Session, response_id: int, by: User) -> Response:
    response = session.scalar(_RESPONSE_FOR_UPDATE, {"response_id": response_id})
    if response is None:
        raise NotFound("response", response_id, field="response_id")
    if not _may_touch(by, response):
        raise PermissionDenied("responders may only update their own unit's responses")
    return response


def _advance(
    session: Session, response_id: int, step: str, at: datetime, now: datetime, by: User, *, requires: tuple[str, ...]
) -> Response:
    response = _lock(session, response_id, by)
    if getattr(response, step) is not None:
        return response  # a repeated tap changes nothing
    if response.cancelled_at is not None:
        raise Conflict(f"response {response.id} was cancelled; it cannot become {_words(step)}")
    if response.cleared_at is not None:
        raise Conflict(f"response {response.id} has already cleared; it cannot become {_words(step)}")
    for needed in requires:
        if getattr(response, needed) is None:
            raise Conflict(_never_arrived(session, response, _words(step)))
    later = [s for s in STEPS[STEPS.index(step) + 1:] if getattr(response, s) is not None]
    if later:
        raise Conflict(f"response {response.id} is already {_words(later[-1])}; it cannot go back to "
                       f"{_words(step)}")
    _check_order(response, step, at, now)
    setattr(response, step, at)
    unit_status = UNIT_STATUS_AFTER[step]
    values: dict[str, object] = {"status": unit_status, "status_changed_at": at}
    if step == "on_scene_at":  # the unit is where the call is: its last known position for the next one
        with session.no_autoflush:  # the step is written with its event, in one flush
            lat, lon = session.execute(_CALL_POINT, {"call_id": response.call_id}).one()
        if lat is not None and lon is not None:
            values.update(lat=lat, lon=lon, position_at=at)
    _set_unit(session, response.unit_id, **values)
    record_event(session=session, kind=f"response.{_words(step).replace(' ', '_')}", subject_type="response",
                 subject_id=response.id, call_id=response.call_id, at=at, actor_id=by.id,
                 after={"unit_status": unit_status.value})
    return response


def _check_time(at: datetime, now: datetime) -> None:
    if at > now + MAX_CLOCK_SKEW:
        raise InvalidInput(f"the time {at.isoformat()} is in the future", field="at")


def _check_order(response: Response, step: str, at: datetime, now: datetime) -> None:
    _check_time(at, now)
    previous = max(getattr(response, s) for s in STEPS if getattr(response, s) is not None)
    if at < previous:
        raise Conflict(f"the time given for {_words(step)} ({at.isoformat()}) is before the response's previous "
                       f"step ({previous.isoformat()})")


def _never_arrived(session: Session, response: Response, what: str) -> str:
    unit = session.get_one(Unit, response.unit_id)
    if what == "cleared":
        return f"{unit.call_sign} never arrived on scene for response {response.id}; it cannot be cleared " \
               "(cancel it instead)"
    return f"{unit.call_sign} has not arrived on scene for response {response.id}; it cannot be {what}"


def _words(step: str) -> str:
    return {"dispatched_at": "dispatched", "en_route_at": "en route", "on_scene_at": "on scene",
            "transport_started_at": "transporting", "cleared_at": "cleared", "cancelled_at": "cancelled"}[step]


UNITS = cast(Table, Unit.__table__)

# The lifecycle's statements, built once (with their cache keys) instead of at every request.
_UNIT_AND_PROGRAM = (select(Unit, Program).join(Program, Program.id == Unit.program_id)
                     .where(Unit.id == bindparam("unit_id")))
_LIVE_UNITS = (select(Unit.call_sign).join(Response, Response.unit_id == Unit.id)
               .where(Response.call_id == bindparam("call_id"), Response.cleared_at.is_(None),
                      Response.cancelled_at.is_(None)).order_by(Unit.call_sign))
_RESPONSE_FOR_UPDATE = (select(Response).where(Response.id == bindparam("response_id")).with_for_update()
                        .execution_options(populate_existing=True))
_CALL_POINT = select(Call.lat, Call.lon).where(Call.id == bindparam("call_id"))
_OTHER_RESPONSES = select(
    func.count().filter(Response.cleared_at.is_(None), Response.cancelled_at.is_(None)),
    func.count().filter(Response.cleared_at.is_not(None)),
).where(Response.call_id == bindparam("call_id"), Response.id != bindparam("response_id"))


def _set_unit(session: Session, unit_id: int, *where: ColumnElement[bool], **values: object) -> bool:
    """One UPDATE of a unit's row (``where``: its condition, for a claim), as a plain statement: the unit's state
    changes no object the request holds, so the ORM has nothing to synchronise, except a unit it loaded, which is
    told the new values. Whether the row was updated."""
    with session.no_autoflush:  # the request's pending changes go in its next flush, not in one of their own
        result = cast(CursorResult[Any], session.execute(update(UNITS).where(UNITS.c.id == unit_id, *where)
                                                         .values(**values)))
    updated = result.rowcount
    loaded = session.identity_map.get(identity_key(Unit, unit_id)) if updated else None
    if loaded is not None:
        for name, value in values.items():
            set_committed_value(loaded, name, value)
    return bool(updated)


def _free_unit(session: Session, response: Response, at: datetime) -> None:
    _set_unit(session, response.unit_id, status=UnitStatus.AVAILABLE, status_changed_at=at)


def _settle_call(session: Session, ended: Response, at: datetime, *, resolved: bool,
                 still_needed: bool = True) -> None:
    """After a response ends (``ended``: cleared or cancelled in this transaction), the call is resolved, back in
    the queue, or cancelled. The call's other responses are counted in one read; ``ended`` counts as it stands now
    (not yet flushed)."""
    with session.no_autoflush:
        live, cleared = session.execute(_OTHER_RESPONSES, {"call_id": ended.call_id, "response_id": ended.id}).one()
        if live:
            return
        call = session.get_one(Call, ended.call_id)
    any_cleared = cleared or ended.cleared_at is not None
    if resolved or any_cleared:
        new_status = CallStatus.RESOLVED
    else:
        new_status = CallStatus.TRIAGED if still_needed else CallStatus.CANCELLED
    if new_status != call.status:
        before = call.status
        call.status = new_status
        if new_status in (CallStatus.RESOLVED, CallStatus.CANCELLED):
            call.closed_at = at
        record_event(session=session, kind=f"call.{new_status.value}", subject_type="call", subject_id=call.id,
                     call_id=call.id, at=at, actor_id=None, before={"status": before.value},
                     after={"status": new_status.value})
