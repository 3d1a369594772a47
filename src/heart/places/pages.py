"""The places screens: the call-taker's address lookup and pin (``/places/lookup``, ``/places/context``), what
is known about a call's place (``/calls/{id}/place``: caller, possible duplicates, earlier calls, safety notes
beside the screening questions), the crew's navigation link and notes (``/responder/place``), the decision on a
possible duplicate, writing and ending a location safety note, and the map's base layers and tiles.

Fragments are rendered by the server and swapped in by htmx (escaped like every page); the reads of a caller and
of safety notes are logged, so those fragments come from writing transactions (``LoggedReadDep``). Tiles are
fetched by HEART from the configured source and served from ``/map/tiles``: when the source cannot be reached the
answer is 204 (no content), so the browser logs no network error and the map says once that it has no tiles.
"""

from __future__ import annotations

import time
from datetime import date, datetime
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Form, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from heart.auth.models import Role, User
from heart.auth.permissions import allowed
from heart.calls.callers import read_caller
from heart.calls.models import Call, CallStatus
from heart.calls.service import get_call
from heart.deps import CurrentUser, LoggedReadDep, Now, SessionDep, allow
from heart.dispatch.recommend import Point, rank_units
from heart.dispatch.responder import live_response
from heart.errors import InvalidInput
from heart.inputs import RowId
from heart.places import service
from heart.places.rules import PlaceRules, place_rules
from heart.places.shapes import MapFileError, read_geojson
from heart.programs.service import available_units
from heart.templating import render

router = APIRouter(include_in_schema=False)
TILE_TIMEOUT_SECONDS = 4.0
TILE_RETRY_SECONDS = 30.0
NEAREST_SHOWN = 5


def _float(value: str | None) -> float | None:
    try:
        number = float(value) if value not in (None, "") else None
    except ValueError:
        return None
    return number if number is not None and number == number and abs(number) <= 180 else None


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: str(value) for key, value in form.items() if key != "csrf_token"}


# --- the call-taker's lookup and pin ---------------------------------------------------------------------------

@router.post("/places/lookup", dependencies=[allow("calls.write")])
async def lookup_page(request: Request, db: SessionDep) -> HTMLResponse:
    """The likeliest places for the typed address (a fragment of buttons: pick one to place the pin)."""
    values = await _form(request)
    text = values.get("address", "")[:256]

    def work() -> HTMLResponse:
        settings = request.app.state.settings
        rules = place_rules(settings)
        matches = service.lookup(session=db, text=text, limit=5, settings=settings)
        return render(request, "places/_matches.html", {"matches": matches, "typed": text.strip(),
                                                         "sure": rules.geocoding.minimum_confidence})

    return await run_in_threadpool(work)


@router.post("/places/context", dependencies=[allow("calls.write")])
async def context_page(request: Request, db: SessionDep, user: CurrentUser, now: Now) -> HTMLResponse:
    """What is known at the pin: its beat, the nearest free units, open calls nearby (possible duplicates), earlier
    calls there, and the safety notes (shown beside the screening questions they concern; each read is logged)."""
    values = await _form(request)
    lat, lon = _float(values.get("lat")), _float(values.get("lon"))

    def work() -> HTMLResponse:
        settings = request.app.state.settings
        rules = place_rules(settings)
        if lat is None or lon is None or not -90 <= lat <= 90:
            return render(request, "places/_context.html", {"placed": False, "rules": rules})
        nearest = rank_units(Point(lat, lon), available_units(session=db, now=now))[:NEAREST_SHOWN]
        notes = service.notes_at(session=db, lat=lat, lon=lon, now=now, rules=rules, reader=user,
                                 purpose="new call: location")
        return render(request, "places/_context.html", {
            "placed": True, "rules": rules, "lat": lat, "lon": lon, "beat": service.beat_of(lat, lon, settings),
            "nearest": nearest, "duplicates": service.open_calls_near(session=db, lat=lat, lon=lon, at=now,
                                                                      rules=rules),
            "history": service.history_at(session=db, lat=lat, lon=lon, now=now, rules=rules),
            **_notes_context(notes, rules), "questions": _question_ids(rules)})

    return await run_in_threadpool(work)


def _question_ids(rules: PlaceRules) -> list[str]:
    return sorted({kind.question for kind in rules.safety_notes.kinds.values() if kind.question})


def _notes_context(notes: list[service.NoteView], rules: PlaceRules) -> dict[str, Any]:
    by_question: dict[str, list[service.NoteView]] = {}
    for note in notes:
        if note.question:
            by_question.setdefault(note.question, []).append(note)
    return {"notes": notes, "notes_by_question": by_question}


