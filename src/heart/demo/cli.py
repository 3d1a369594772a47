"""`heart demo`: build the demo program in an empty database and print its logins."""

from __future__ import annotations

import random
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from heart.db import utcnow
from heart.demo.setup import DemoLogin

if TYPE_CHECKING:
    from datetime import datetime

    from heart.demo.care import CareSummary
    from heart.demo.familiar import FamiliarSummary
    from heart.demo.history import HistorySummary
    from heart.demo.places import PlacesSummary
    from heart.navigation.resources.importer import ImportSummary

LOGINS_FILE = Path(".heart-demo-logins")


def demo(
    seed: Annotated[int, typer.Option(help="random seed; the same seed builds the same program")] = 2024,
    years: Annotated[float, typer.Option(min=0, max=20, help="years of simulated history (0 for none)")] = 1.0,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="do nothing when the database has data")] = False,
    logins_file: Annotated[Path, typer.Option(help="where the demo passwords are kept")] = LOGINS_FILE,
) -> None:
    """Build the city's demo program (programs, units, crews, one login per role) and a simulated history."""
    from heart.console import console, database
    from heart.demo.setup import (
        create_demo_logins,
        database_is_empty,
        load_demo_configuration,
        read_logins,
        start_open_shifts,
        write_logins,
    )

    with database() as session:
        if not database_is_empty(session):
            if not if_empty:
                from heart.console import fail

                raise fail("the database already holds data; the demo needs an empty one")
            _print_logins(read_logins(logins_file), console)
            return
        now = utcnow()
        rng = random.Random(seed)
        load_demo_configuration(session=session, now=now, rng=rng)
        history = _build_history(session, seed, years, console)
        directory = _load_directory(session, now)
        care = _build_care(session, seed, now) if history is not None else None
        started = start_open_shifts(session=session, now=now)
        logins = create_demo_logins(session=session, now=now)
        pilots, familiar = _build_pilots_and_familiar(session, seed, now, care, console)
        logins += pilots
        places = _load_places(session, now)
    write_logins(logins_file, logins)
    if history is not None:
        responses = ", ".join(f"{code} {count:,}" for code, count in sorted(history.responses.items()))
        console.print(f"history {history.start:%Y-%m-%d} to {history.end:%Y-%m-%d}: {history.calls:,} calls; "
                      f"responses {responses}; {history.phone_contacts:,} phone contacts; "
                      f"{history.cancelled:,} cancelled ({history.seconds:.1f} s)")
    if directory is not None:
        console.print(f"resource directory: {directory.total('added', 'service')} services of "
                      f"{directory.total('added', 'organization')} organizations (HSDS 3.0)")
    if care is not None:
        console.print(f"care navigation: {care.follow_ups:,} follow-ups, {care.open:,} open ({care.overdue:,} overdue, "
                      f"{care.alerts:,} untouched and alerting the supervisors), {care.referrals:,} referrals")
    if familiar is not None:
        console.print(f"familiar neighbors: {familiar.records:,} records linked, {familiar.merged:,} merged by the "
                      f"linkage, {familiar.accepted:,} links accepted and {familiar.rejected:,} rejected by the demo's "
                      f"reviewer, {familiar.waiting:,} waiting; {familiar.flags:,} flags "
                      f"({familiar.reviewed:,} reviewed) — see `heart neighbors report`")
    if places is not None:
        console.print(f"address points: {places.addresses.added:,} (`heart addresses lookup \"…\"`); "
                      f"{places.notes} location safety notes")
    console.print(f"demo program ready: {started} units on duty now")
    _print_logins(logins, console)


def _load_places(session: Session, now: datetime) -> PlacesSummary | None:
    """The demo city's address points and a few location safety notes (heart.demo.places)."""
    from sqlalchemy import select

    from heart.auth.models import User
    from heart.config import get_settings
    from heart.demo.places import load_places

    author = session.scalars(select(User).where(User.username == "supervisor")).one()
    return load_places(session=session, settings=get_settings(), now=now, author=author)


def _build_history(session: Session, seed: int, years: float, console: Console) -> HistorySummary | None:
    """Simulate the program's past operation (see heart.demo.simulate); None when ``years`` is 0."""
    if years <= 0:
        return None
    from heart.demo.history import build_history

    with console.status(f"simulating {years:g} year(s) of calls and responses…"):
        return build_history(session=session, seed=seed, years=years)


def _load_directory(session: Session, now: datetime) -> ImportSummary | None:
    """The demo city's community resource directory (an HSDS data package in its configuration)."""
    from heart.config import get_settings
    from heart.navigation.resources.importer import import_demo_directory

    return import_demo_directory(session=session, resources_dir=get_settings().resources_dir, now=now)


def _build_care(session: Session, seed: int, now: datetime) -> CareSummary:
    """Neighbors and follow-ups for the history's consented encounters, as they stand now (heart.demo.care)."""
    from heart.config import get_settings
    from heart.demo.care import build_care
    from heart.navigation.followups.rules import care_rules

    return build_care(session=session, seed=seed, now=now, rules=care_rules(get_settings()))


def _build_pilots_and_familiar(session: Session, seed: int, now: datetime, care: CareSummary | None,
                               console: Console) -> tuple[list[DemoLogin], FamiliarSummary | None]:
    """The pilots' staff and a month of their cases; then the history's neighbors linked, reviewed and flagged."""
    from sqlalchemy import select

    from heart.auth.models import User
    from heart.config import get_settings
    from heart.demo.familiar import link_and_review
    from heart.demo.pilots import build_pilot_cases, create_pilot_staff
    from heart.navigation.followups.rules import care_rules

    rules = care_rules(get_settings())
    logins, staff = create_pilot_staff(session=session, now=now)
    build_pilot_cases(session=session, staff=staff, now=now, rules=rules, seed=seed)
    if care is None or rules.familiar_neighbors is None:
        return logins, None
    reviewer = session.scalars(select(User).where(User.username == "supervisor")).one()
    with console.status("linking the history's neighbor records and reviewing them…"):
        return logins, link_and_review(session=session, people=care.people, now=now, rules=rules, reviewer=reviewer,
                                       seed=seed)


def _print_logins(logins: list[DemoLogin], console: Console) -> None:
    if not logins:
        console.print("(no demo logins recorded here; create one with `heart users create`)")
        return
    table = Table("username", "role", "password", "", title="Demo logins (development only)")
    for login in logins:
        table.add_row(login.username, login.role, login.password, login.note)
    console.print(table)
