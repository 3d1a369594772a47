"""The call-taker's screen and "Why didn't HEART come?".

Call-taker / CCD clinician: enter a call (``/calls/new``) or open one (``/calls/{id}/triage``), answer the
policy's screening questions in its order and watch the recommended pathway change as the answers come in
(htmx posts the form to a preview route that runs the engine without saving anything), then accept, override
with a reason, resolve by phone (CCD) or hand the call to dispatch. Everything is a plain HTML form, so the
screen works with the keyboard alone and without JavaScript (the preview then updates on save).

Supervisor: ``/calls/{id}/why`` shows the decision, the policy version that made it (with its stored text),
the reasons, the answers it was made on and, when HEART's program was closed or busy, that fact.

Decisions use the real clock and the live units: a program falls back when it is closed now or when none of
its units is free (available and on shift) now.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.auth.permissions import allowed, may_read_reasons
from heart.calls.models import Call, CallStatus
from heart.calls.schemas import CallCreate
from heart.calls.service import create_call, get_call, record_screening
from heart.deps import CurrentUser, Now, SessionDep, allow
from heart.errors import Conflict, DomainError, InvalidInput, NotFound
from heart.inputs import RowId
from heart.templating import render
from heart.triage import service
from heart.triage.engine import CallFacts, Decision, decide
from heart.triage.policy import PATHWAYS, PRIORITIES, Policy
from heart.triage.taxonomy import INCIDENT_TYPES

router = APIRouter(include_in_schema=False)
ANSWERS = ("yes", "no", "unknown")
CALL_FIELDS = ("nature_code", "incident_type", "priority", "address", "summary", "external_id")


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: str(value) for key, value in form.items() if key != "csrf_token"}


def answers_from(values: Mapping[str, str], policy: Policy) -> dict[str, str]:
    """The screening answers of a submitted form, one per policy question ("unknown" when not given)."""
    answers = {q: values.get(f"screening_{q}", "unknown").strip().lower() for q in policy.question_ids}
    return {q: (a if a in ANSWERS else "unknown") for q, a in answers.items()}


def facts_from(values: Mapping[str, str], policy: Policy) -> CallFacts:
    """What the engine needs, from the new-call form (blank fields are unknown)."""
    priority = values.get("priority", "").strip().upper()
    return CallFacts(nature_code=values.get("nature_code", "").strip() or None,
                     incident_type=values.get("incident_type", "").strip() or None,
                     priority=priority if priority in PRIORITIES else None, screening=answers_from(values, policy))


def _recommend(db: Session, policy: Policy, facts: CallFacts, now: datetime) -> Decision:
    return decide(facts, policy, now, service.unit_availability(session=db, now=now))


def _common(policy: Policy) -> dict[str, Any]:
    return {"policy": policy, "answers_choice": ANSWERS, "priorities": PRIORITIES, "pathways": PATHWAYS,
            "incident_types": sorted(INCIDENT_TYPES.values(), key=lambda t: (t.category, t.label)),
            "nature_phrases": sorted({p for phrases in policy.nature_code_table.values() for p in phrases})}


# --- a new call ---------------------------------------------------------------------------------------------

@router.get("/calls/new", dependencies=[allow("calls.write")])
def new_call_page(request: Request, db: SessionDep, now: Now) -> HTMLResponse:
    """The call-taker's screen for a new call."""
    return _intake(request, db, {}, now)


def _intake(request: Request, db: Session, values: dict[str, str], now: datetime, errors: list[str] | None = None,
            status_code: int = 200) -> HTMLResponse:
    policy = service.policy_named(None)
    recommendation = _recommend(db, policy, facts_from(values, policy), now)
    return render(request, "triage/intake.html", {
        **_common(policy), "values": values, "answers": answers_from(values, policy), "errors": errors or [],
        "rec": recommendation, "at": now}, status_code=status_code)


@router.post("/calls/new", dependencies=[allow("calls.write")])
async def new_call_submit(request: Request, db: SessionDep, user: CurrentUser, now: Now) -> Response:
    """Save the call with its answers, record the policy's decision, and open the call's triage screen."""
    return await run_in_threadpool(_create_and_triage, request, db, user, await _form(request), now)


