"""The call-taker's triage screen of a call and "Why didn't HEART come?".

Call-taker / CCD clinician: open a call (``/calls/{id}/triage``; a new call is entered at ``/calls/new``, in
``heart.calls.pages``, which shares the form helpers below), answer the policy's screening questions in its order
and watch the recommended pathway change as the answers come in (htmx posts the form to a preview route that runs
the engine without saving anything), then accept, override with a reason, resolve by phone (CCD), hand the call to
dispatch, or send it to an outside agency (after a confirmation: saving a call never sends it anywhere). The screen
says how it reads the call type: a known incident type, or "unknown type" with the closest types to pick (it blocks
nothing), and the danger its words name ("the call type says: weapon"). Everything is a plain HTML form, so the
screen works with the keyboard alone and without JavaScript (the preview then updates on save; suggestions are picked
in the type list).

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
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.auth.permissions import allowed, may_read_reasons
from heart.calls.models import Call, CallStatus
from heart.calls.service import get_call
from heart.crosswalk.reading import read_call_type
from heart.crosswalk.taxonomy import INCIDENT_TYPES
from heart.crosswalk.words import call_type_words
from heart.deps import CurrentUser, Now, SessionDep, allow
from heart.dispatch.flows import escalate_to_field
from heart.errors import DomainError, InvalidInput, NotFound, http_status
from heart.inputs import RowId
from heart.programs.service import unit_availability
from heart.templating import render
from heart.triage import service
from heart.triage.engine import CallFacts, Decision, decide
from heart.triage.explain import explain_decision
from heart.triage.flows import change_call_facts, change_screening
from heart.triage.policy import PRIORITIES, Policy
from heart.triage.service import OVERRIDE_REASON_MAX

router = APIRouter(include_in_schema=False)
ANSWERS = ("yes", "no", "unknown")


async def form_values(request: Request) -> dict[str, str]:
    """A submitted form's fields (its CSRF token left out)."""
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


def recommend(db: Session, policy: Policy, facts: CallFacts, now: datetime) -> Decision:
    """The policy's recommendation for ``facts`` now, with the live units (nothing is saved)."""
    return decide(facts, policy, now, unit_availability(session=db, now=now))


def screen_context(policy: Policy) -> dict[str, Any]:
    """What every screen that asks the policy's questions shows: the questions, answers, types and phrases."""
    return {"policy": policy, "answers_choice": ANSWERS, "priorities": PRIORITIES, "pathways": policy.codes(),
            "incident_types": sorted(INCIDENT_TYPES.values(), key=lambda t: (t.category, t.label)),
            "nature_phrases": sorted({p for phrases in call_type_words().phrases.values() for p in phrases})}


# --- an existing call ---------------------------------------------------------------------------------------

@router.get("/calls/{call_id}/triage", dependencies=[allow("triage.decide")])
def call_triage_page(call_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now) -> HTMLResponse:
    """One call's triage: its answers, the live recommendation, the decision on record and the next steps."""
    return _screen(request, db, user, call_id, now)


