"""`heart crosswalk`: suggest a crosswalk for a CAD's call types, review it, build the Vera cities' crosswalks.

The reviewed files it writes go under ``cad/crosswalks/``, where THE mapper (``heart.crosswalk.mapper``) reads
them for a CAD whose import profile names one.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.panel import Panel
from rich.prompt import Confirm, Prompt

from heart.console import console, err, fail
from heart.crosswalk.guard import unarmed_team_types
from heart.crosswalk.suggester import (
    CATEGORIES,
    POLICE_CATEGORIES,
    REVIEWED_STATUSES,
    CrosswalkEntry,
    CrosswalkError,
    CrosswalkSuggester,
    Suggestion,
    assign_incident_type,
    crosswalks_from_vera,
    danger_words,
    normalise_category,
    read_call_types,
    read_examples,
    read_review_input,
    write_crosswalk,
    write_suggestions,
)
from heart.crosswalk.taxonomy import INCIDENT_TYPES

app = typer.Typer(
    help="Map a CAD's call types to HEART's taxonomy: suggest, review, and build the Vera cities' crosswalks.",
    no_args_is_help=True,
)


class OutputFormat(StrEnum):
    csv = "csv"
    json = "json"



@app.command()
def suggest(
    input_path: Annotated[Path, typer.Option("--input", exists=True, dir_okay=False, help="CSV of call types")],
    type_column: Annotated[str, typer.Option(help="the column holding the raw call type")],
    count_column: Annotated[str | None, typer.Option(help="a column with call counts, if any")] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format", help="csv or json")] = OutputFormat.csv,
    output: Annotated[Path | None, typer.Option(help="write here instead of standard output")] = None,
    examples: Annotated[
        Path | None, typer.Option(help="reviewed crosswalk file or folder to learn from [cad/crosswalks]")
    ] = None,
) -> None:
    """Suggest a category, incident type, confidence and evidence for every distinct call type."""
    try:
        call_types = read_call_types(input_path, type_column=type_column, count_column=count_column)
        labelled = read_examples(examples)
    except CrosswalkError as error:
        raise fail(str(error)) from None
    if not labelled:
        err.print("warning: no reviewed crosswalks to learn from; suggesting from the rules alone")
    suggestions = CrosswalkSuggester(labelled).suggest_all(call_types)
    if output is None:
        write_suggestions(sys.stdout, suggestions, fmt=output_format.value)
        return
    with output.open("w", newline="", encoding="utf-8") as handle:
        write_suggestions(handle, suggestions, fmt=output_format.value)
    confident = sum(1 for s in suggestions if s.confidence >= 0.9)
    err.print(f"{len(suggestions)} call types suggested ({confident} with confidence >= 0.9) -> {output}")


@app.command()
def review(
    input_path: Annotated[Path, typer.Option("--input", exists=True, dir_okay=False, help="suggestions CSV")],
    output: Annotated[Path, typer.Option(help="the reviewed crosswalk to write")],
    accept_above: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="accept suggestions this confident without asking")
    ] = None,
) -> None:
    """Accept (Enter) or correct each suggestion; save a reviewed crosswalk.

    At a prompt: Enter keeps the suggestion, a name (or its first letters) corrects it, '?' lists the
    choices, 'skip' leaves the row as suggested, 'quit' saves what is done. Rows of an already reviewed
    crosswalk keep their decision, so a review can be resumed from its own output.
    """
    try:
        items = read_review_input(input_path)
    except CrosswalkError as error:
        raise fail(str(error)) from None
    entries: list[CrosswalkEntry] = []
    stopped = False
    for position, (suggestion, status) in enumerate(items, start=1):
        if status in REVIEWED_STATUSES:
            entries.append(_entry(suggestion, suggestion.category, suggestion.incident_type, status or ""))
        elif accept_above is not None and suggestion.confidence >= accept_above:
            entries.append(_entry(suggestion, suggestion.category, suggestion.incident_type, "auto-accepted"))
        elif stopped:
            entries.append(_entry(suggestion, suggestion.category, suggestion.incident_type, "suggested"))
        else:
            decided = _review_one(suggestion, position, len(items))
            stopped = decided is None
            entries.append(decided or _entry(suggestion, suggestion.category, suggestion.incident_type, "suggested"))
    write_crosswalk(output, entries)
    counts = {name: sum(1 for e in entries if e.status == name) for name in ("accepted", "corrected", "auto-accepted")}
    left = sum(1 for e in entries if e.status not in REVIEWED_STATUSES)
    console.print(
        f"{counts['accepted']} accepted, {counts['corrected']} corrected, {counts['auto-accepted']} accepted "
        f"above {accept_above}, {left} left to review -> {output}",
        highlight=False,
        soft_wrap=True,
    )


@app.command("from-vera")
def from_vera(
    input_path: Annotated[Path, typer.Option("--input", exists=True, dir_okay=False, help="Vera call-type CSV")],
    output_dir: Annotated[Path, typer.Option(help="folder for <city>.csv crosswalks")] = Path("cad/crosswalks"),
) -> None:
    """Write one crosswalk per city of the Vera five-city call-type table (coders' categories kept)."""
    try:
        crosswalks = crosswalks_from_vera(input_path)
    except CrosswalkError as error:
        raise fail(str(error)) from None
    for city, entries in sorted(crosswalks.items()):
        path = output_dir / f"{city.lower().replace(' ', '_')}.csv"
        write_crosswalk(path, entries)
        console.print(f"{city}: {len(entries)} call types -> {path}", highlight=False)


def _entry(suggestion: Suggestion, category: str, incident_type: str, status: str) -> CrosswalkEntry:
    return CrosswalkEntry(suggestion.raw, category or None, incident_type, suggestion.count, status)


def _review_one(suggestion: Suggestion, position: int, total: int) -> CrosswalkEntry | None:
    """Ask about one suggestion; None when the person quits (or the input ends)."""
    incident = INCIDENT_TYPES.get(suggestion.incident_type)
    lines = [
        f"category:      [bold]{suggestion.category or '(none)'}[/]",
        f"incident type: [bold]{suggestion.incident_type}[/] ({incident.label if incident else '?'})",
        f"confidence:    {suggestion.confidence:.2f}" + (f"   calls: {suggestion.count}" if suggestion.count else ""),
        *(f"[dim]{line}[/]" for line in suggestion.evidence),
    ]
    console.print(Panel("\n".join(lines), title=f"[{position}/{total}] {suggestion.raw}", title_align="left"))
    try:
        category = _ask("Category", suggestion.category, CATEGORIES)
        if category is None:
            return None
        if category == "skip":
            return _entry(suggestion, suggestion.category, suggestion.incident_type, "suggested")
        default_type = suggestion.incident_type
        if category != suggestion.category:
            default_type, _ = assign_incident_type(suggestion.raw, category)
        while True:
            incident_type = _ask("Incident type", default_type, tuple(INCIDENT_TYPES))
            if incident_type is None:
                return None
            if incident_type == "skip":
                return _entry(suggestion, suggestion.category, suggestion.incident_type, "suggested")
            if _unsafe_choice_confirmed(suggestion.raw, category, incident_type):
                break
    except EOFError:
        return None
    unchanged = (category, incident_type) == (suggestion.category, suggestion.incident_type)
    return _entry(suggestion, category, incident_type, "accepted" if unchanged else "corrected")


def _ask(label: str, default: str, choices: tuple[str, ...]) -> str | None:
    """A choice by name, alias or first letters; 'skip' and 'quit' pass through (quit as None)."""
    while True:
        answer = Prompt.ask(label, default=default or None, console=console) or ""
        answer = answer.strip()
        if answer.lower() in {"quit", "q"}:
            return None
        if answer.lower() == "skip":
            return "skip"
        if answer == "?":
            console.print(", ".join(choices), highlight=False)
            continue
        found = _resolve(answer, choices)
        if found:
            return found
        console.print(f"[red]not one of the choices: {answer!r}[/] (type ? to list them)", highlight=False)


def _resolve(answer: str, choices: tuple[str, ...]) -> str | None:
    try:
        category = normalise_category(answer)
    except ValueError:
        category = None
    if category in choices:
        return category
    lowered = answer.lower()
    exact = [choice for choice in choices if choice.lower() == lowered]
    starting = [choice for choice in choices if choice.lower().startswith(lowered)] if lowered else []
    matches = exact or starting
    return matches[0] if len(matches) == 1 else None


def _unsafe_choice_confirmed(raw: str, category: str, incident_type: str) -> bool:
    """A person may send a dangerous-sounding call type to an unarmed team, but only when they say so."""
    danger = danger_words(raw)
    if incident_type not in unarmed_team_types() or not (danger or category in POLICE_CATEGORIES):
        return True
    reason = f"the call type says {', '.join(dict.fromkeys(danger))}" if danger else f"its category is {category}"
    console.print(f"[bold yellow]warning:[/] {incident_type} can send an unarmed team, but {reason}.")
    return Confirm.ask("Map it to an unarmed-team type anyway?", default=False, console=console)
