"""The `heart` command: serve the app, migrate, manage accounts and configuration.

Every command reads its settings from the environment (HEART_DATABASE_URL and friends). A failure prints
one line saying what is wrong and exits non-zero; no tracebacks for mistakes a person can fix.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.exc import OperationalError, ProgrammingError

from heart import console as console_options
from heart.auth.models import Role
from heart.config import get_settings
from heart.console import UPGRADE_HINT, console, database, fail, migrated_database_url, settings
from heart.db import utcnow
from heart.yamlfile import YamlFileError

app = typer.Typer(help="HEART: run an alternative crisis-response program end to end.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
users_app = typer.Typer(help="Accounts and roles.", no_args_is_help=True)
config_app = typer.Typer(help="Programs, hours and units from a YAML file.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(config_app, name="config")
WORKER_HEALTHCHECK_SECONDS = 30


@app.callback()
def options(migrate: Annotated[bool, typer.Option(
        "--migrate", help="bring a database that was never migrated (or is behind) up to date first")] = False,
            ) -> None:
    """HEART: run an alternative crisis-response program end to end."""
    console_options.MIGRATE_WHEN_NEEDED["on"] = migrate


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(help="server processes")] = 1,
    reload: Annotated[bool, typer.Option(help="restart on code changes (development)")] = False,
) -> None:
    """Serve the web app and the JSON API."""
    import uvicorn

    migrated_database_url()  # refuse insecure settings and an unmigrated database before starting workers
    # Live boards hold their event streams open; give them a few seconds to go, then close them on shutdown.
    # A new worker imports the whole app before it can answer the supervisor's health check; on a busy
    # 2-core machine that takes longer than uvicorn's default 5 s, and the supervisor would kill and respawn
    # its workers in a loop (each answer lost with them), so it waits longer.
    uvicorn.run("heart.main:create_app", factory=True, host=host, port=port, workers=workers, reload=reload,
                log_level=get_settings().log_level.lower(), access_log=False, timeout_graceful_shutdown=3,
                timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Apply migrations (to the newest by default)."""
    from heart.migrate import upgrade

    upgrade(settings().database_url, revision)
    console.print(f"database at revision {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="target revision, e.g. -1 or base")] = "-1") -> None:
    """Revert migrations (one step by default)."""
    from heart.migrate import downgrade

    downgrade(settings().database_url, revision)
    console.print(f"database downgraded to {revision}")


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option(help="login name")],
    role: Annotated[Role, typer.Option(help="what the person does", case_sensitive=False)],
    display_name: Annotated[str, typer.Option(help="name shown on screens")] = "",
    unit: Annotated[str | None, typer.Option(help="call sign of a responder's unit")] = None,
    staff: Annotated[str | None, typer.Option(help="the staff member (name) this account belongs to: a responder "
                                              "reads the calls of the shifts that name them")] = None,
) -> None:
    """Add an account. The password is asked for, or read from standard input when piped."""
    from sqlalchemy import select

    from heart.auth.service import create_user
    from heart.programs.models import Staff, Unit

    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    with database() as session:
        unit_id = None
        if unit:
            unit_id = session.scalar(select(Unit.id).where(Unit.call_sign == unit))
            if unit_id is None:
                raise fail(f"no unit with call sign {unit}")
        staff_id = None
        if staff:
            staff_ids = list(session.scalars(select(Staff.id).where(Staff.name == staff)))
            if len(staff_ids) != 1:
                raise fail(f"{'no' if not staff_ids else 'more than one'} staff member named {staff}")
            staff_id = staff_ids[0]
        user = create_user(session=session, username=username, password=password, role=role, now=utcnow(),
                           display_name=display_name, unit_id=unit_id, staff_id=staff_id)
        console.print(f"created {user.username} ({user.role.value})")


@users_app.command("unlock")
def users_unlock(username: Annotated[str, typer.Argument(help="login name")]) -> None:
    """Lift an account's sign-in lock after too many wrong passwords (once the person is known to be them)."""
    from heart.auth.throttle import unlock

    with database() as session:
        lifted = unlock(session=session, username=username, secret=settings().secret_key, now=utcnow(),
                        actor_id=None)
    console.print(f"{username}: {'sign-in lock lifted' if lifted else 'no wrong passwords on record'}")


@users_app.command("list")
def users_list() -> None:
    """Show every account and its role."""
    from sqlalchemy import select

    from heart.auth.models import User

    table = Table("username", "role", "unit", "active")
    with database() as session:
        for user in session.scalars(select(User).order_by(User.username)):
            table.add_row(user.username, user.role.value, str(user.unit_id or ""), "yes" if user.active else "no")
    console.print(table)