def _screen(request: Request, db: Session, user: User, call_id: int, now: datetime, *,
            answers: dict[str, str] | None = None, error: str | None = None, status_code: int = 200,
            confirm_send: bool = False, typed: dict[str, str] | None = None) -> HTMLResponse:
    call = get_call(session=db, call_id=call_id, viewer=user)
    policy = service.policy_named(None)
    answers = answers or {q: call.screening.get(q, "unknown") for q in policy.question_ids}
    facts = CallFacts(nature_code=call.nature_code, incident_type=call.incident_type, priority=call.priority,
                      screening=answers)
    decision = service.current_decision(session=db, call_id=call.id)
    program = policy.programs.get(call.pathway or "")
    open_call = call.status in (CallStatus.OPEN, CallStatus.TRIAGED)
    triaged = call.status == CallStatus.TRIAGED
    outside = triaged and service.is_outside_agency(policy, call.pathway)
    return render(request, "triage/call.html", {
        **screen_context(policy), "call": call, "answers": answers, "rec": recommend(db, policy, facts, now), "at": now,
        "decision": decision, "program": program, "error": error,
        # An assigned call's answers can still change (a weapon learnt of later): the team on it is alerted.
        "editable": open_call or call.status == CallStatus.ASSIGNED,
        "reading": read_call_type(call.nature_code, call.incident_type),
        "can_hand_off": triaged and program is not None and program.kind == "field"
        and call.handed_to_dispatch_at is None,
        "with_dispatch": triaged and program is not None and program.kind == "field"
        and call.handed_to_dispatch_at is not None,
        "can_resolve": triaged and program is not None and program.kind == "phone",
        "can_send": outside, "confirm_send": confirm_send and outside,
        "can_override": decision is not None and allowed("triage.override", user.role)
        and (open_call or (call.status == CallStatus.RESOLVED and service.is_outside_agency(policy, call.pathway))),
        "can_explain": allowed("audit.read", user.role), "outcomes": service.PHONE_OUTCOMES,
        "typed": typed or {},  # what a refused action's form held: shown again, never lost
        "limits": REASON_LIMITS,
    }, status_code=status_code)


REASON_LIMITS = {"override": OVERRIDE_REASON_MAX, "note": 2000, "escalate": 200}
"""The longest reason each form takes (the inputs' maxlength; the services refuse longer)."""


@router.post("/calls/{call_id}/triage/preview", dependencies=[allow("triage.decide")])
async def preview_call(call_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now) -> HTMLResponse:
    """The recommendation for this call with the answers on screen; nothing is saved."""
    values = await form_values(request)
    return await run_in_threadpool(_preview_call, request, db, user, call_id, values, now)


def _preview_call(request: Request, db: Session, user: User, call_id: int, values: dict[str, str],
                  now: datetime) -> HTMLResponse:
    call = get_call(session=db, call_id=call_id, viewer=user)
    policy = service.policy_named(None)
    facts = CallFacts(nature_code=call.nature_code, incident_type=call.incident_type, priority=call.priority,
                      screening=answers_from(values, policy))
    return render(request, "triage/_recommendation.html",
                  {"policy": policy, "rec": recommend(db, policy, facts, now), "at": now})


@router.post("/calls/{call_id}/triage", dependencies=[allow("triage.decide")])
async def save_answers(call_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now) -> Response:
    """Record the answers and decide again with them (a team already on the call is alerted if it must stop)."""
    values = await form_values(request)

    def work() -> Call:
        policy = service.policy_named(None)
        before = service.current_decision(session=db, call_id=call_id)
        call = change_screening(session=db, call_id=call_id, answers=answers_from(values, policy), now=now,
                                actor_id=user.id, policy=policy)
        after = service.current_decision(session=db, call_id=call_id)
        if call.status in service.DECIDABLE and (after is None or (before is not None and after.id == before.id)):
            service.triage_call(session=db, call_id=call_id, now=now, actor_id=user.id, policy=policy,
                                availability=unit_availability(session=db, now=now))
        return call

    return await _act(request, db, user, call_id, now, work, back=f"/calls/{call_id}/triage", values=values)


@router.post("/calls/{call_id}/triage/facts", dependencies=[allow("triage.decide")])
async def save_facts(call_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now) -> Response:
    """Correct the incident type (a suggestion picked, or any type) or the priority; decided again at once."""
    values = await form_values(request)

    def work() -> Call:
        picked = values.get("pick_type") or values.get("incident_type") or ""
        priority = values.get("priority", "").strip().upper()
        if picked and picked not in INCIDENT_TYPES:
            raise InvalidInput("not a known incident type", field="incident_type")
        changes: dict[str, str | None] = {"incident_type": picked or None,
                                          "priority": priority if priority in PRIORITIES else None}
        call = change_call_facts(session=db, call_id=call_id, changes=changes, now=now, actor_id=user.id)
        if call.status == CallStatus.OPEN:
            service.triage_call(session=db, call_id=call_id, now=now, actor_id=user.id,
                                availability=unit_availability(session=db, now=now))
        return call

    return await _act(request, db, user, call_id, now, work, back=f"/calls/{call_id}/triage")


