"""`heart programs members`: a program's staff — who sees a members-only program's cases, who holds each crew role.

    heart programs members add OSC rosa [--role "victim advocate"]
    heart programs members remove OSC rosa
    heart programs members list OSC
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.console import console, fail
from heart.db import utcnow

app = typer.Typer(help="Programs: their staff.", no_args_is_help=True)
members_app = typer.Typer(help="A program's staff (user ↔ program, with a crew role).", no_args_is_help=True)
app.add_typer(members_app, name="members")
Program = Annotated[str, typer.Argument(help="the program's code (OSC)")]
Username = Annotated[str, typer.Argument(help="the account's username")]


def _user_id(session: Session, username: str) -> int:
    found = session.scalar(select(User.id).where(User.username == username))
    if found is None:
        raise fail(f"no account named {username}")
    return int(found)


@members_app.command("add")
def add(program: Program, username: Username,
        role: Annotated[str | None, typer.Option(help="one of the program's crew roles")] = None) -> None:
    """Put an account on a program's staff (again: change its crew role)."""
    from heart.console import database
    from heart.programs.members import add_member

    with database() as session:
        add_member(session=session, program_code=program, user_id=_user_id(session, username), role=role,
                   at=utcnow(), actor_id=None)
    console.print(f"{username} is on {program}'s staff{f' as {role}' if role else ''}")


@members_app.command("remove")
def remove(program: Program, username: Username) -> None:
    """Take an account off a program's staff (its sight of a members-only program's cases ends at once)."""
    from heart.console import database
    from heart.programs.members import remove_member

    with database() as session:
        removed = remove_member(session=session, program_code=program, user_id=_user_id(session, username),
                                at=utcnow(), actor_id=None)
    console.print(f"{username} {'is no longer' if removed else 'was not'} on {program}'s staff")


@members_app.command("list")
def list_members(program: Program) -> None:
    from heart.console import database
    from heart.programs.members import members_of

    with database() as session:
        rows = [(user.username, user.role.value, member.role or "") for member, user in
                members_of(session=session, program_code=program)]
    table = Table("username", "role", "crew role", title=f"{program} staff")
    for row in rows:
        table.add_row(*row)
    console.print(table)