# --- a call's place ---------------------------------------------------------------------------------------------

def call_place_context(db: Session, user: User, call: Call, now: datetime, *, purpose: str,
                       rules: PlaceRules, responder_sees_callback: bool) -> dict[str, Any]:
    """Everything the place fragment of a call shows ``user`` (caller and notes reads logged here)."""
    context: dict[str, Any] = {"call": call, "rules": rules, "questions": _question_ids(rules),
                               "caller": read_caller(session=db, call_id=call.id, reader=user, purpose=purpose, at=now,
                                                     responder_sees_callback=responder_sees_callback),
                               "notes": [], "notes_by_question": {}, "flags": [], "linked": [], "history": None,
                               "links": []}
    context["flags"] = [(flag, db.get(Call, flag.other_call_id)) for flag in service.flags_of(session=db,
                                                                                              call_id=call.id)]
    context["linked"] = service.linked_to(session=db, call_id=call.id)
    if call.lat is not None and call.lon is not None:
        notes = service.notes_at(session=db, lat=call.lat, lon=call.lon, now=now, rules=rules, reader=user,
                                 purpose=purpose, call_id=call.id)
        context.update(_notes_context(notes, rules))
        context["links"] = service.navigation_links(call.lat, call.lon, rules)
        if user.role != Role.RESPONDER:
            context["history"] = service.history_at(session=db, lat=call.lat, lon=call.lon, now=now, rules=rules,
                                                    exclude_call_id=call.id)
    context["can_decide"] = allowed("calls.write", user.role) and call.status not in (CallStatus.CANCELLED,)
    context["can_note"] = allowed("calls.write", user.role) and call.lat is not None
    context["today"] = now.date()
    return context


@router.get("/calls/{call_id}/place", dependencies=[allow("calls.read")])
def call_place(call_id: RowId, request: Request, db: LoggedReadDep, user: CurrentUser, now: Now,
               questions: bool = False) -> HTMLResponse:
    """A call's caller, possible duplicates, earlier calls at its place and its place's safety notes (with
    ``questions``, the notes also go beside the screening questions of the page)."""
    call = get_call(session=db, call_id=call_id, viewer=user)
    rules = place_rules(request.app.state.settings)
    context = call_place_context(db, user, call, now, purpose=f"call {call.id}", rules=rules,
                                 responder_sees_callback=rules.caller.responder_sees_callback)
    return render(request, "places/_call_place.html", {**context, "with_questions": questions})


@router.get("/responder/place", dependencies=[allow("responder.view")])
def responder_place(request: Request, db: LoggedReadDep, user: CurrentUser, now: Now) -> HTMLResponse:
    """The crew's current call: navigation to its pin, its place's safety notes, the callback number (by policy)."""
    response = live_response(db, user.unit_id) if user.unit_id is not None else None
    if response is None:
        return HTMLResponse("")
    call = get_call(session=db, call_id=response.call_id, viewer=user)
    rules = place_rules(request.app.state.settings)
    return render(request, "places/_responder_place.html", call_place_context(
        db, user, call, now, purpose="crew: current call", rules=rules,
        responder_sees_callback=rules.caller.responder_sees_callback))


@router.post("/calls/{call_id}/duplicates/{flag_id}", dependencies=[allow("calls.write")])
def decide_duplicate(call_id: RowId, flag_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now,
                     decision: Annotated[str, Form(max_length=16)]) -> Response:
    """Link the call to the open call it may repeat, or keep the two apart (recorded once, with who and when)."""
    get_call(session=db, call_id=call_id, viewer=user)
    service.decide_duplicate(session=db, flag_id=flag_id, decision=decision, by=user, now=now, call_id=call_id)
    return RedirectResponse(_back(request, call_id), status_code=303)


@router.post("/calls/{call_id}/location-notes", dependencies=[allow("calls.write")])
async def add_location_note(call_id: RowId, request: Request, db: SessionDep, user: CurrentUser,
                            now: Now) -> Response:
    """Write a safety note about the call's place (kind, what was seen, the date, how long it holds)."""
    values = await _form(request)

    def work() -> Response:
        call = get_call(session=db, call_id=call_id, viewer=user)
        rules = place_rules(request.app.state.settings)
        if call.lat is None or call.lon is None:
            raise InvalidInput("the call has no point on the map; place it first", field="lat")
        try:
            observed = date.fromisoformat(values.get("observed_on") or now.date().isoformat())
        except ValueError:
            raise InvalidInput("the date is not a date (YYYY-MM-DD)", field="observed_on") from None
        days_text = values.get("days", "").strip()
        if days_text and not days_text.isdigit():
            raise InvalidInput("the number of days is not a whole number", field="days")
        service.add_note(session=db, lat=call.lat, lon=call.lon, address=call.address, kind=values.get("kind", ""),
                         text=values.get("text", ""), observed_on=observed,
                         days=int(days_text) if days_text else None, author=user, now=now, rules=rules,
                         call_id=call.id)
        return RedirectResponse(_back(request, call_id), status_code=303)

    return await run_in_threadpool(work)


