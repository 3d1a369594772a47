"""The navigator's screens: the follow-up queue and one follow-up, with its actions (attempt, note, need, referral,
close) as plain forms that answer with the page again — on a laptop or a phone. A page showing a neighbor logs the
read (``LoggedReadDep``). The supervisors see the alerts for due follow-ups nobody touched, and acknowledge them.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.auth.permissions import allowed
from heart.calls.service import get_call
from heart.deps import CurrentUser, LoggedReadDep, Now, SessionDep, allow
from heart.errors import DomainError, InvalidInput, NotFound
from heart.inputs import RowId
from heart.navigation.followups import flows, queue, service
from heart.navigation.followups.models import REFERRAL_STEPS, FollowUpStatus, ReferralStatus
from heart.navigation.followups.rules import CareRules
from heart.navigation.followups.schemas import Handoff, PhoneHandoff
from heart.navigation.resources.needs import NeedsMap
from heart.navigation.resources.service import Search, search_services
from heart.neighbors.api import Rules
from heart.programs.members import case_program_names
from heart.templating import render

router = APIRouter(include_in_schema=False)
READ, WRITE = [allow("followups.read")], [allow("followups.write")]
Text = Annotated[str, Form(max_length=20000)]
Short = Annotated[str, Form(max_length=80)]
TokenField = Annotated[str, Form(min_length=8, max_length=64)]
SERVICES_PER_NEED = 50


def new_token() -> str:
    """A fresh token for one rendered form: the same form sent twice is done once."""
    return secrets.token_urlsafe(16)


def duration_words(delta: timedelta) -> str:
    """A duration as a navigator reads it: "2 d 4 h", "5 h 10 min", "12 min" (sign ignored)."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


@router.get("/follow-ups", dependencies=READ)
def queue_page(request: Request, db: LoggedReadDep, user: CurrentUser, now: Now, rules: Rules,
               program: Annotated[str, Query(max_length=16)] = "") -> HTMLResponse:
    """Awaiting first contact by due time (overdue first, time left shown), in contact, and recently closed — of
    every case program the user may see, or of one (``?program=OSC``)."""
    found = queue.build_queue(session=db, reader=user, now=now, program=program or None)
    return render(request, "navigation/queue.html", {
        "queue": found, "now": now, "rules": rules, "words": duration_words, "program": program,
        "case_programs": visible_case_programs(db, user, rules),
        "can_acknowledge": allowed("followups.supervise", user.role), "new_token": new_token,
    })


def visible_case_programs(db: Session, user: User, rules: CareRules) -> list[tuple[str, str]]:
    """(code, name) of the case programs whose cases ``user`` may see or open, in the configuration's order."""
    names = case_program_names(session=db, viewer=user)
    return [(code, names[code]) for code in rules.programs if code in names]


@router.get("/follow-ups/{follow_up_id}", dependencies=READ)
def follow_up_page(follow_up_id: RowId, request: Request, db: LoggedReadDep, user: CurrentUser, now: Now,
                   rules: Rules) -> HTMLResponse:
    """One follow-up: the neighbor and how to reach them, attempts, notes, needs, referrals, and closing."""
    return _page(request, db, user, now, rules, follow_up_id)


def _page(request: Request, db: Session, user: User, now: datetime, rules: CareRules, follow_up_id: int,
          error: str | None = None, status: int = 200) -> HTMLResponse:
    detail = queue.follow_up_detail(session=db, follow_up_id=follow_up_id, reader=user, now=now)
    follow_up = detail.item.follow_up
    rules = rules.of(detail.item.case_program)
    return render(request, "navigation/follow_up.html", {
        "d": detail, "f": follow_up, "n": detail.item.neighbor, "now": now, "rules": rules, "error": error,
        "words": duration_words, "new_token": new_token, "outcomes": closing_outcomes(rules, follow_up.status,
                                                                                       detail.item.attempts),
        "services": services_for(db, rules.needs, detail.item.needs, now, request),
        "next_steps": {r.id: REFERRAL_STEPS[r.status] for r in detail.referrals},
        "outcomes_need_plan": any(o.requires == "plan" for o in rules.config.outcomes.values()),
        "can_write": allowed("followups.write", user.role),
        "can_acknowledge": allowed("followups.supervise", user.role),
        "can_read_log": allowed("audit.read", user.role),
    }, status_code=status)


def closing_outcomes(rules: CareRules, status: FollowUpStatus, attempts: int) -> list[tuple[str, str]]:
    """The outcomes a follow-up may close with now, as (key, words)."""
    allowed_rules = {FollowUpStatus.IN_CONTACT: {"reached"},
                     FollowUpStatus.AWAITING_CONTACT: {"unreachable"} if attempts >= rules.attempts_before_unreachable
                     else set()}.get(status, set())
    return [(key, outcome.label) for key, outcome in rules.config.outcomes.items() if outcome.when in allowed_rules]


