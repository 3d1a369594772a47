"""`heart triage`: decide one call, list and check policies, replay a policy over imported CAD history.

    heart triage decide --policy durham --at 2025-06-03T14:00 --json '{"nature_code": "SUICIDE THREAT"}'
    heart triage decide --json @call.json
    heart triage policies
    heart triage check cities/durham/policies/durham.yaml
    heart triage replay --policy durham --batch alexandria --agency POLICE --assume-screened
    heart triage replay --batch alexandria --compare durham-expanded --format json
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime, time
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from pydantic import ValidationError
from rich.table import Table
from sqlalchemy.exc import OperationalError, ProgrammingError

from heart.config import InsecureSettings
from heart.console import OutputFormat, console, fail, migrated_database_url
from heart.errors import InvalidInput
from heart.triage.engine import CallFacts, decide
from heart.triage.policy import (
    Policy,
    PolicyError,
    available_policies,
    default_policy_name,
    load_policy,
    load_policy_by_name,
    policies_dir,
)
from heart.triage.replay import ReplayError, ReplayReport, replay_batch, scenarios_for

app = typer.Typer(help="Triage policies: decide one call, list and check policies, replay a policy over history.",
                  no_args_is_help=True)




PolicyOption = Annotated[str | None, typer.Option(
    "--policy", help="policy name, NAME@VERSION, or a .yaml file [the city's policy]")]
FormatOption = Annotated[OutputFormat, typer.Option("--format", help="table or json")]


def policy_from_spec(spec: str | None) -> Policy:
    """'durham' (the current version), 'durham@1' (a kept older version) or a draft's file (ending in .yaml).

    A name is chosen from the policies directory, never read as a path: '../x' is an unknown name.
    """
    if spec is None:
        return load_policy_by_name(default_policy_name())
    if spec.endswith((".yaml", ".yml")):
        return load_policy(Path(spec))
    name, _, version = spec.partition("@")
    if version and not version.isdigit():
        raise PolicyError(Path(spec), None, f"{version!r} is not a version number (write NAME@2)")
    return load_policy_by_name(name, version=int(version) if version else None)


def local_time(text: str | None, zone: ZoneInfo) -> datetime:
    """``--at``: an ISO date-time (local to the policy's city unless it has an offset), a clock time today, or now."""
    if text is None:
        return datetime.now(zone)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            clock = time.fromisoformat(text)
        except ValueError:
            raise InvalidInput(f"--at {text!r} is not a time like 2025-06-03T14:00 or 14:00", field="at") from None
        return datetime.combine(datetime.now(zone).date(), clock, tzinfo=zone)
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def read_doc(text: str) -> dict[str, Any]:
    """The call document: a JSON object given inline or as @FILE."""
    source = "--json"
    if text.startswith("@"):
        path = Path(text[1:])
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise InvalidInput(f"{path} cannot be read ({error.strerror})", field="json") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"{source} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}",
                           field="json") from None
    if not isinstance(doc, dict):
        raise InvalidInput(f"{source} must be a JSON object like {{\"nature_code\": \"SUICIDE THREAT\"}}",
                           field="json")
    return doc


@app.command("decide")
def decide_command(
    doc: Annotated[str, typer.Option("--json", help="the call as JSON (nature_code or incident_type, priority, "
                                                    "screening), or @FILE")],
    policy: PolicyOption = None,
    at: Annotated[str | None, typer.Option(help="when, local time of the policy's city (ISO; HH:MM = today) "
                                                "[now]")] = None,
) -> None:
    """Decide one call and print the decision as JSON: pathway, policy, version, reasons, unanswered."""
    try:
        loaded = policy_from_spec(policy)
        facts = CallFacts.from_doc(read_doc(doc))
        decision = decide(facts, loaded, local_time(at, loaded.timezone))
    except (PolicyError, InvalidInput) as error:
        raise fail(str(error)) from None
    typer.echo(json.dumps(decision.to_json(), indent=2, ensure_ascii=False))