@router.post("/location-notes/{note_id}/end", dependencies=[allow("calls.write")])
def end_location_note(note_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now,
                      call_id: Annotated[RowId, Form()]) -> Response:
    """End a note that no longer holds (it stays in the record, ended, with who and when)."""
    service.end_note(session=db, note_id=note_id, by=user, now=now)
    return RedirectResponse(_back(request, call_id), status_code=303)


def _back(request: Request, call_id: int) -> str:
    """Back to the screen the form was on: the call's triage screen or its page (never another site)."""
    referer = request.headers.get("referer", "")
    return f"/calls/{call_id}/triage" if referer.endswith(f"/calls/{call_id}/triage") else f"/calls/{call_id}"


# --- the map's base layers and tiles ----------------------------------------------------------------------------

@router.get("/map/layers/{name}", dependencies=[allow("signed_in")])
def map_layer(name: Annotated[str, Path(pattern="^(outline|beats)$")], request: Request) -> Response:
    """The city's outline or beats as GeoJSON (an empty collection when the city gives none)."""
    settings = request.app.state.settings
    path = settings.map_outline_file if name == "outline" else settings.map_beats_file
    try:
        document = read_geojson(path)
    except MapFileError:
        document = {"type": "FeatureCollection", "features": []}
    return JSONResponse(document, headers={"Cache-Control": "private, max-age=3600"},
                        media_type="application/geo+json")


@router.get("/map/tiles/{z}/{x}/{y}", dependencies=[allow("signed_in")])
async def map_tile(z: Annotated[int, Path(ge=0, le=20)], x: Annotated[int, Path(ge=0)],
                   y: Annotated[int, Path(ge=0)], request: Request) -> Response:
    """One map tile from the configured source; 204 when there is none or it cannot be reached right now."""
    settings = request.app.state.settings
    state = request.app.state
    if not settings.map_tiles_url or x >= 2**z or y >= 2**z:
        return Response(status_code=204)
    if time.monotonic() < getattr(state, "tiles_down_until", 0.0):
        return Response(status_code=204)  # the source failed a moment ago: do not make every tile wait for it
    url = (settings.map_tiles_url.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))
           .replace("{s}", "abc"[(x + y) % 3]))
    client: httpx.AsyncClient | None = getattr(state, "tiles_client", None)
    if client is None:
        client = state.tiles_client = httpx.AsyncClient(timeout=TILE_TIMEOUT_SECONDS, headers={
            "User-Agent": "HEART dispatch map (tile proxy)"})
    try:
        answer = await client.get(url)
    except httpx.HTTPError:
        state.tiles_down_until = time.monotonic() + TILE_RETRY_SECONDS
        return Response(status_code=204)
    kind = answer.headers.get("content-type", "")
    if answer.status_code != 200 or not kind.startswith("image/"):
        return Response(status_code=204)
    return Response(answer.content, media_type=kind, headers={"Cache-Control": "private, max-age=86400"})


# --- the new-call form's place and caller fields ------------------------------------------------------------------

def intake_fields(values: dict[str, str]) -> dict[str, Any]:
    """The pin, beat and caller of the new-call form, as ``CallCreate`` fields (blank ones left out)."""
    fields: dict[str, Any] = {}
    lat, lon = _float(values.get("lat")), _float(values.get("lon"))
    if lat is not None and lon is not None:
        fields.update(lat=lat, lon=lon)
    beat = values.get("beat", "").strip()
    if beat:
        fields["beat"] = beat
    name, callback = values.get("caller_name", "").strip(), values.get("caller_callback", "").strip()
    if name or callback:
        fields["caller"] = {"name": name or None, "callback": callback or None}
    return fields


def record_intake_decisions(*, session: Session, call: Call, values: dict[str, str], user: User,
                            now: datetime) -> None:
    """The call-taker's choice on each possible duplicate shown before saving (link, or keep apart)."""
    for flag in service.flags_of(session=session, call_id=call.id):
        decision = values.get(f"duplicate_{flag.other_call_id}", "")
        if decision in service.DECISIONS:
            service.decide_duplicate(session=session, flag_id=flag.id, decision=decision, by=user, now=now)
