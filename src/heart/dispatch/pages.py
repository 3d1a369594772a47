"""The live dispatch board's routes: the page, its server-sent event stream, and its one-action buttons.

Buttons post with htmx and get back one line for the message area; the board itself changes through the
stream, the same way for the dispatcher who pressed and for everyone else. The fragments themselves are rendered by
``dispatch.fragments``; the feed that re-renders them on every change is wired by the app factory (``heart.live``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import escape
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.calls import notes
from heart.calls.service import get_call
from heart.db import utcnow
from heart.deps import CurrentUser, SessionDep, WatchedSession, allow
from heart.dispatch import alerts, flows, queue, service
from heart.dispatch.board import build_board
from heart.dispatch.fragments import board_parts
from heart.dispatch.schemas import CancelResponse
from heart.dispatch.taps import first_time, token_for
from heart.errors import ConfirmationNeeded, DomainError, InvalidInput, http_status
from heart.inputs import RowId
from heart.live import start as start_live
from heart.programs.models import Unit
from heart.programs.service import return_to_service
from heart.realtime import sse
from heart.templating import render, templates
from heart.triage import service as triage_service
from heart.triage.engine import FALLBACK_REASONS
from heart.triage.service import policy_named

router = APIRouter(include_in_schema=False)
TILES_ROUTE = "/map/tiles/{z}/{x}/{y}"  # tiles come through HEART (heart.places.pages), never from the browser
Token = Annotated[str | None, Form()]


@router.get("/dispatch", dependencies=[allow("dispatch.board")])
def board_page(request: Request, db: SessionDep) -> HTMLResponse:
    """The board as it stands; the stream keeps it current from then on."""
    board = build_board(session=db, now=utcnow(), policy=policy_named(None))
    homes = [(row.unit.home_lat, row.unit.home_lon) for row in board.units
             if row.unit.home_lat is not None and row.unit.home_lon is not None]
    center = [sum(lat for lat, _ in homes) / len(homes), sum(lon for _, lon in homes) / len(homes)] if homes else None
    return render(request, "dispatch/board.html", {
        "parts": board_parts(board), "board": board,
        "tiles_url": TILES_ROUTE if request.app.state.settings.map_tiles_url else "",
        "center": center,
    })


@router.get("/dispatch/stream", dependencies=[allow("dispatch.board")])
async def board_stream(request: Request, watch: WatchedSession) -> Response:
    """Server-sent events: each board fragment, again whenever it changes, while the viewer stays signed in."""
    await start_live(request.app)
    return sse.stream(request.app.state.board_feed.stream(still_valid=watch.still_signed_in))


@router.post("/dispatch/calls/{call_id}/assign", dependencies=[allow("dispatch.assign")])
def assign(call_id: RowId, db: SessionDep, user: CurrentUser, unit_id: Annotated[RowId, Form()],
           token: Token = None) -> HTMLResponse:
    """Send a unit with one action; the same button pressed twice sends it once, and a call that already has a
    unit gets no second one from here (two quick presses on two buttons send one unit)."""

    def act() -> str:
        now = utcnow()
        response = service.assign_unit(session=db, call_id=call_id, unit_id=unit_id, at=now, now=now, by=user)
        return f"{db.get_one(Unit, response.unit_id).call_sign} sent to call {call_id}."

    return _tap(db, user, token, f"assign:{call_id}:{unit_id}", act, "Already sent.")


@router.post("/dispatch/calls/{call_id}/add-unit", dependencies=[allow("dispatch.assign")])
def add_unit(call_id: RowId, db: SessionDep, user: CurrentUser, unit_id: Annotated[RowId, Form()],
             token: Token = None) -> HTMLResponse:
    """Send one more unit to a call that already has one: the explicit way to a second unit."""

    def act() -> str:
        now = utcnow()
        response = service.assign_unit(session=db, call_id=call_id, unit_id=unit_id, at=now, now=now, by=user,
                                       additional=True)
        on_call = service.live_units(session=db, call_id=call_id)
        return f"{db.get_one(Unit, response.unit_id).call_sign} added: {', '.join(on_call)} on call {call_id}."

    return _tap(db, user, token, f"add:{call_id}:{unit_id}", act, "Already added.")


@router.post("/dispatch/calls/{call_id}/fallback", dependencies=[allow("dispatch.assign")])
def fall_back(call_id: RowId, db: SessionDep, user: CurrentUser, token: Token = None,
              confirm: Annotated[str, Form()] = "") -> HTMLResponse:
    """No unit in time: first say which reason holds now and where the call would go; on confirmation, route it
    there, recorded with that reason."""
    if not confirm:
        return _ask_fallback(db, call_id)

    def act() -> str:
        decision = flows.fall_back(session=db, call_id=call_id, now=utcnow(), by=user, confirm=confirm)
        return f"Call {call_id} handed to {decision.pathway}: {decision.override_reason}."

    try:
        return _tap(db, user, token, f"fallback:{call_id}", act, "Already handed over.", raise_confirm=True)
    except ConfirmationNeeded:  # the facts changed since the dispatcher was asked: ask again with the new ones
        return _ask_fallback(db, call_id)


def _ask_fallback(db: Session, call_id: RowId) -> HTMLResponse:
    """The confirmation a dispatcher sees before a fallback: the reason that holds now, and where the call goes."""
    now = utcnow()
    policy = policy_named(None)
    waiting = queue.queued_calls(session=db, call_ids=[call_id])
    if not waiting:
        return message(f"Call {call_id} is not waiting for a field unit.", status=409)
    check = queue.check_fallback(session=db, queued=waiting[0], now=now, policy=policy)
    if check.reason is None:
        return message(f"{check.words()}: send it, or override the decision with a reason.", status=409)
    destination = triage_service.fallback_destination(session=db, call=waiting[0].call, from_program=check.program,
                                                      policy=policy, now=now).pathway
    html = templates.env.get_template("dispatch/_confirm_fallback.html").render(
        call=waiting[0].call, check=check, destination=destination, reason_words=FALLBACK_REASONS[check.reason],
        token=token_for("fallback", call_id, check.reason, waiting[0].decision_id))
    return HTMLResponse(html)


@router.post("/dispatch/calls/{call_id}/send-to-agency", dependencies=[allow("dispatch.assign")])
def send_to_agency(call_id: RowId, db: SessionDep, user: CurrentUser, token: Token = None,
                   confirm: Annotated[str, Form()] = "") -> HTMLResponse:
    """Send a call its decision routes to an outside agency there, once the dispatcher confirms."""
    if confirm != "yes":
        call = get_call(session=db, call_id=call_id, viewer=user)
        html = templates.env.get_template("dispatch/_confirm_send.html").render(
            call=call, token=token_for("send", call_id, call.pathway))
        return HTMLResponse(html)

    def act() -> str:
        call = triage_service.send_to_agency(session=db, call_id=call_id, now=utcnow(), actor_id=user.id)
        return f"Call {call_id} sent to {call.pathway}; it is closed on HEART's side."

    return _tap(db, user, token, f"send:{call_id}", act, "Already sent.")


@router.post("/dispatch/calls/{call_id}/escalate", dependencies=[allow("triage.override")])
def escalate(call_id: RowId, db: SessionDep, user: CurrentUser, reason: Annotated[str, Form()] = "",
             token: Token = None) -> HTMLResponse:
    """A phone (CCD) call becomes a field call, as it stands."""

    def act() -> str:
        decision = flows.escalate_to_field(session=db, call_id=call_id, reason=reason, now=utcnow(), by=user)
        return f"Call {call_id} escalated to {decision.pathway}; it is in the queue."

    return _tap(db, user, token, f"escalate:{call_id}", act, "Already escalated.")


@router.post("/dispatch/responses/{response_id}/cancel", dependencies=[allow("dispatch.assign")])
def cancel(response_id: RowId, db: SessionDep, user: CurrentUser, reason: Annotated[str, Form()] = "",
           call_still_needs_response: Annotated[str, Form()] = "", token: Token = None) -> HTMLResponse:
    """Call a unit off before it arrives, with the reason; the call goes back to the queue unless told otherwise."""

    def act() -> str:
        if not reason.strip():
            raise InvalidInput("say why the unit is called off", field="reason")
        now = utcnow()
        data = CancelResponse(reason=reason.strip(), call_still_needs_response=call_still_needs_response == "yes")
        response = service.cancel_response(session=db, response_id=response_id, data=data, at=now, now=now, by=user)
        return (f"{db.get_one(Unit, response.unit_id).call_sign} called off; "
                f"{service.call_state(session=db, call_id=response.call_id)}.")

    return _tap(db, user, token, f"cancel:{response_id}", act, "Already called off.")


@router.post("/dispatch/calls/{call_id}/notes", dependencies=[allow("dispatch.board")])
def add_note(call_id: RowId, db: SessionDep, user: CurrentUser, text: Annotated[str, Form(max_length=20000)] = "",
             token: Token = None) -> HTMLResponse:
    """An append-only note on a call, shown to the crew of every unit on it."""

    def act() -> str:
        note = notes.add_note(session=db, call_id=call_id, text=text, by=user, now=utcnow())
        return f"Note added to call {_number(db, note.call_id)}."

    return _tap(db, user, token, f"note:{call_id}", act, "Note already added.")


@router.post("/dispatch/calls/{call_id}/messages", dependencies=[allow("dispatch.assign")])
def send_message(call_id: RowId, db: SessionDep, user: CurrentUser, unit_id: Annotated[RowId, Form()],
                 text: Annotated[str, Form(max_length=20000)] = "", token: Token = None) -> HTMLResponse:
    """A short message to one unit on the call; it shows on the crew's phone and in the call's timeline."""

    def act() -> str:
        notes.send_message(session=db, call_id=call_id, unit_id=unit_id, text=text, by=user, now=utcnow())
        return f"Message sent to {db.get_one(Unit, unit_id).call_sign}."

    return _tap(db, user, token, f"message:{call_id}:{unit_id}", act, "Message already sent.")


@router.post("/dispatch/units/{unit_id}/out-of-service", dependencies=[allow("dispatch.assign")])
def out_of_service(unit_id: RowId, db: SessionDep, user: CurrentUser,
                   reason: Annotated[str, Form(max_length=20000)] = "", token: Token = None) -> HTMLResponse:
    """A unit is not to be sent until it is back in service (a unit on a call only where the city's rules allow)."""

    def act() -> str:
        unit = flows.take_out_of_service(session=db, unit_id=unit_id, reason=reason, now=utcnow(), by=user)
        return f"{unit.call_sign} is out of service."

    return _tap(db, user, token, f"oos:{unit_id}", act, "Already out of service.")


@router.post("/dispatch/units/{unit_id}/in-service", dependencies=[allow("dispatch.assign")])
def in_service(unit_id: RowId, db: SessionDep, user: CurrentUser, token: Token = None) -> HTMLResponse:
    """An out-of-service unit is free to send again."""

    def act() -> str:
        unit = return_to_service(session=db, unit_id=unit_id, now=utcnow(), actor_id=user.id)
        return f"{unit.call_sign} is back in service."

    return _tap(db, user, token, f"in-service:{unit_id}", act, "Already back in service.")


def _number(db: Session, call_id: int) -> str:
    call = get_call(session=db, call_id=call_id)
    return call.incident_number or call.external_id or str(call.id)


@router.post("/dispatch/alerts/{alert_id}/acknowledge", dependencies=[allow("dispatch.board")])
def acknowledge(alert_id: RowId, db: SessionDep, user: CurrentUser, token: Token = None) -> HTMLResponse:
    """Someone has seen the alert; it leaves every board."""
    def act() -> str:
        alerts.acknowledge(session=db, alert_id=alert_id, by=user, now=utcnow())
        return "Alert acknowledged."

    return _tap(db, user, token, f"ack:{alert_id}", act, "Alert acknowledged.")


def _tap(db: Session, user: User, token: str | None, action: str, act: Callable[[], str], again: str,
         *, raise_confirm: bool = False) -> HTMLResponse:
    """Carry out ``act`` once per token, answering with one line for the board's message area."""
    try:
        if not first_time(session=db, token=token, action=action, user_id=user.id, now=utcnow()):
            return message(again)
        return message(act())
    except DomainError as error:
        db.rollback()  # nothing of a refused action is kept, including its token
        if raise_confirm and isinstance(error, ConfirmationNeeded):
            raise
        return message(str(error), status=http_status(error))


def message(text: str, *, status: int = 200) -> HTMLResponse:
    """One line for a page's message area; refusals are marked as errors for people and screen readers."""
    css = "error" if status >= 400 else "ok"
    return HTMLResponse(f'<p class="{css}" role="{"alert" if status >= 400 else "status"}">{escape(text)}</p>',
                        status_code=status)
