"""`heart referrals`: a referral out as a FHIR R4 Bundle, and a partner's Task status update in.

    heart referrals export-fhir 42 --as rosa [--out referral-42.json]
    heart referrals import-fhir task-update.json --as partner-feed

Both act for a named account (``--as``): the export reads the neighbor's record (logged as that account's read), and
the import moves the referral as that account, through the same guards as the web.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.console import console, fail
from heart.db import utcnow

app = typer.Typer(help="Referrals as HL7 FHIR R4 documents: export a referral, import a partner's Task update.",
                  no_args_is_help=True)
AsOption = Annotated[str, typer.Option("--as", help="the account this is done for (its reads are logged)")]


def _account(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username, User.active))
    if user is None:
        raise fail(f"no active account named {username}")
    return user


@app.command("export-fhir")
def export_fhir(referral_id: Annotated[int, typer.Argument(help="the referral's id")], as_user: AsOption,
                out: Annotated[Path | None, typer.Option(help="write the Bundle here (never overwrites)")] = None
                ) -> None:
    """Print (or write) the referral as a FHIR R4 Bundle: ServiceRequest, Task, Patient, Organization."""
    from heart.console import database, settings
    from heart.navigation.fhir.service import export_referral
    from heart.navigation.followups.rules import care_rules

    if out is not None and out.exists():
        raise fail(f"{out} exists; choose a new file")
    with database() as session:
        bundle = export_referral(session=session, referral_id=referral_id, reader=_account(session, as_user),
                                 at=utcnow(), rules=care_rules(settings()))
    text = json.dumps(bundle, indent=2, ensure_ascii=False)
    if out is None:
        console.print_json(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        console.print(f"wrote {out}")


@app.command("import-fhir")
def import_fhir(file: Annotated[Path, typer.Argument(help="a FHIR R4 Task (or a Bundle holding one), JSON")],
                as_user: AsOption) -> None:
    """Apply a partner's Task status update to its referral (accepted, completed, rejected); exits 1 on a bad
    document, naming the file and each FHIR path."""
    from heart.console import database
    from heart.errors import InvalidInput
    from heart.navigation.fhir.service import import_task_update

    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except OSError as error:
        raise fail(f"{file}: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise fail(f"{file} line {error.lineno}: not JSON ({error.msg})") from None
    with database() as session:
        try:
            done = import_task_update(session=session, document=document, by=_account(session, as_user),
                                      now=utcnow())
        except InvalidInput as error:
            raise fail(f"{file}: {error}") from None  # nothing is written: the transaction rolls back
        referral, result, notices = done.referral.id, done.result, done.notices
        status = done.referral.status.value
    console.print(f"referral {referral}: {result.replace('_', ' ')} (now {status.replace('_', ' ')})")
    for notice in notices:
        console.print(f"  {notice}")