def _create_and_triage(request: Request, db: Session, user: User, values: dict[str, str], now: datetime) -> Response:
    policy = service.policy_named(None)
    data = {key: (values.get(key, "").strip() or None) for key in CALL_FIELDS}
    try:
        create = CallCreate.model_validate({**data, "screening": answers_from(values, policy)})
    except ValidationError as error:
        errors = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()]
        return _intake(request, db, values, now, errors, status_code=422)
    if create.incident_type is not None and create.incident_type not in INCIDENT_TYPES:
        return _intake(request, db, values, now, ["incident_type: not a known incident type"], status_code=422)
    try:
        call = create_call(session=db, data=create, now=now, actor_id=user.id)
        service.triage_call(session=db, call_id=call.id, now=now, actor_id=user.id, policy=policy,
                            availability=service.unit_availability(session=db, now=now))
    except DomainError as error:
        db.rollback()
        return _intake(request, db, values, now, [str(error)], status_code=_status(error))
    return RedirectResponse(f"/calls/{call.id}/triage", status_code=303)


@router.post("/triage/preview", dependencies=[allow("triage.decide")])
async def preview_new(request: Request, db: SessionDep, now: Now) -> HTMLResponse:
    """The recommendation for the answers so far; nothing is saved."""
    values = await _form(request)
    policy = service.policy_named(None)
    recommendation = await run_in_threadpool(_recommend, db, policy, facts_from(values, policy), now)
    return render(request, "triage/_recommendation.html", {"policy": policy, "rec": recommendation, "at": now})


# --- an existing call ---------------------------------------------------------------------------------------

@router.get("/calls/{call_id}/triage", dependencies=[allow("triage.decide")])
def call_triage_page(call_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now) -> HTMLResponse:
    """One call's triage: its answers, the live recommendation, the decision on record and the next steps."""
    return _screen(request, db, user, call_id, now)


def _screen(request: Request, db: Session, user: User, call_id: int, now: datetime, *,
            answers: dict[str, str] | None = None, error: str | None = None, status_code: int = 200) -> HTMLResponse:
    call = get_call(session=db, call_id=call_id, viewer=user)
    policy = service.policy_named(None)
    answers = answers or {q: call.screening.get(q, "unknown") for q in policy.question_ids}
    facts = CallFacts(nature_code=call.nature_code, incident_type=call.incident_type, priority=call.priority,
                      screening=answers)
    decision = service.current_decision(session=db, call_id=call.id)
    program = policy.programs.get(call.pathway or "")
    open_call = call.status in (CallStatus.OPEN, CallStatus.TRIAGED)
    return render(request, "triage/call.html", {
        **_common(policy), "call": call, "answers": answers, "rec": _recommend(db, policy, facts, now), "at": now,
        "decision": decision, "program": program, "error": error, "editable": open_call,
        "can_hand_off": call.status == CallStatus.TRIAGED and program is not None and program.kind == "field",
        "can_resolve": call.status == CallStatus.TRIAGED and program is not None and program.kind == "phone",
        "can_override": decision is not None and allowed("triage.override", user.role)
        and (open_call or (call.status == CallStatus.RESOLVED and call.pathway in service.HANDED_OFF)),
        "can_explain": allowed("audit.read", user.role), "outcomes": service.PHONE_OUTCOMES,
    }, status_code=status_code)


@router.post("/calls/{call_id}/triage/preview", dependencies=[allow("triage.decide")])
async def preview_call(call_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now) -> HTMLResponse:
    """The recommendation for this call with the answers on screen; nothing is saved."""
    values = await _form(request)
    return await run_in_threadpool(_preview_call, request, db, user, call_id, values, now)


def _preview_call(request: Request, db: Session, user: User, call_id: int, values: dict[str, str],
                  now: datetime) -> HTMLResponse:
    call = get_call(session=db, call_id=call_id, viewer=user)
    policy = service.policy_named(None)
    facts = CallFacts(nature_code=call.nature_code, incident_type=call.incident_type, priority=call.priority,
                      screening=answers_from(values, policy))
    return render(request, "triage/_recommendation.html",
                  {"policy": policy, "rec": _recommend(db, policy, facts, now), "at": now})


