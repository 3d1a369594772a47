"""The staff's queue of residents' requests and sign-ups (``/engagement``): each with its status, moved along
new → contacted → scheduled / declined / done. Contact details are shown here only, to the roles of
``engagement.work``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from heart.deps import CurrentUser, Now, SessionDep, allow
from heart.errors import DomainError, http_status
from heart.inputs import RowId
from heart.public import service
from heart.public.models import NEXT_STATUS
from heart.public.texts import public_texts
from heart.templating import render

router = APIRouter(include_in_schema=False)


def _queue(request: Request, db: SessionDep, *, closed: bool = False, error: str | None = None,
           status_code: int = 200) -> HTMLResponse:
    texts = public_texts(request.app.state.settings.public_dir)
    return render(request, "public/queue.html", {
        "events": service.queue(session=db, kind="event", open_only=not closed),
        "signups": service.queue(session=db, kind="volunteer", open_only=not closed),
        "next_status": NEXT_STATUS, "closed": closed, "error": error, "interests": texts.engagement.interests,
        "retention_days": request.app.state.settings.engagement_retention_days,
    }, status_code=status_code)


@router.get("/engagement", dependencies=[allow("engagement.work")])
def queue_page(request: Request, db: SessionDep, show: str | None = None) -> HTMLResponse:
    """Open requests and sign-ups, oldest first (``?show=all``: the latest 200 of each, closed ones too)."""
    return _queue(request, db, closed=show == "all")


@router.post("/engagement/{kind}/{item_id}/status", dependencies=[allow("engagement.work")])
def move(request: Request, db: SessionDep, user: CurrentUser, now: Now, kind: str, item_id: RowId,
         status: Annotated[str, Form(max_length=16)]) -> Response:
    """Move one item to its next status; a refused move shows the queue with why."""
    try:
        service.change_status(session=db, kind=kind, item_id=item_id, to=status, by=user.id, now=now)
    except DomainError as refused:
        db.rollback()
        return _queue(request, db, error=str(refused), status_code=http_status(refused))
    return RedirectResponse("/engagement", status_code=303)