@app.command("policies")
def policies_command(output_format: FormatOption = OutputFormat.table) -> None:
    """List the policies, their current version and the older versions kept beside them."""
    folder = policies_dir()
    rows: list[dict[str, Any]] = []
    for name in available_policies():
        older = sorted(int(m.group(1)) for path in folder.glob(f"{name}.v*.yaml")
                       if (m := re.fullmatch(rf"{re.escape(name)}\.v(\d+)\.yaml", path.name)))
        try:
            loaded = load_policy_by_name(name)
        except PolicyError as error:
            rows.append({"name": name, "version": None, "older_versions": older, "title": f"unusable: {error}",
                         "timezone": None})
            continue
        rows.append({"name": name, "version": loaded.version, "older_versions": older, "title": loaded.name,
                     "timezone": loaded.timezone.key})
    if output_format is OutputFormat.json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("policy", "version", "older versions", "time zone", "name", title=f"triage policies in {folder}")
    for row in rows:
        table.add_row(row["name"], str(row["version"] or "—"), ", ".join(map(str, row["older_versions"])) or "—",
                      row["timezone"] or "—", row["title"])
    console.print(table)


@app.command("check")
def check_command(file: Annotated[Path, typer.Argument(help="a policy file (YAML)")]) -> None:
    """Check a policy file; a problem is printed as 'file, line N: reason' and exits 1."""
    try:
        loaded = load_policy(file)
    except PolicyError as error:
        raise fail(str(error)) from None
    console.print(f"{file}: policy {loaded.id} version {loaded.version} is valid ({len(loaded.programs)} programs, "
                  f"{len(loaded.questions)} questions, {len(loaded.rules)} rules)", highlight=False, soft_wrap=True)