def services_for(db: Session, needs: NeedsMap, wanted: list[str], now: datetime,
                 request: Request) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """For each of the follow-up's needs: (need, its words, [(service id, "service · organization")]) of the
    directory's active services that meet it."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(request.app.state.settings.timezone)
    found = []
    for need in wanted:
        if need not in needs.needs:
            continue
        results = search_services(session=db, search=Search(need=need, per_page=SERVICES_PER_NEED), needs=needs,
                                  now=now, zone=zone)
        found.append((need, needs.needs[need].label,
                      [(hit.service.id, f"{hit.service.name}" + (f" · {hit.organization.name}"
                                                                  if hit.organization else ""))
                       for hit in results.hits]))
    return found


def _act(request: Request, db: Session, user: User, now: datetime, rules: CareRules, follow_up_id: int,
         work: Callable[[], object]) -> Response:
    """Do ``work``; answer with the follow-up page again (a refusal shown on it, nothing saved)."""
    try:
        work()
        db.flush()
    except NotFound:
        raise
    except DomainError as error:
        db.rollback()
        status = 422 if isinstance(error, InvalidInput) else 409
        return _page(request, db, user, now, rules, follow_up_id, error=str(error), status=status)
    return RedirectResponse(f"/follow-ups/{follow_up_id}", status_code=303)


@router.post("/follow-ups/{follow_up_id}/attempts", dependencies=WRITE)
def attempt(follow_up_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now, rules: Rules,
            method: Short, result: Short, token: TokenField) -> Response:
    return _act(request, db, user, now, rules, follow_up_id, lambda: service.record_attempt(
        session=db, follow_up_id=follow_up_id, method=method, result=result, at=now, now=now, by=user,
        client_token=token, rules=rules))


@router.post("/follow-ups/{follow_up_id}/notes", dependencies=WRITE)
def note(follow_up_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now, rules: Rules,
         text: Text, token: TokenField) -> Response:
    return _act(request, db, user, now, rules, follow_up_id, lambda: service.add_note(
        session=db, follow_up_id=follow_up_id, text=text, at=now, actor_id=user.id, client_token=token, reader=user))


@router.post("/follow-ups/{follow_up_id}/notes/{note_id}/strike", dependencies=WRITE)
def strike(follow_up_id: RowId, note_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now,
           rules: Rules, reason: Annotated[str, Form(max_length=256)]) -> Response:
    return _act(request, db, user, now, rules, follow_up_id, lambda: service.strike_note(
        session=db, follow_up_id=follow_up_id, note_id=note_id, reason=reason, at=now, actor_id=user.id,
        reader=user))


@router.post("/follow-ups/{follow_up_id}/needs", dependencies=WRITE)
def add_need(follow_up_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now, rules: Rules,
         need: Annotated[str, Form(max_length=64)]) -> Response:
    return _act(request, db, user, now, rules, follow_up_id, lambda: service.add_need(
        session=db, follow_up_id=follow_up_id, need=need, at=now, actor_id=user.id, rules=rules, reader=user))


@router.post("/follow-ups/{follow_up_id}/referrals", dependencies=WRITE)
def refer(follow_up_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now, rules: Rules,
          choice: Annotated[str, Form(max_length=120)], token: TokenField,
          consent_to_share: Annotated[bool, Form()] = False) -> Response:
    """The service comes as "need::service id" from the list of services meeting each of the follow-up's needs."""
    need_key, _, service_id = choice.partition("::")

    def work() -> object:
        if not service_id:
            raise InvalidInput("choose a service", field="choice")
        return service.make_referral(session=db, follow_up_id=follow_up_id, need=need_key, service_id=service_id,
                                     at=now, now=now, by=user, client_token=token, rules=rules,
                                     consent_to_share=consent_to_share)

    return _act(request, db, user, now, rules, follow_up_id, work)


@router.post("/follow-ups/{follow_up_id}/referrals/{referral_id}/status", dependencies=WRITE)
def move(follow_up_id: RowId, referral_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now,
         rules: Rules, status: Annotated[ReferralStatus, Form()]) -> Response:
    def work() -> object:
        referral = service.move_referral(session=db, referral_id=referral_id, status=status, at=now, now=now, by=user)
        if referral.follow_up_id != follow_up_id:
            raise NotFound("referral", referral_id, field="referral_id")
        return referral

    return _act(request, db, user, now, rules, follow_up_id, work)


