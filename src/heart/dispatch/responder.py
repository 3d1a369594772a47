"""The responder's phone: the unit's current call, one tap per status, backup, outcomes, narrative, and at the
top, above everything, a safety alert when the call's facts change while the crew is on it ("weapon reported —
stage and wait for police"), until both the crew and the board acknowledge it.

Every button carries a token made when the page was drawn; a tap that arrives twice (double tap, a retry on
a flaky network) is answered with the page as it stands and changes nothing. The alert has its own place on the
page, redrawn by the stream on its own, so it never wipes what the crew is typing in the outcome form.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.auth.need_to_know import responses_visible_to
from heart.calls import notes
from heart.calls.desk import desk_rules
from heart.calls.models import Call
from heart.city.programs import Encounter as EncounterWords
from heart.city.programs import city_programs
from heart.db import utcnow
from heart.deps import CurrentUser, SessionDep, WatchedSession, allow
from heart.dispatch import alerts, service, timers
from heart.dispatch.crew_states import CrewState, safety_banner_html
from heart.dispatch.models import Response as Assignment
from heart.dispatch.schemas import ClearResponse
from heart.dispatch.taps import first_time, new_token
from heart.encounters.models import Encounter, NarrativeEntry
from heart.encounters.service import narrative_of
from heart.errors import DomainError, http_status
from heart.inputs import RowId
from heart.live import start as start_live
from heart.navigation.followups.pages import HandoffFields
from heart.navigation.followups.rules import care_rules
from heart.neighbors.familiar.review import approach_notes_for_call
from heart.programs.models import Program, Unit
from heart.realtime import sse
from heart.realtime.feed import keep_alive_until_change
from heart.realtime.lease import Lease
from heart.templating import render, templates

router = APIRouter(include_in_schema=False)
Token = Annotated[str | None, Form()]
RECENT = timedelta(hours=12)  # cleared responses the crew can still add narrative to from this screen



@dataclass
class RecentResponse:
    response: Assignment
    call: Call
    encounter: Encounter | None
    narrative: list[NarrativeEntry]


@dataclass
class ResponderView:
    """What the crew's phone shows."""

    user: User
    unit: Unit | None
    response: Assignment | None = None
    call: Call | None = None
    timer: timers.TimerState | None = None
    recent: list[RecentResponse] = field(default_factory=list)

    @property
    def state(self) -> str:
        """Changes only when the screen must be redrawn for someone else's action (a new call, a cancel)."""
        return f"{self.response.id}:{self.response.status}" if self.response else "none"


def live_response(session: Session, unit_id: RowId) -> Assignment | None:
    """The unit's response that has neither cleared nor been cancelled."""
    return session.scalar(select(Assignment).where(Assignment.unit_id == unit_id, Assignment.cleared_at.is_(None),
                                                   Assignment.cancelled_at.is_(None)))


def responder_view(*, session: Session, user: User, now: datetime) -> ResponderView:
    """The unit's live response with its call and timer, and its recently cleared ones with narrative."""
    unit = session.get(Unit, user.unit_id) if user.unit_id else None
    view = ResponderView(user=user, unit=unit)
    if unit is None:
        return view
    view.response = live_response(session, unit.id)
    if view.response is not None:
        view.call = session.get_one(Call, view.response.call_id)
        view.timer = timers.timer_of(view.response, session.get_one(Program, view.response.program_id))
    recent = session.execute(
        select(Assignment, Call, Encounter).join(Call, Call.id == Assignment.call_id)
        .outerjoin(Encounter, Encounter.response_id == Assignment.id)
        .where(Assignment.unit_id == unit.id, Assignment.cleared_at > now - RECENT,
               responses_visible_to(user, now))
        .order_by(Assignment.cleared_at.desc()).limit(5)
    ).all()
    view.recent = [RecentResponse(r, c, e, narrative_of(session=session, encounter_id=e.id) if e else [])
                   for r, c, e in recent]
    return view


def encounter_words(session: Session, unit: Unit | None) -> EncounterWords:
    """The clear form's words for the unit's program (its ``encounter`` in the city's ``programs.yaml``)."""
    programs = city_programs()
    code = session.scalar(select(Program.code).where(Program.id == unit.program_id)) if unit is not None else None
    program = programs.programs.get(code or "")
    if program is not None:
        return program.encounter
    return next((p.encounter for p in programs.of_kind("field")), EncounterWords())


def _panel(request: Request, db: Session, user: User, *, error: str | None = None, status: int = 200
           ) -> HTMLResponse:
    view = responder_view(session=db, user=user, now=utcnow())
    care = care_rules(request.app.state.settings)
    approach = approach_notes_for_call(session=db, call_id=view.call.id, reader=user, at=utcnow()) if view.call \
        else []
    words = encounter_words(db, view.unit)
    return render(request, "responder/_panel.html", {
        "view": view, "error": error, "new_token": new_token, "needs": list(words.needs or care.needs.needs),
        "services": words.services,
        "approach": approach,
        "contact_methods": care.config.contact_methods,
        "dispositions": words.dispositions, "safety_questions": words.safety_questions, "now": utcnow(),
        "messages": call_messages(db, user) if view.call is not None else "",
    }, status_code=status)


