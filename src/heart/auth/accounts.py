"""The administrators' accounts screen (``/admin/accounts``): create an account, set its role and unit, disable or
enable it, reset its password (a one-time password shown once, or one the administrator sets).

A password typed here is hashed and forgotten: never logged, never in an event, never in a URL; the page that
shows a one-time password is not cached. A refused action shows the screen again with what was typed (never the
password) and the refusal in words.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from heart.auth import service
from heart.auth.models import Role, User
from heart.deps import CurrentUser, Now, SessionDep, allow
from heart.errors import DomainError, InvalidInput, http_status
from heart.inputs import RowId
from heart.programs.models import Unit
from heart.templating import render

router = APIRouter(include_in_schema=False)
ADMIN = [allow("users.admin")]
Text64 = Annotated[str, Form(max_length=64)]
Text128 = Annotated[str, Form(max_length=128)]
Password = Annotated[str, Form(max_length=1024)]


def _screen(request: Request, db: Session, *, error: str | None = None, notice: str | None = None,
            one_time: tuple[str, str] | None = None, typed: dict[str, Any] | None = None,
            status_code: int = 200) -> HTMLResponse:
    page = render(request, "admin/accounts.html", {
        "accounts": list(db.scalars(select(User).order_by(User.active.desc(), User.username))),
        "units": list(db.scalars(select(Unit).order_by(Unit.call_sign))), "roles": list(Role),
        "error": error, "notice": notice, "one_time": one_time, "typed": typed or {},
        "min_password": service.MIN_PASSWORD_LENGTH}, status_code=status_code)
    if one_time is not None:
        page.headers["Cache-Control"] = "no-store"
    return page


def _unit(db: Session, unit_id: str) -> int | None:
    if not unit_id:
        return None
    found = db.scalar(select(Unit.id).where(Unit.id == int(unit_id))) if unit_id.isdigit() else None
    if found is None:
        raise InvalidInput("choose a unit from the list", field="unit_id")
    return found


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput("choose a role from the list", field="role") from None


def _refused(request: Request, db: Session, error: DomainError, typed: dict[str, Any] | None = None) -> HTMLResponse:
    db.rollback()
    return _screen(request, db, error=str(error), typed=typed, status_code=http_status(error))


@router.get("/admin/accounts", dependencies=ADMIN)
def accounts_page(request: Request, db: SessionDep) -> HTMLResponse:
    """Every account: its role, unit and whether it may sign in."""
    return _screen(request, db)


@router.post("/admin/accounts", dependencies=ADMIN)
def create_account(request: Request, db: SessionDep, user: CurrentUser, now: Now, username: Text64 = "",
                   display_name: Text128 = "", role: Text64 = "", unit_id: Text64 = "",
                   password: Password = "") -> Response:
    """A new account; without a password typed, a one-time password is made and shown once."""
    typed = {"username": username, "display_name": display_name, "role": role, "unit_id": unit_id}
    try:
        chosen = _role(role)
        made = None if password else secrets.token_urlsafe(service.ONE_TIME_PASSWORD_BYTES)
        created = service.create_user(session=db, username=username, password=password or made or "", role=chosen,
                                      display_name=display_name.strip(), now=now, actor_id=user.id,
                                      unit_id=_unit(db, unit_id) if chosen == Role.RESPONDER else None)
        db.flush()
    except DomainError as error:
        return _refused(request, db, error, typed)
    if made is not None:
        return _screen(request, db, notice=f"Account {created.username} created.", one_time=(created.username, made))
    return RedirectResponse("/admin/accounts", status_code=303)


@router.post("/admin/accounts/{user_id}", dependencies=ADMIN)
def change_account(user_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now,
                   role: Text64 = "", unit_id: Text64 = "") -> Response:
    """Set the account's role and unit."""
    try:
        service.change_account(session=db, user_id=user_id, role=_role(role), unit_id=_unit(db, unit_id), by=user,
                               now=now)
        db.flush()
    except DomainError as error:
        return _refused(request, db, error)
    return RedirectResponse("/admin/accounts", status_code=303)


@router.post("/admin/accounts/{user_id}/disable", dependencies=ADMIN)
def disable_account(user_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now) -> Response:
    """The account can no longer sign in; its sessions end now."""
    try:
        service.set_active(session=db, user_id=user_id, active=False, by=user, now=now)
        db.flush()
    except DomainError as error:
        return _refused(request, db, error)
    return RedirectResponse("/admin/accounts", status_code=303)


@router.post("/admin/accounts/{user_id}/enable", dependencies=ADMIN)
def enable_account(user_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now) -> Response:
    """The account may sign in again."""
    try:
        service.set_active(session=db, user_id=user_id, active=True, by=user, now=now)
        db.flush()
    except DomainError as error:
        return _refused(request, db, error)
    return RedirectResponse("/admin/accounts", status_code=303)


@router.post("/admin/accounts/{user_id}/password", dependencies=ADMIN)
def reset_account_password(user_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now,
                           password: Password = "") -> Response:
    """A new password: the one typed, or (left empty) a one-time password shown once on the answer."""
    try:
        made = service.reset_password(session=db, user_id=user_id, by=user, now=now, password=password or None)
        account = service.get_user(session=db, user_id=user_id)
        db.flush()
    except DomainError as error:
        return _refused(request, db, error)
    if made is not None:
        return _screen(request, db, notice=f"Password of {account.username} reset; their sessions ended.",
                       one_time=(account.username, made))
    return _screen(request, db, notice=f"Password of {account.username} set; their sessions ended.")
