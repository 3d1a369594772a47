"""JSON routes for signing in and out and for managing accounts."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import select

from heart.auth import flows, service
from heart.auth.models import User
from heart.auth.origin import from_own_site
from heart.auth.schemas import LoginRequest, LoginResult, UserCreate, UserPublic
from heart.auth.service import OpenedSession, SignInBusy
from heart.deps import PUBLIC, SESSION_COOKIE, CurrentUser, Now, SessionDep, allow
from heart.programs.service import get_unit

router = APIRouter(prefix="/api", tags=["accounts"])


def set_session_cookie(request: Request, response: Response, token: str, max_age: int) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, Secure outside development."""
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="lax",
                        secure=request.app.state.settings.secure_cookies, path="/")


def client_address(request: Request) -> str:
    """The client's address (a reverse proxy on the same host may name it in X-Forwarded-For)."""
    return request.client.host if request.client else "unknown"


async def attempt_sign_in(request: Request, username: str, password: str) -> OpenedSession:
    """The sign-in flow with this app's databases and settings (pages and API share it)."""
    state = request.app.state
    if not hasattr(state, "known_login_blocks"):
        state.known_login_blocks = flows.KnownBlocks()
    return await flows.sign_in_served(reads=state.read_sessionmaker, writes=state.sessionmaker,
                                      attempt=flows.LoginAttempt(username, password, client_address(request)),
                                      secret=state.settings.secret_key, hours=state.settings.session_hours,
                                      known=state.known_login_blocks)


@router.post("/auth/login", dependencies=[PUBLIC], responses={
    401: {"description": "wrong username or password"},
    403: {"description": "the request came from another site's page"},
    429: {"description": "too many failed sign-ins for this account or from this address; see Retry-After"},
    503: {"description": "too many sign-ins at once; see Retry-After"},
})
async def login(body: LoginRequest, request: Request, response: Response) -> LoginResult:
    """Sign in; the session cookie is set and the CSRF token returned for later writes.

    After a few wrong passwords for an account, or many from one address, attempts wait a growing delay, then
    the account or address is locked for a while: such attempts answer 429 with Retry-After, unchecked.
    """
    if not from_own_site(request):
        return JSONResponse({"detail": "sign in from HEART's own sign-in page"},  # type: ignore[return-value]
                            status_code=403)
    try:
        opened = await attempt_sign_in(request, body.username, body.password)
    except SignInBusy as busy:
        return JSONResponse({"detail": str(busy)}, status_code=503,  # type: ignore[return-value]
                            headers={"Retry-After": str(busy.retry_after)})
    except flows.LoginThrottled as throttled:
        return JSONResponse({"detail": str(throttled)}, status_code=429,  # type: ignore[return-value]
                            headers={"Retry-After": str(throttled.retry_after)})
    except flows.LoginRefused as refused:
        headers = {"Retry-After": str(refused.retry_after)} if refused.retry_after else None
        return JSONResponse({"detail": str(refused)}, status_code=401, headers=headers)  # type: ignore[return-value]
    settings = request.app.state.settings
    set_session_cookie(request, response, opened.token, int(settings.session_hours * 3600))
    return LoginResult(user=UserPublic.model_validate(opened.user), csrf_token=opened.csrf_token,
                       expires_at=opened.expires_at)


@router.post("/auth/logout", status_code=204, dependencies=[allow("signed_in")])
def logout(request: Request, response: Response, db: SessionDep, now: Now) -> None:
    service.close_session(session=db, token=request.cookies[SESSION_COOKIE], now=now)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/auth/me", dependencies=[allow("signed_in")])
def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)


@router.get("/users", dependencies=[allow("users.admin")])
def list_users(db: SessionDep) -> list[UserPublic]:
    return [UserPublic.model_validate(u) for u in db.scalars(select(User).order_by(User.username))]


@router.post("/users", status_code=201, dependencies=[allow("users.admin")])
def create_user(body: UserCreate, db: SessionDep, user: CurrentUser, now: Now) -> UserPublic:
    if body.unit_id is not None:
        get_unit(session=db, unit_id=body.unit_id)
    created = service.create_user(session=db, username=body.username, password=body.password, role=body.role,
                                  display_name=body.display_name, unit_id=body.unit_id, staff_id=body.staff_id,
                                  now=now, actor_id=user.id)
    return UserPublic.model_validate(created)
