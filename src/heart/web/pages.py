"""Sign-in, sign-out and the home page that sends each role to its screens."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from heart.auth import service
from heart.auth.api import set_session_cookie
from heart.auth.models import Role
from heart.deps import PUBLIC, SESSION_COOKIE, CurrentUser, Now, SessionDep, allow
from heart.templating import render, screens_for

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: a login link must never send someone to another site."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login", dependencies=[PUBLIC])
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", dependencies=[PUBLIC])
def login_submit(
    request: Request,
    db: SessionDep,
    now: Now,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    user = service.authenticate(session=db, username=username, password=password) if username else None
    if user is None:
        return render(request, "login.html", {"next": _safe_next(next), "error": "Wrong username or password.",
                                              "username": username}, status_code=401)
    settings = request.app.state.settings
    opened = service.open_session(session=db, user=user, now=now, hours=settings.session_hours)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(request, response, opened.token, int(settings.session_hours * 3600))
    return response


@router.post("/logout", dependencies=[allow("signed_in")])
def logout(request: Request, db: SessionDep, now: Now) -> Response:
    service.close_session(session=db, token=request.cookies[SESSION_COOKIE], now=now)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response




@router.get("/", dependencies=[allow("signed_in")])
def home(request: Request, user: CurrentUser) -> HTMLResponse:
    """Each role sees the screens it may use, first the one it uses most."""
    screens = screens_for(user)
    return render(request, "home.html", {"screens": screens, "role_label": ROLE_LABELS[user.role]})


ROLE_LABELS = {
    Role.CALL_TAKER: "Call-taker / CCD clinician",
    Role.DISPATCHER: "Dispatcher",
    Role.RESPONDER: "Responder",
    Role.NAVIGATOR: "Care navigator",
    Role.SUPERVISOR: "Supervisor",
    Role.ANALYST: "Analyst",
    Role.ADMIN: "Administrator",
}
