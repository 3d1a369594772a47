"""Sign-in, sign-out and the home page that sends each role to its screens (templates: web/templates)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from heart.auth import service
from heart.auth.api import attempt_sign_in, set_session_cookie
from heart.auth.flows import LoginRefused, LoginThrottled
from heart.auth.models import Role
from heart.auth.origin import LOGIN_COOKIE, from_own_site, keep_login_token, login_form_is_genuine, login_form_token
from heart.auth.service import SignInBusy
from heart.deps import PUBLIC, SESSION_COOKIE, CurrentUser, Now, SessionDep, allow
from heart.templating import render, screens_for, templates

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: a login link must never send someone to another site."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _login_form(request: Request, next: str, *, error: str | None = None, username: str = "", status: int = 200,
                headers: dict[str, str] | None = None) -> HTMLResponse:
    """The sign-in form with its token (also set as a cookie: the post must bring both)."""
    token = login_form_token(request)
    page = render(request, "login.html", {"next": _safe_next(next), "error": error, "username": username,
                                          "login_token": token}, status_code=status)
    keep_login_token(request, page, token)
    page.headers.update(headers or {})
    return page


@router.get("/login", dependencies=[PUBLIC])
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return _login_form(request, next or "/")


@router.post("/login", dependencies=[PUBLIC])
async def login_submit(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/",
    csrf_token: Annotated[str | None, Form(max_length=128)] = None,
) -> Response:
    """Sign in from the form; only HEART's own page can (Origin / Referer and the form's token are checked)."""
    if not from_own_site(request) or not login_form_is_genuine(request, csrf_token):
        return _login_form(request, next, status=403,
                           error="This sign-in form has expired or did not come from HEART. Please sign in again.")
    try:
        opened = await attempt_sign_in(request, username, password)
    except SignInBusy as busy:
        return _login_form(request, next, status=503, username=username,
                           error="Many people are signing in right now. Please try again in a few seconds.",
                           headers={"Retry-After": str(busy.retry_after)})
    except LoginThrottled as throttled:
        return _login_form(request, next, status=429, username=username,
                           error=f"Too many failed sign-ins. Try again in {throttled.wait}.",
                           headers={"Retry-After": str(throttled.retry_after)})
    except LoginRefused as refused:
        headers = {"Retry-After": str(refused.retry_after)} if refused.retry_after else None
        return _login_form(request, next, status=401, username=username, error="Wrong username or password.",
                           headers=headers)
    settings = request.app.state.settings
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(request, response, opened.token, int(settings.session_hours * 3600))
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout", dependencies=[allow("signed_in")])
def logout(request: Request, db: SessionDep, now: Now) -> Response:
    service.close_session(session=db, token=request.cookies[SESSION_COOKIE], now=now)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/docs", dependencies=[PUBLIC])
def docs(request: Request) -> HTMLResponse:
    """The API documentation (Swagger UI, from the npm package; started by static/docs.js, no inline script)."""
    return templates.TemplateResponse(request, "docs.html")

@router.get("/", dependencies=[allow("signed_in")])
def home(request: Request, user: CurrentUser) -> Response:
    """Each role sees the screens it may use, first the one it uses most; a responder on a unit lands on their call
    (the phone screen shows the current call, or says none is assigned yet)."""
    if user.role == Role.RESPONDER and user.unit_id is not None:
        return RedirectResponse("/responder", status_code=303)
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