@router.post("/follow-ups/{follow_up_id}/close", dependencies=WRITE)
def close(follow_up_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now, rules: Rules,
          outcome: Annotated[str, Form(max_length=32)] = "", facility: Annotated[str, Form(max_length=64)] = "",
          plan: Text = "") -> Response:
    return _act(request, db, user, now, rules, follow_up_id, lambda: service.close_follow_up(
        session=db, follow_up_id=follow_up_id, outcome=outcome, at=now, now=now, by=user, rules=rules,
        facility=facility or None, plan=plan or None))


@router.post("/follow-ups/{follow_up_id}/alert/acknowledge", dependencies=[allow("followups.supervise")])
def acknowledge(follow_up_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now,
                rules: Rules) -> Response:
    """A supervisor has seen the alert; back to the queue."""
    try:
        service.acknowledge_alert(session=db, follow_up_id=follow_up_id, by=user, now=now)
    except NotFound:
        raise
    except DomainError as error:
        db.rollback()
        return _page(request, db, user, now, rules, follow_up_id, error=str(error), status=409)
    return RedirectResponse("/follow-ups", status_code=303)


# --- the warm handoff: the responder's clear form, and a CCD clinician's phone contact ----------------------------

HANDOFF_FIELDS = ("first_name", "last_name", "alias", "date_of_birth", "phone", "address", "language", "pronouns",
                  "contact_method", "contact_times", "note")
FIELD_WORDS = {"first_name": "First name", "last_name": "Last name", "aliases": "Also known as",
               "date_of_birth": "Date of birth", "phone": "Phone", "address": "Address", "language": "Language",
               "pronouns": "Pronouns", "contact_method": "Best way to reach", "contact_times": "Best time to reach",
               "note": "For the navigator"}


@dataclass(frozen=True, slots=True)
class HandoffForm:
    """The handoff fields of a submitted form: the handoff (None when every field was left empty), or what is
    wrong with one field."""

    handoff: Handoff | None
    error: str | None = None


async def handoff_form(request: Request) -> HandoffForm:
    """Read the ``handoff_*`` fields of a form (the responder's clear form, the CCD handoff page)."""
    form = await request.form()
    values = {name: form.get(f"handoff_{name}") for name in HANDOFF_FIELDS}
    data: dict[str, object] = {name: value.strip() for name, value in values.items()
                               if isinstance(value, str) and value.strip()}
    alias = data.pop("alias", None)
    if alias:
        data["aliases"] = [alias]
    if not data:
        return HandoffForm(None)
    try:
        return HandoffForm(Handoff.model_validate(data))
    except ValidationError as problem:
        first = problem.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else ""
        return HandoffForm(None, f"{FIELD_WORDS.get(name, 'Handoff')}: {first['msg']}")


HandoffFields = Annotated[HandoffForm, Depends(handoff_form)]


@router.get("/calls/{call_id}/handoff", dependencies=[allow("care.handoff")])
def phone_handoff_page(call_id: RowId, request: Request, db: SessionDep, user: CurrentUser,
                       rules: Rules) -> HTMLResponse:
    """A CCD clinician hands a neighbor they helped by phone to Care Navigation (with consent)."""
    return _handoff_page(request, db, user, rules, call_id)


@router.post("/calls/{call_id}/handoff", dependencies=[allow("care.handoff")])
def phone_handoff(call_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now, rules: Rules,
                  fields: HandoffFields, consent_to_follow_up: Annotated[bool, Form()] = False,
                  needs: Annotated[list[str] | None, Form()] = None) -> HTMLResponse:
    if fields.error:
        return _handoff_page(request, db, user, rules, call_id, error=fields.error, status=422)
    try:
        body = PhoneHandoff(consent_to_follow_up=consent_to_follow_up, needs=needs or [],
                            handoff=fields.handoff or Handoff())
        follow_up = flows.hand_off_phone_contact(session=db, call_id=call_id, handoff=body, at=now,
                                                 actor_id=user.id, rules=rules)
        db.flush()
    except NotFound:
        raise
    except DomainError as error:
        db.rollback()
        status = 422 if isinstance(error, InvalidInput) else 409
        return _handoff_page(request, db, user, rules, call_id, error=str(error), status=status)
    return _handoff_page(request, db, user, rules, call_id, done=follow_up.due_at)


def _handoff_page(request: Request, db: Session, user: User, rules: CareRules, call_id: int, *,
                  error: str | None = None, status: int = 200, done: datetime | None = None) -> HTMLResponse:
    call = get_call(session=db, call_id=call_id, viewer=user)
    return render(request, "navigation/handoff.html", {
        "call": call, "needs": rules.needs.needs, "contact_methods": rules.config.contact_methods, "error": error,
        "done": done,
    }, status_code=status)
