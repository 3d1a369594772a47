"""JSON route to open a case of a program whose cases begin from a referral or a petition."""

from __future__ import annotations

from fastapi import APIRouter

from heart.deps import CurrentUser, Now, SessionDep, allow
from heart.navigation.cases import flows
from heart.navigation.followups.api import item_public
from heart.navigation.followups.queue import list_item
from heart.navigation.followups.schemas import CaseOpen, FollowUpPublic
from heart.neighbors.api import Rules
from heart.programs.schemas import ProgramCode

router = APIRouter(tags=["follow-ups"])


@router.post("/api/programs/{code}/cases", status_code=201, dependencies=[allow("followups.write")])
def open_case(code: ProgramCode, body: CaseOpen, db: SessionDep, user: CurrentUser, now: Now,
              rules: Rules) -> FollowUpPublic:
    """Open a case from a referral or a petition (a members-only program: only its staff may). The person's consent
    is needed where the program's cases stand on it; the same client token twice opens one case."""
    case = flows.open_case(session=db, program_code=code, case=body, at=now, by=user, rules=rules)
    return item_public(list_item(session=db, follow_up_id=case.id, reader=user, now=now, purpose="case opened (API)"),
                       now)