def call_messages(session: Session, user: User, *, error: str | None = None, list_only: bool = False) -> str:
    """The notes and messages of the unit's live call, as the phone shows them: the section with its message box,
    or (``list_only``) the list the stream and a sent message redraw."""
    response = live_response(session, user.unit_id) if user.unit_id is not None else None
    call = session.get(Call, response.call_id) if response is not None else None
    found = notes.notes_for_call(session=session, call_id=call.id, viewer=user) if call is not None else []
    names = {-unit.id: unit.call_sign for unit in session.scalars(
        select(Unit).where(Unit.id.in_({n.unit_id for n in found if n.unit_id is not None})))}
    template = "responder/_message_list.html" if list_only else "responder/_messages.html"
    return templates.env.get_template(template).render(
        call=call, notes=found, names=names, can_write=response is not None, new_token=new_token, error=error,
        max_length=desk_rules().messages.max_length)


def safety_banner(session: Session, unit_id: int | None) -> str:
    """The crew's unacknowledged safety alerts, as the page shows them (empty when there are none)."""
    return safety_banner_html(alerts.crew_alerts(session=session, unit_id=unit_id) if unit_id is not None else [])


@router.get("/responder", dependencies=[allow("responder.view")])
def responder_page(request: Request, db: SessionDep, user: CurrentUser) -> HTMLResponse:
    """The phone screen; it listens for a new call, a cancellation or a safety alert and redraws that part."""
    panel = bytes(_panel(request, db, user).body).decode()
    return render(request, "responder/view.html", {"panel": panel, "safety": safety_banner(db, user.unit_id)})


@router.post("/responder/alerts/{alert_id}/acknowledge", dependencies=[allow("responder.view")])
def acknowledge_alert(alert_id: RowId, db: SessionDep, user: CurrentUser) -> HTMLResponse:
    """The crew has seen the safety alert; it stays until dispatch has acknowledged it too."""
    try:
        alerts.acknowledge_as_crew(session=db, alert_id=alert_id, by=user, now=utcnow())
        db.flush()
    except DomainError as error:
        db.rollback()
        return HTMLResponse(safety_banner(db, user.unit_id), status_code=http_status(error))
    return HTMLResponse(safety_banner(db, user.unit_id))


@router.post("/responder/calls/{call_id}/messages", dependencies=[allow("responder.view")])
def message_dispatch(call_id: RowId, db: SessionDep, user: CurrentUser,
                     text: Annotated[str, Form(max_length=20000)] = "", token: Token = None) -> HTMLResponse:
    """A short message from the crew to dispatch on their call; answers the call's notes and messages."""
    try:
        notes.send_message(session=db, call_id=call_id, text=text, by=user, now=utcnow(), token=token)
        db.flush()
    except DomainError as error:
        db.rollback()
        return HTMLResponse(call_messages(db, user, error=str(error), list_only=True),
                            status_code=http_status(error))
    return HTMLResponse(call_messages(db, user, list_only=True))


@router.get("/responder/panel", dependencies=[allow("responder.view")])
def responder_panel(request: Request, db: SessionDep, user: CurrentUser) -> HTMLResponse:
    """The panel alone, for the page to redraw."""
    return _panel(request, db, user)


@router.get("/responder/stream", dependencies=[allow("responder.view")])
async def responder_stream(request: Request, user: CurrentUser, watch: WatchedSession) -> Response:
    """Server-sent events: the unit's state (response and status) whenever it changes, while the crew member stays
    signed in (a ``signed_out`` event ends it)."""
    await start_live(request.app)
    realtime, crews = request.app.state.realtime, request.app.state.crew_states
    factory, unit_id = request.app.state.read_sessionmaker, user.unit_id

    def message_list() -> str:
        with factory() as session:
            return call_messages(session, user, list_only=True)

    async def body() -> AsyncIterator[bytes]:
        yield sse.retry(1000)
        seen = realtime.changes.generation
        lease = Lease(still_valid=watch.still_signed_in)
        shown: CrewState | None = None
        if unit_id is not None:
            crews.watch(unit_id)
        try:
            while True:
                # from the shared reading when it answers already (no thread, no database), else read it
                current = CrewState("none", "") if unit_id is None else \
                    crews.cached(unit_id, seen) or await anyio.to_thread.run_sync(crews.state, unit_id, seen)
                if shown is None or current.banner != shown.banner:  # the alert first: what the crew must see
                    yield sse.message("safety", current.banner)
                if shown is None or current.response != shown.response:
                    yield sse.message("state", current.response)
                if shown is None or current.notes != shown.notes:  # a note or message written (the box keeps
                    # what the crew is typing): only then is the list drawn, for this crew member
                    yield sse.message("messages", await anyio.to_thread.run_sync(message_list)
                                      if current.notes else "")
                shown = current
                if await lease.over():  # after sending, and on every change (see Feed.stream)
                    break
                async for keepalive in keep_alive_until_change(realtime.changes, seen, lease):
                    yield keepalive
                if realtime.changes.generation == seen:
                    break  # the server is stopping, the stream has run its time, or its sign-in ended
                seen = realtime.changes.generation
            farewell = lease.farewell()
            if farewell is not None:
                yield farewell
        finally:
            if unit_id is not None:
                crews.unwatch(unit_id)

    return sse.stream(body())