@config_app.command("load")
def config_load(file: Annotated[Path | None, typer.Argument(
        help="a programs.yaml with programs, units and staff [the city's: cities/<HEART_CITY>/programs.yaml]")] = None,
) -> None:
    """Create or update programs, their hours, and units from a city's programs file."""
    from heart.city.folder import city_part
    from heart.programs.service import load_programs, read_programs_file

    file = file or city_part("programs")
    try:
        parsed = read_programs_file(file)
    except YamlFileError as error:
        raise fail(str(error)) from None
    with database() as session:
        summary = load_programs(session=session, config=parsed, now=utcnow(), actor_id=None)
    console.print(f"{file}: programs {summary.programs_added} added, {summary.programs_updated} updated; "
                  f"units {summary.units_added} added, {summary.units_updated} updated; "
                  f"staff {summary.staff_added} added")


@app.command()
def backup(file: Annotated[Path, typer.Argument(help="the new backup file (never overwritten)")]) -> None:
    """Back up the database to FILE while the server keeps running (SQLite online backup, or pg_dump)."""
    from heart.backup import BackupError
    from heart.backup import backup as take_backup

    try:
        summary = take_backup(database_url=settings().database_url, target=file)
    except BackupError as error:
        raise fail(str(error)) from None
    console.print(f"backed up the {summary.backend} database to {file}: {summary.tables} tables at revision "
                  f"{summary.revision or 'none'}, {summary.size_bytes / 1e6:.1f} MB in {summary.seconds:.1f} s",
                  soft_wrap=True)


@app.command()
def restore(file: Annotated[Path, typer.Argument(help="a file made by `heart backup`")]) -> None:
    """Restore FILE into the configured database, which must be a new file or an empty database."""
    from heart.backup import BackupError
    from heart.backup import restore as restore_backup
    from heart.migrate import current_head

    try:
        summary = restore_backup(database_url=settings().database_url, source=file)
    except BackupError as error:
        raise fail(str(error)) from None
    head = current_head()
    console.print(f"restored {file} into the {summary.backend} database: {summary.tables} tables at revision "
                  f"{summary.revision or 'none'} in {summary.seconds:.1f} s", soft_wrap=True)
    if summary.revision != head:
        console.print(f"the code's schema is at revision {head}: run `heart db upgrade` before serving",
                      soft_wrap=True)


def _register_domain_commands() -> None:
    """Sub-commands that live with their domains (each imports only ``heart.console``, never this module)."""
    from heart.calls.cad.cli import app as cad_app
    from heart.crosswalk.cli import app as crosswalk_app
    from heart.demo.cli import demo
    from heart.metrics.cli import metrics
    from heart.metrics.public.cli import app as export_app
    from heart.navigation.fhir.cli import app as referrals_app
    from heart.navigation.resources.cli import app as resources_app
    from heart.neighbors.familiar.cli import app as neighbors_app
    from heart.places.cli import app as addresses_app
    from heart.programs.cli import app as programs_app
    from heart.public.cli import public_figures_command
    from heart.simulation.cli import app as simulate_app
    from heart.triage.cli import app as triage_app

    app.command("demo")(demo)
    app.command("metrics")(metrics)
    # The metrics' export commands, and the public figures with the groups other domains add (metrics may not
    # import them).
    export_app.command("public-figures")(public_figures_command)
    app.add_typer(export_app, name="export")
    app.add_typer(cad_app, name="cad")
    app.add_typer(resources_app, name="resources")
    app.add_typer(triage_app, name="triage")
    app.add_typer(simulate_app, name="simulate")
    app.add_typer(crosswalk_app, name="crosswalk")
    app.add_typer(referrals_app, name="referrals")
    app.add_typer(neighbors_app, name="neighbors")
    app.add_typer(programs_app, name="programs")
    app.add_typer(addresses_app, name="addresses")


_register_domain_commands()


def main() -> None:
    """Entry point of the console script; a command that reached a table the database lacks says so in one line."""
    try:
        app()
    except (OperationalError, ProgrammingError) as error:
        if not _missing_table(error):
            raise
        fail(f"the database lacks HEART's tables: {UPGRADE_HINT}")
        sys.exit(1)


def _missing_table(error: Exception) -> bool:
    words = str(getattr(error, "orig", error)).lower()
    return "no such table" in words or ("relation" in words and "does not exist" in words)