@app.command("replay")
def replay_command(
    batch: Annotated[str, typer.Option(help="label of an import batch (`heart cad import --batch`)")],
    policy: PolicyOption = None,
    compare: Annotated[str | None, typer.Option(help="a second policy: what changes between the two")] = None,
    agency: Annotated[str | None, typer.Option(help="only this agency's calls, e.g. POLICE")] = None,
    assume_screened: Annotated[bool, typer.Option(
        "--assume-screened", help="also report with exclusion questions answered no (unless the type implies yes)")
    ] = False,
    assume_phone_ok: Annotated[bool, typer.Option(
        "--assume-phone-ok", help="also report screened calls whose caller agrees to talk by phone (CCD)")] = False,
    priority_p: Annotated[list[str] | None, typer.Option(
        "--priority-p", help="a CAD priority that means Priority P (immediate threat to life); repeatable")] = None,
    timezone: Annotated[str | None, typer.Option(help="local time zone of the calls [the CAD profile's]")] = None,
    top: Annotated[int, typer.Option(help="incident types shown in the table")] = 25,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Replay a policy over a batch of imported calls: calls per pathway, by incident type and hour of day."""
    try:
        zone = ZoneInfo(timezone) if timezone else None
    except (ZoneInfoNotFoundError, ValueError):
        raise fail(f"unknown time zone {timezone!r} (a name like America/New_York)") from None
    try:
        loaded = policy_from_spec(policy)
        other = policy_from_spec(compare) if compare else None
        database_url = migrated_database_url()
    except PolicyError as error:
        raise fail(str(error)) from None
    except (InsecureSettings, ValidationError) as error:
        raise fail(str(error).splitlines()[-1]) from None
    from heart.db import make_engine

    engine = make_engine(database_url, read_only=True)
    try:
        report = replay_batch(engine=engine, batch=batch, policy=loaded, compare=other, agency=agency, zone=zone,
                              scenarios=scenarios_for(assume_screened=assume_screened, assume_phone_ok=assume_phone_ok),
                              priority_p=priority_p or ())
    except ReplayError as error:
        raise fail(str(error)) from None
    except (OperationalError, ProgrammingError) as error:
        reason = str(error.orig).splitlines()[0] if error.orig else type(error).__name__
        raise fail(f"cannot read the imported calls ({reason}); did you run `heart db upgrade`?") from None
    finally:
        engine.dispose()
    if output_format is OutputFormat.json:
        typer.echo(json.dumps(report.to_json(), indent=2))
        return
    print_report(report, top=top)


# --- the replay as tables ----------------------------------------------------------------------------------

def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "—"


def print_report(report: ReplayReport, *, top: int = 25) -> None:
    """The replay as Rich tables: pathways per scenario, hours, incident types, hours of day, transitions."""
    who = f" ({report.agency} only)" if report.agency else ""
    console.print(f"Replay of batch [bold]{report.batch}[/]{who}: {report.calls:,} calls, policy "
                  f"{report.policy.id} v{report.policy.version}, local time {report.zone.key}", highlight=False,
                  soft_wrap=True)
    if report.without_time:
        console.print(f"{report.without_time:,} calls have no time of day: they count as outside every "
                      "program's hours.", highlight=False)
    if not report.results:
        return
    policies = [report.policy, *([report.compare] if report.compare else [])]
    table = Table("pathway", title="Calls per pathway")
    for policy in policies:
        for result in report.results:
            table.add_column(f"{policy.id} v{policy.version} · {result.scenario.label}", justify="right")
    for pathway in dict.fromkeys(code for policy in policies for code in policy.codes()):
        cells = [f"{n:,} ({_share(n, report.calls)})" for column in ("pathway", "other_pathway")[:len(policies)]
                 for n in (result.pathways(column)[pathway] for result in report.results)]
        table.add_row(pathway, *cells)
    console.print(table)
    _print_hours(report)
    last = report.results[-1]
    codes = report.policy.codes()
    heart = report.policy.codes("phone", "field")
    _print_breakdown(last.by("incident_type"), f"By incident type · {last.scenario.label} (HEART's first, top {top})",
                     "incident type", codes, heart, top=top)
    hours = last.by("local_hour")
    ordered = {("no time" if h is None else f"{h:02d}:00"): hours[h] for h in sorted(hours, key=lambda h: (h is None,
                                                                                                       h or 0))}
    _print_breakdown(ordered, f"By hour of day · {last.scenario.label}", "hour", codes, heart, sort=False)
    if report.compare is not None:
        for result in report.results:
            _print_transitions(report, result.transitions() or {}, result.scenario.label)


def _print_hours(report: ReplayReport) -> None:
    table = Table("program", "calls of its types", "of them outside its hours",
                  *(f"passed over as closed · {r.scenario.label}" for r in report.results),
                  title="Outside program hours")
    for reach in report.reach:
        program = report.policy.programs[reach.program]
        closed = [f"{r.closed().get(reach.program, 0):,}" for r in report.results]
        table.add_row(f"{reach.program} ({program.hours_text})", f"{reach.calls:,}",
                      f"{reach.outside_hours:,} ({_share(reach.outside_hours, reach.calls)})", *closed)
    console.print(table)


def _print_breakdown(rows: dict[Any, dict[str, int]], title: str, key: str, codes: Sequence[str],
                     heart: Sequence[str], *, top: int | None = None, sort: bool = True) -> None:
    items = list(rows.items())
    if sort:  # the types HEART's teams (the policy's phone and field programs) would take first, then by volume
        items.sort(key=lambda item: (-sum(item[1].get(p, 0) for p in heart), -sum(item[1].values())))
    table = Table(key, "calls", *codes, title=title)
    for name, counts in items[:top]:
        cells = (f"{counts[p]:,}" if counts.get(p) else "·" for p in codes)
        table.add_row(str(name), f"{sum(counts.values()):,}", *cells)
    console.print(table)


def _print_transitions(report: ReplayReport, matrix: dict[str, dict[str, int]], label: str) -> None:
    assert report.compare is not None
    first, second = report.policy, report.compare
    changed = sum(n for before, row in matrix.items() for after, n in row.items() if before != after)
    codes = list(dict.fromkeys((*first.codes(), *second.codes())))
    table = Table(f"{first.id} v{first.version} ↓ / {second.id} v{second.version} →", *codes,
                  title=f"What changes · {label}: {changed:,} calls ({_share(changed, report.calls)}) change pathway")
    for before in codes:
        row = matrix.get(before, {})
        table.add_row(before, *(f"{row.get(after, 0):,}" for after in codes))
    console.print(table)
