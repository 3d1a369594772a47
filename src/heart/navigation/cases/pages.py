"""The intake screen of a case program: who referred (or petitioned), the person and how to reach them, their
consent where the program needs it, the needs heard, and a first note; then the case's page."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.deps import CurrentUser, Now, SessionDep, allow
from heart.errors import DomainError, InvalidInput, NotFound
from heart.navigation.cases import flows
from heart.navigation.followups.pages import HandoffFields
from heart.navigation.followups.rules import CareRules
from heart.navigation.followups.schemas import CaseOpen, Handoff
from heart.neighbors.api import Rules
from heart.programs.members import case_program_names
from heart.programs.schemas import ProgramCode
from heart.templating import render

router = APIRouter(include_in_schema=False)
WRITE = [allow("followups.write")]


@router.get("/cases/new/{code}", dependencies=WRITE)
def case_form(code: ProgramCode, request: Request, db: SessionDep, user: CurrentUser, rules: Rules) -> HTMLResponse:
    """The intake form of a case program (one the user may see)."""
    return _form(request, db, user, rules, code)


@router.post("/cases/new/{code}", dependencies=WRITE)
def open_case(code: ProgramCode, request: Request, db: SessionDep, user: CurrentUser, now: Now, rules: Rules,
              fields: HandoffFields, intake: Annotated[str, Form(max_length=32)] = "",
              reference: Annotated[str, Form(max_length=256)] = "",
              consent_to_follow_up: Annotated[bool, Form()] = False,
              needs: Annotated[list[str] | None, Form()] = None,
              token: Annotated[str, Form(min_length=8, max_length=64)] = "") -> Response:
    if fields.error:
        return _form(request, db, user, rules, code, error=fields.error, status=422)
    try:
        body = CaseOpen(intake=intake, reference=reference, neighbor=fields.handoff or Handoff(), needs=needs or [],
                        consent_to_follow_up=consent_to_follow_up, client_token=token)
        case = flows.open_case(session=db, program_code=code, case=body, at=now, by=user, rules=rules)
        db.flush()
    except ValidationError as problem:
        first = problem.errors()[0]
        return _form(request, db, user, rules, code, error=f"{first['loc'][0]}: {first['msg']}", status=422)
    except NotFound:
        raise
    except DomainError as error:
        db.rollback()
        status = 422 if isinstance(error, InvalidInput) else 409
        return _form(request, db, user, rules, code, error=str(error), status=status)
    return RedirectResponse(f"/follow-ups/{case.id}", status_code=303)


def _form(request: Request, db: Session, user: User, rules: CareRules, code: str, *, error: str | None = None,
          status: int = 200) -> HTMLResponse:
    names = case_program_names(session=db, viewer=user)
    if code not in names or code not in rules.case_programs():
        raise NotFound("case program", code, field="code")
    case_rules = rules.of(code)
    return render(request, "navigation/case_new.html", {
        "code": code, "name": names[code], "config": case_rules.config, "needs": case_rules.needs.needs,
        "contact_methods": case_rules.config.contact_methods, "error": error, "token": secrets.token_urlsafe(16),
    }, status_code=status)
