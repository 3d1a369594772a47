"""`heart neighbors`: link neighbor records, recount familiar-neighbor flags, and the report.

    heart neighbors link                       # merge sure pairs, propose likely ones for review
    heart neighbors flags                      # expire, raise, re-level and end flags by the window's count
    heart neighbors report [--since 2025-01-01] [--until 2025-12-31] [--format json]
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from heart.console import OutputFormat, console
from heart.db import utcnow

app = typer.Typer(help="Familiar neighbors: link records, flags, and the report.", no_args_is_help=True)


@app.command("link")
def link() -> None:
    """Link every neighbor record (Splink): merge the pairs the city's configuration calls sure, propose the rest."""
    from heart.console import database, settings
    from heart.navigation.followups.rules import care_rules
    from heart.neighbors.familiar.linking import run_linkage

    with database() as session:
        done = run_linkage(session=session, at=utcnow(), by_id=None, rules=care_rules(settings()))
    console.print(f"linked {done.records:,} records ({done.pairs:,} pairs at or above the threshold): "
                  f"{done.merged:,} neighbors merged, {done.proposed:,} links waiting for review "
                  f"({done.seconds:.1f} s, model {done.model_version or '-'})")


@app.command("flags")
def recount() -> None:
    """Expire flags past their date; raise, re-level or end flags by each neighbor's responses in the window."""
    from heart.console import database, settings
    from heart.navigation.followups.rules import care_rules
    from heart.neighbors.familiar.flags import recount_flags

    with database() as session:
        done = recount_flags(session=session, now=utcnow(), rules=care_rules(settings()))
    console.print(f"flags: {done.raised} raised, {done.changed_level} changed level, {done.ended} ended, "
                  f"{done.expired} expired")


@app.command("report")
def report(
    since: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="first local date")] = None,
    until: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="last local date")] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format", help="table or json")] = OutputFormat.table,
) -> None:
    """What share of neighbors account for what share of responses; neighbors seen N+ times (counts only)."""
    from heart.console import database, settings
    from heart.navigation.followups.rules import care_rules
    from heart.neighbors.familiar.report import familiar_report

    rules = care_rules(settings())
    zone = ZoneInfo(settings().timezone)
    end = _midnight(until.date() + timedelta(days=1), zone) if until else utcnow()
    start = _midnight(since.date(), zone) if since else end - timedelta(days=rules.familiar.window_days)
    with database() as session:
        found = familiar_report(session=session, since=start, until=end, rules=rules)
    if output_format == OutputFormat.json:
        console.print_json(json.dumps(asdict(found), default=str))
        return
    console.print(f"{found.since:%Y-%m-%d} – {found.until:%Y-%m-%d}: {found.neighbors:,} neighbors, "
                  f"{found.responses:,} responses")
    published = found.compared_with or ""
    shares = Table("most-served", "neighbors", "responses", "share of responses", published)
    for row in found.shares:
        shares.add_row(f"{row.share_of_neighbors:.1%}", f"{row.neighbors:,}", f"{row.responses:,}",
                       f"{row.share_of_responses:.1%}", f"{row.published:.0%}" if row.published is not None else "")
    seen = Table("seen", "neighbors", "their responses", "share of responses", published)
    for seen_row in found.seen:
        seen.add_row(f"{seen_row.at_least}+", f"{seen_row.neighbors:,}", f"{seen_row.responses:,}",
                     f"{seen_row.share_of_responses:.1%}",
                     str(seen_row.published) if seen_row.published is not None else "")
    console.print(shares)
    console.print(seen)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone)
