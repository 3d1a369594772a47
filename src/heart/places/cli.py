"""``heart addresses``: import the city's address points and look an address up as the call-taker's screen does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from heart.console import console, database, err, fail, settings

app = typer.Typer(help="The city's address points: import them, look an address up.", no_args_is_help=True)


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="a CSV (address, lat, lon, beat) or GeoJSON file of address points")],
) -> None:
    """Add or update address points; each bad row is reported (file, line, field, why) and the good ones kept."""
    from heart.db import utcnow
    from heart.places.importer import AddressFileError, import_addresses
    from heart.places.rules import place_rules
    from heart.places.shapes import MapFileError

    config = settings()
    try:
        rules = place_rules(config)
        with database() as session:
            summary = import_addresses(session=session, path=file, words=rules.geocoding.words,
                                       beats_file=config.map_beats_file, now=utcnow())
    except (AddressFileError, MapFileError) as error:
        raise fail(str(error)) from None
    for reject in summary.rejects:
        err.print(f"rejected: {reject}", highlight=False, soft_wrap=True)
    console.print(f"address points: {summary.added:,} added, {summary.updated:,} updated, "
                  f"{summary.unchanged:,} unchanged, {len(summary.rejects):,} rejected")


@app.command("lookup")
def lookup_command(
    text: Annotated[str, typer.Argument(help="an address as typed")],
    limit: Annotated[int, typer.Option(min=1, max=20, help="how many matches")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """The likeliest address points for a typed address, surest first, with their confidence and beat."""
    from heart.places.service import lookup

    with database() as session:
        matches = lookup(session=session, text=text, limit=limit, settings=settings())
    if as_json:
        console.print_json(json.dumps([{"address": m.address, "lat": m.lat, "lon": m.lon, "beat": m.beat,
                                        "confidence": m.confidence, "source": m.source} for m in matches]))
        return
    if not matches:
        raise fail("no address matches (are the address points imported? `heart addresses import FILE`)")
    table = Table("address", "lat", "lon", "beat", "confidence")
    for match in matches:
        table.add_row(match.address, f"{match.lat:.6f}", f"{match.lon:.6f}", match.beat or "",
                      f"{match.confidence:.2f}")
    console.print(table)