@router.post("/calls/{call_id}/triage/send", dependencies=[allow("triage.decide")])
async def send_to_agency(call_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now) -> Response:
    """Send the call to the outside agency its decision names; the first press asks for a confirmation."""
    values = await form_values(request)
    if values.get("confirm") != "yes":
        return await run_in_threadpool(_screen, request, db, user, call_id, now, confirm_send=True)

    def work() -> Call:
        return service.send_to_agency(session=db, call_id=call_id, now=now, actor_id=user.id)

    return await _act(request, db, user, call_id, now, work, back=f"/calls/{call_id}")


@router.post("/calls/{call_id}/triage/override", dependencies=[allow("triage.override")])
async def override(call_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now) -> Response:
    """Send the call elsewhere than the policy did; the reason is required and shown on the call."""
    values = await form_values(request)

    def work() -> Call:
        service.override_decision(session=db, call_id=call_id, pathway=values.get("pathway", ""),
                                  reason=values.get("reason", ""), now=now, actor_id=user.id)
        return get_call(session=db, call_id=call_id)

    return await _act(request, db, user, call_id, now, work, back=f"/calls/{call_id}/triage", typed=values)


@router.post("/calls/{call_id}/triage/hand-off", dependencies=[allow("triage.decide")])
async def hand_off(call_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now) -> Response:
    """Accept the field pathway: the call waits on the dispatch board for a unit."""
    await form_values(request)

    def work() -> Call:
        return service.hand_to_dispatch(session=db, call_id=call_id, now=now, actor_id=user.id)

    return await _act(request, db, user, call_id, now, work, back=f"/calls/{call_id}")


@router.post("/calls/{call_id}/triage/resolve", dependencies=[allow("triage.decide")])
async def resolve(call_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now) -> Response:
    """The clinician resolved the call by phone, with its outcome; the call is closed."""
    values = await form_values(request)

    def work() -> Call:
        return service.resolve_by_phone(session=db, call_id=call_id, outcome=values.get("outcome", ""),
                                        note=values.get("note"), now=now, actor_id=user.id)

    return await _act(request, db, user, call_id, now, work, back=f"/calls/{call_id}", typed=values)


@router.post("/calls/{call_id}/triage/escalate", dependencies=[allow("triage.decide")])
async def escalate(call_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now) -> Response:
    """The phone clinician decides a visit is needed: the call goes to the field team the policy names."""
    values = await form_values(request)

    def work() -> Call:
        escalate_to_field(session=db, call_id=call_id, reason=values.get("reason", ""), now=now, by=user)
        return get_call(session=db, call_id=call_id)

    return await _act(request, db, user, call_id, now, work, back=f"/calls/{call_id}/triage", typed=values)


async def _act(request: Request, db: Session, user: User, call_id: int, now: datetime, work: Any, *, back: str,
               values: dict[str, str] | None = None, typed: dict[str, str] | None = None) -> Response:
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
                           status_code=http_status(error), typed=typed)
        return RedirectResponse(back, status_code=303)

    return await run_in_threadpool(run)


# --- why didn't HEART come? ---------------------------------------------------------------------------------

@router.get("/calls/{call_id}/why", dependencies=[allow("audit.read")])
def why_page(call_id: RowId, request: Request, db: SessionDep, user: CurrentUser) -> HTMLResponse:
    """For a supervisor: the decision, its policy version and text, the reasons, and a closed or busy program."""
    explanation = explain_decision(session=db, call_id=call_id, show_reasons=may_read_reasons(user.role))
    return render(request, "triage/why.html", {"x": explanation, "call": explanation.call,
                                                "decision": explanation.decision,
                                                "can_read_calls": allowed("calls.read", user.role)})
