"""A neighbor's page: their record and how to reach them, consents, and the timeline of calls, encounters,
follow-ups and referrals (each view logged as a read); corrections and consents as plain forms; the access log for
those who audit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.auth.permissions import allowed
from heart.deps import CurrentUser, LoggedReadDep, Now, SessionDep, allow
from heart.errors import DomainError, InvalidInput, NotFound
from heart.inputs import RowId
from heart.navigation.followups.pages import duration_words
from heart.navigation.followups.queue import neighbor_timeline
from heart.navigation.followups.rules import CareRules
from heart.neighbors import flows, service
from heart.neighbors.api import Rules
from heart.neighbors.familiar import flags
from heart.neighbors.models import Neighbor
from heart.neighbors.schemas import NeighborUpdate
from heart.templating import render

router = APIRouter(include_in_schema=False)
WRITE = [allow("neighbors.write")]
EDITABLE = ("first_name", "last_name", "date_of_birth", "phone", "address", "language", "pronouns", "contact_method",
            "contact_times")
Field = Annotated[str, Form(max_length=256)]


@router.get("/neighbors/{neighbor_id}", dependencies=[allow("followups.read")])
def neighbor_page(neighbor_id: RowId, request: Request, db: LoggedReadDep, user: CurrentUser, now: Now,
                  rules: Rules) -> HTMLResponse:
    """The record, consents and timeline (encounters, follow-ups, referrals)."""
    return _page(request, db, user, now, rules, neighbor_id)


def _page(request: Request, db: Session, user: User, now: datetime, rules: CareRules, neighbor_id: int,
          error: str | None = None, status: int = 200) -> HTMLResponse:
    timeline = neighbor_timeline(session=db, neighbor_id=neighbor_id, reader=user, now=now)
    kept = timeline.neighbor.kept_id
    flag = flags.open_flag_of(session=db, neighbor_id=kept)
    reviewer = db.scalar(select(User.username).where(User.id == flag.reviewer_id)) if flag and flag.reviewer_id \
        else None
    return render(request, "neighbors/neighbor.html", {
        "t": timeline, "n": timeline.neighbor, "rules": rules, "now": now, "error": error, "words": duration_words,
        "can_write": allowed("neighbors.write", user.role), "can_read_log": allowed("audit.read", user.role),
        "can_review": allowed("familiar.review", user.role), "flag": flag, "reviewer": reviewer,
        "history": flags.flag_history(session=db, neighbor_id=kept), "merged": timeline.merged,
        "config": rules.familiar_neighbors,
    }, status_code=status)


def _act(request: Request, db: Session, user: User, now: datetime, rules: CareRules, neighbor_id: int,
         work: Callable[[], object]) -> Response:
    try:
        work()
        db.flush()
    except NotFound:
        raise
    except DomainError as error:
        db.rollback()
        status = 422 if isinstance(error, InvalidInput) else 409
        return _page(request, db, user, now, rules, neighbor_id, error=str(error), status=status)
    return RedirectResponse(f"/neighbors/{neighbor_id}", status_code=303)


@router.post("/neighbors/{neighbor_id}", dependencies=WRITE)
async def update(neighbor_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now,
                 rules: Rules) -> Response:
    """Correct the record: a field emptied on the form is emptied on the record; the event names fields only."""
    form = await request.form()
    values = {name: str(form.get(name) or "").strip() for name in EDITABLE}
    alias = str(form.get("aliases") or "")

    def work() -> object:
        try:
            changes = NeighborUpdate.model_validate({
                **{name: value for name, value in values.items() if value},
                "aliases": [part for part in alias.split(",") if part.strip()],
                "clear": [name for name, value in values.items() if not value]
                + ([] if alias.strip() else ["aliases"])})
        except ValidationError as problem:
            first = problem.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else "record"
            raise InvalidInput(f"{field.replace('_', ' ')}: {first['msg']}", field=field) from None
        return service.update_neighbor(session=db, neighbor_id=neighbor_id, changes=changes, at=now, by=user,
                                       rules=rules)

    return _act(request, db, user, now, rules, neighbor_id, work)


@router.post("/neighbors/{neighbor_id}/consents", dependencies=WRITE)
def give_consent(neighbor_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now, rules: Rules,
                 purpose: Annotated[str, Form(max_length=32)], provider_name: Field = "") -> Response:
    def work() -> object:
        service.read_neighbor(session=db, neighbor_id=neighbor_id, reader=user, purpose="consent recorded", at=now)
        return service.give_consent(session=db, neighbor_id=neighbor_id, purpose=purpose, at=now, actor_id=user.id,
                                    rules=rules, provider_name=provider_name.strip() or None)

    return _act(request, db, user, now, rules, neighbor_id, work)


@router.post("/neighbors/{neighbor_id}/consents/{consent_id}/withdraw", dependencies=WRITE)
def withdraw_consent(neighbor_id: RowId, consent_id: RowId, request: Request, db: SessionDep, user: CurrentUser,
                     now: Now, rules: Rules) -> Response:
    """The neighbor takes a consent back; follow-ups that needed it close with that outcome."""
    return _act(request, db, user, now, rules, neighbor_id, lambda: flows.withdraw_consent(
        session=db, neighbor_id=neighbor_id, consent_id=consent_id, at=now, by=user, rules=rules))


@router.post("/neighbors/{neighbor_id}/calls", dependencies=WRITE)
def name_on_call(neighbor_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now, rules: Rules,
                 call: Annotated[str, Form(max_length=64)] = "") -> Response:
    """Name this neighbor on a call being answered (its number), so its crew sees the approach notes."""
    return _act(request, db, user, now, rules, neighbor_id, lambda: service.name_on_call(
        session=db, neighbor_id=neighbor_id, call=call, at=now, by=user))


@router.get("/neighbors/{neighbor_id}/reads", dependencies=[allow("audit.read")])
def access_log_page(neighbor_id: RowId, request: Request, db: SessionDep) -> HTMLResponse:
    """Who read the record, when and why (it shows no personal field, so it is not itself a read)."""
    if db.get(Neighbor, neighbor_id) is None:
        raise NotFound("neighbor", neighbor_id, field="neighbor_id")
    reads = service.reads_of(session=db, neighbor_id=neighbor_id)
    readers = {ident: name for ident, name in db.execute(
        select(User.id, User.username).where(User.id.in_({r.reader_id for r in reads})))}
    return render(request, "neighbors/reads.html", {"neighbor_id": neighbor_id, "reads": reads, "readers": readers})