@router.post("/responder/responses/{response_id}/clear", dependencies=[allow("dispatch.status")])
def clear(
    response_id: RowId, request: Request, db: SessionDep, user: CurrentUser, handoff: HandoffFields,
    disposition: Annotated[str, Form(max_length=64)] = "", transported: Annotated[bool, Form()] = False,
    transport_destination: Annotated[str, Form(max_length=128)] = "",
    pd_backup_for_safety: Annotated[bool, Form()] = False, ems_support: Annotated[bool, Form()] = False,
    team_felt_safe: Annotated[Literal["yes", "no", ""], Form()] = "",
    needs: Annotated[list[str] | None, Form()] = None, services: Annotated[list[str] | None, Form()] = None,
    consent_to_follow_up: Annotated[bool, Form()] = False, narrative: Annotated[str, Form(max_length=20000)] = "",
    token: Token = None,
) -> HTMLResponse:
    """Clear with the outcomes the dashboard counts, and open the encounter; with consent, the warm handoff puts the
    neighbor's follow-up in the navigators' queue at once."""
    if not disposition.strip():
        return _panel(request, db, user, error="Choose a disposition before clearing.", status=422)
    if not team_felt_safe:
        return _panel(request, db, user, error="Say whether the team felt safe before clearing.", status=422)
    if handoff.error:
        return _panel(request, db, user, error=handoff.error, status=422)
    outcome = ClearResponse(transported=transported, transport_destination=transport_destination or None,
                            pd_backup_for_safety=pd_backup_for_safety, ems_support=ems_support,
                            team_felt_safe=team_felt_safe == "yes",
                            disposition=disposition.strip(), needs=needs or [], services=services or [],
                            consent_to_follow_up=consent_to_follow_up, narrative=narrative.strip() or None,
                            handoff=handoff.handoff)
    care = care_rules(request.app.state.settings)
    return _once(request, db, user, token, f"clear:{response_id}",
                 lambda now: service.clear_response(session=db, response_id=response_id, outcome=outcome, at=now,
                                                    now=now, by=user, care=care))


Step = Literal["en-route", "on-scene", "transport", "check-in"]


@router.post("/responder/responses/{response_id}/{step}", dependencies=[allow("dispatch.status")])
def tap(response_id: RowId, step: Step, request: Request, db: SessionDep, user: CurrentUser,
        token: Token = None) -> HTMLResponse:
    """One tap: en route, on scene, transporting, or "all OK" (a check-in that restarts the safety timer)."""
    actions: dict[str, Callable[[datetime], object]] = {
        "en-route": lambda now: service.mark_en_route(session=db, response_id=response_id, at=now, now=now, by=user),
        "on-scene": lambda now: service.mark_on_scene(session=db, response_id=response_id, at=now, now=now, by=user),
        "transport": lambda now: service.start_transport(session=db, response_id=response_id, at=now, now=now,
                                                         by=user, destination=None),
        "check-in": lambda now: timers.check_in(session=db, response_id=response_id, by=user, now=now),
    }
    return _once(request, db, user, token, f"{step}:{response_id}", actions[step])


@router.post("/responder/responses/{response_id}/backup/{kind}", dependencies=[allow("dispatch.status")])
def backup(response_id: RowId, kind: Literal["pd", "ems"], request: Request, db: SessionDep, user: CurrentUser,
           token: Token = None) -> HTMLResponse:
    """One tap for PD (team safety) or EMS: the board is alerted and the outcome recorded."""
    return _once(request, db, user, token, f"backup:{kind}:{response_id}",
                 lambda now: alerts.request_backup(session=db, response_id=response_id, kind=kind, by=user, now=now))


def _once(request: Request, db: Session, user: User, token: str | None, action: str,
          act: Callable[[datetime], object]) -> HTMLResponse:
    """Do ``act`` the first time ``token`` arrives; always answer with the panel as it now stands."""
    now = utcnow()
    try:
        if first_time(session=db, token=token, action=action, user_id=user.id, now=now):
            act(now)
            db.flush()
    except DomainError as error:
        db.rollback()
        return _panel(request, db, user, error=str(error), status=http_status(error))
    return _panel(request, db, user)
