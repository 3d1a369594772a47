"""JSON routes for signing in and out and for managing accounts."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import select

from heart.auth import service
from heart.auth.models import User
from heart.auth.schemas import LoginRequest, LoginResult, UserCreate, UserPublic
from heart.deps import PUBLIC, SESSION_COOKIE, CurrentUser, Now, SessionDep, allow
from heart.programs.service import get_unit

router = APIRouter(prefix="/api", tags=["accounts"])


def set_session_cookie(request: Request, response: Response, token: str, max_age: int) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, Secure outside development."""
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="lax",
                        secure=request.app.state.settings.secure_cookies, path="/")


@router.post("/auth/login", dependencies=[PUBLIC], responses={401: {"description": "wrong username or password"}})
def login(body: LoginRequest, request: Request, response: Response, db: SessionDep, now: Now) -> LoginResult:
    """Sign in; the session cookie is set and the CSRF token returned for later writes."""
    user = service.authenticate(session=db, username=body.username, password=body.password)
    if user is None:
        return JSONResponse({"detail": "wrong username or password"}, status_code=401)  # type: ignore[return-value]
    settings = request.app.state.settings
    opened = service.open_session(session=db, user=user, now=now, hours=settings.session_hours)
    set_session_cookie(request, response, opened.token, int(settings.session_hours * 3600))
    return LoginResult(user=UserPublic.model_validate(user), csrf_token=opened.csrf_token,
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
                                  display_name=body.display_name, unit_id=body.unit_id, now=now, actor_id=user.id)
    return UserPublic.model_validate(created)