@router.post("/calls/{call_id}/triage", dependencies=[allow("triage.decide")])
async def save_answers(call_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now) -> Response:
    """Record the answers and decide again with them."""
    values = await _form(request)

    def work() -> Call:
        policy = service.policy_named(None)
        record_screening(session=db, call_id=call_id, answers=answers_from(values, policy), now=now, actor_id=user.id)
        service.triage_call(session=db, call_id=call_id, now=now, actor_id=user.id, policy=policy,
                            availability=service.unit_availability(session=db, now=now))
        return get_call(session=db, call_id=call_id)

    return await _act(request, db, user, call_id, now, work, back=f"/calls/{call_id}/triage", values=values)


@router.post("/calls/{call_id}/triage/override", dependencies=[allow("triage.override")])
async def override(call_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now) -> Response:
    """Send the call elsewhere than the policy did; the reason is required and shown on the call."""
    values = await _form(request)

    def work() -> Call:
        service.override_decision(session=db, call_id=call_id, pathway=values.get("pathway", ""),
                                  reason=values.get("reason", ""), now=now, actor_id=user.id)
        return get_call(session=db, call_id=call_id)

    return await _act(request, db, user, call_id, now, work, back=f"/calls/{call_id}/triage")


@router.post("/calls/{call_id}/triage/hand-off", dependencies=[allow("triage.decide")])
async def hand_off(call_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now) -> Response:
    """Accept the field pathway: the call waits on the dispatch board for a unit."""
    await _form(request)

    def work() -> Call:
        return service.hand_to_dispatch(session=db, call_id=call_id, now=now, actor_id=user.id)

    return await _act(request, db, user, call_id, now, work, back=f"/calls/{call_id}")


@router.post("/calls/{call_id}/triage/resolve", dependencies=[allow("triage.decide")])
async def resolve(call_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now) -> Response:
    """The clinician resolved the call by phone, with its outcome; the call is closed."""
    values = await _form(request)

    def work() -> Call:
        return service.resolve_by_phone(session=db, call_id=call_id, outcome=values.get("outcome", ""),
                                        note=values.get("note"), now=now, actor_id=user.id)

    return await _act(request, db, user, call_id, now, work, back=f"/calls/{call_id}")


@router.post("/calls/{call_id}/triage/escalate", dependencies=[allow("triage.decide")])
async def escalate(call_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now) -> Response:
    """The phone clinician decides a visit is needed: the call goes to the field team the policy names."""
    values = await _form(request)

    def work() -> Call:
        from heart.dispatch.queue import escalate_to_field

        escalate_to_field(session=db, call_id=call_id, reason=values.get("reason", ""), now=now, by=user)
        return get_call(session=db, call_id=call_id)

    return await _act(request, db, user, call_id, now, work, back=f"/calls/{call_id}/triage")


async def _act(request: Request, db: Session, user: User, call_id: int, now: datetime, work: Any, *, back: str,
               values: dict[str, str] | None = None) -> Response:
    """Run ``work``; on a refusal show the screen again with the reason, else go to ``back``."""
    def run() -> Response:
        try:
            work()
        except NotFound:
            raise
        except DomainError as error:
            db.rollback()
            policy = service.policy_named(None)
            answers = answers_from(values, policy) if values is not None else None
            return _screen(request, db, user, call_id, now, answers=answers, error=str(error),
                           status_code=_status(error))
        return RedirectResponse(back, status_code=303)

    return await run_in_threadpool(run)


def _status(error: DomainError) -> int:
    return 422 if isinstance(error, InvalidInput) else 409 if isinstance(error, Conflict) else 400


# --- why didn't HEART come? ---------------------------------------------------------------------------------

@router.get("/calls/{call_id}/why", dependencies=[allow("audit.read")])
def why_page(call_id: RowId, request: Request, db: SessionDep, user: CurrentUser) -> HTMLResponse:
    """For a supervisor: the decision, its policy version and text, the reasons, and a closed or busy program."""
    explanation = service.explain_decision(session=db, call_id=call_id,
                                           show_reasons=may_read_reasons(user.role))
    return render(request, "triage/why.html", {"x": explanation, "call": explanation.call,
                                                "decision": explanation.decision,
                                                "can_read_calls": allowed("calls.read", user.role)})
