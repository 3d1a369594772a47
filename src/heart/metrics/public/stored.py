"""The public cubes of each part of a history on disk, kept beside the part: the public figures without a scan.

A part of a history (``responses.parquet``, ``responses/part-*.parquet``) is never changed once written, so its
cubes (``cube.scan``: the counted responses and the exact sums behind every public figure by program, local month
cleared, call type and local hour of dispatch, and by program, local month and beat) can be computed once, when
it is written (``write``), and summed instead of scanning the rows again (``read``): every public response figure
is a sum of cube rows over a program-year, and a sum over the parts is the sum over the history (counts and sums
only; no median or other order statistic is published).

The cubes of ``DIR/part.parquet`` are ``DIR/_cubes/part.responses.parquet`` and ``DIR/_cubes/part.beats.parquet``
(readers of a history skip a folder whose name starts with ``_``). Each carries the key it was built for, and
``read`` uses the cubes only when every part has both and every key still holds; otherwise it returns None and the
figures scan the history, so a missing, stale or mismatched cube never gives a figure:

- the part: its file name, size and SHA-256 (the part is read in full to check it, which costs a fraction of a
  scan: about 0.7 CPU-second a gigabyte, parts in parallel);
- the definitions: a hash of the code the cubes come from (``definitions``, ``public.cube``, the DuckDB backend
  and this module), so a change of a definition makes every cube stale;
- local time: the time zones of the part's rows, its first and last instant, and a hash of the zones' UTC offsets
  and local month starts over that span as this machine's time zone database gives them (a tz database update
  that moves a transition makes the cube stale);
- the period: cubes hold every local month, and are summed only for whole calendar years (what ``groups.collect``
  asks), whose rows are exactly those of the months of those years.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from heart.metrics import definitions as d
from heart.metrics.backends import duckdb as duckdb_backend
from heart.metrics.public import cube

log = logging.getLogger(__name__)

FOLDER = "_cubes"
KINDS = ("responses", "beats")
KEY = b"heart.public_cube"
FORMAT = 1


def path_of(part: str | Path, kind: str) -> Path:
    """Where the ``kind`` cube of a part is kept."""
    where = Path(part)
    return where.parent / FOLDER / f"{where.stem}.{kind}.parquet"


@cache
def definitions_version() -> str:
    """A hash of the code that decides what a cube holds: any change to it makes every stored cube stale."""
    digest = hashlib.sha256()
    for module in (d, cube, duckdb_backend):
        digest.update(Path(module.__file__ or "").read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()


def clock_fingerprint(zones: Sequence[str], first_us: int | None, last_us: int | None) -> str:
    """A hash of the local time the cube's months and hours come from: each zone's UTC offsets and month starts
    over [first, last], as this machine's time zone database gives them."""
    if first_us is None or last_us is None:
        return hashlib.sha256(b"no instants").hexdigest()
    clock = d.LocalClock(zones, first_us, last_us)
    found = {zone: [clock.offsets[zone], clock.month_starts[zone]] for zone in clock.zones}
    return hashlib.sha256(json.dumps(found, sort_keys=True).encode()).hexdigest()


def content_hash(path: str | Path) -> str:
    """The SHA-256 of a file's bytes."""
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def write(part: str | Path, threads: int | None = None) -> dict[str, Any]:
    """Compute the cubes of one part of a history (a Parquet file of responses) and keep them beside it; returns
    the key they were built for. Call it once the part is written: the cubes hold for these bytes only."""
    part = Path(part)
    key: dict[str, Any] = {"format": FORMAT, "part": part.name, "size": part.stat().st_size,
                           "sha256": content_hash(part), "definitions": definitions_version()}
    with duckdb_backend.open_duckdb_parquet(part, threads=threads) as source:
        found = cube.scan(source, d.Period(), beats=True)
    clock = found.clock
    zones, first_us, last_us = (clock.zones, clock.first_us, clock.last_us) if clock else ([], None, None)
    key.update(zones=zones, first_us=first_us, last_us=last_us, clock=clock_fingerprint(zones, first_us, last_us))
    (part.parent / FOLDER).mkdir(exist_ok=True)
    for kind, table in (("responses", found.responses), ("beats", found.beats)):
        assert table is not None
        target = path_of(part, kind)
        scratch = target.with_name(f".{target.name}.writing")
        metadata = {**(table.schema.metadata or {}), KEY: json.dumps({**key, "kind": kind}).encode()}
        pq.write_table(table.replace_schema_metadata(metadata), scratch, compression="zstd")
        os.replace(scratch, target)  # a cube is there whole or not at all
    return key


def read(parts: Sequence[str | Path], period: d.Period, beats: bool, threads: int | None = None
         ) -> cube.Cubes | None:
    """The cubes of the history made of ``parts`` for the period, summed from the cubes kept beside each part;
    None unless the period is whole calendar years and every part has cubes whose key still holds."""
    if not parts or not is_year_period(period):
        return None
    kinds = KINDS if beats else KINDS[:1]
    tables: dict[str, list[pa.Table]] = {kind: [] for kind in kinds}
    recorded: dict[Path, dict[str, Any]] = {}
    for part in map(Path, parts):
        for kind in kinds:
            found = _load(part, kind, kind == kinds[0])
            if found is None or recorded.setdefault(part, found[1]) != found[1]:  # both built together
                return None
            tables[kind].append(found[0])
    if not _same_bytes({part: str(key.get("sha256")) for part, key in recorded.items()}, threads):
        return None
    assert period.since is not None and period.until is not None
    first, last = period.since.year * 100 + 1, period.until.year * 100 + 12
    summed = {kind: _sum(pa.concat_tables(found), first, last) for kind, found in tables.items()}
    return cube.Cubes(summed["responses"], summed.get("beats"))


def refresh(parts: Sequence[str | Path], threads: int | None = None) -> dict[str, int]:
    """Build the cubes of every part that has none still holding (a history exported before cubes existed, or
    whose cubes a new version of these definitions or of the time zone database made stale); parts whose cubes
    hold are left as they are. How many parts were built and kept."""
    counts = {"built": 0, "kept": 0}
    for part in map(Path, parts):
        found = [_load(part, kind, kind == KINDS[0]) for kind in KINDS]
        holds = (all(item is not None for item in found) and found[0][1] == found[1][1]  # type: ignore[index]
                 and found[0][1].get("sha256") == content_hash(part))  # type: ignore[index]
        if holds:
            counts["kept"] += 1
        else:
            write(part, threads=threads)
            counts["built"] += 1
    return counts


def is_year_period(period: d.Period) -> bool:
    """A period of whole calendar years (the months of those years are exactly its local days)."""
    return (period.since is not None and period.until is not None and period.since == date(period.since.year, 1, 1)
            and period.until == date(period.until.year, 12, 31))


def _load(part: Path, kind: str, check_clock: bool) -> tuple[pa.Table, dict[str, Any]] | None:
    """A part's cube and the key it was built for (but its kind), when the key fits the part's name and size,
    this code and (``check_clock``: once per part, its cubes sharing one key) this local time; the bytes are
    checked apart, all parts at once."""
    where = path_of(part, kind)
    try:
        table = pq.read_table(where)
        key = json.loads((table.schema.metadata or {})[KEY])
        size = part.stat().st_size
    except (OSError, KeyError, ValueError, pa.ArrowException) as error:
        log.info("public cube %s of %s not usable (%s): scanning the history", kind, part.name,
                 type(error).__name__)
        return None
    expected = cube.RESPONSES if kind == "responses" else cube.BEATS
    problem = next((what for what, wrong in (
        ("format", key.get("format") != FORMAT or key.get("kind") != kind),
        ("part", key.get("part") != part.name or key.get("size") != size),
        ("definitions", key.get("definitions") != definitions_version()),
        ("columns", not table.schema.remove_metadata().equals(expected)),
        ("local time", check_clock and not _same_clock(key)),
    ) if wrong), None)
    if problem:
        log.info("public cube %s of %s is stale (%s): scanning the history", kind, part.name, problem)
        return None
    return table.replace_schema_metadata(None), {name: value for name, value in key.items() if name != "kind"}


def _same_clock(key: dict[str, Any]) -> bool:
    """The zones' rules over the part's span are, on this machine, those the cube was built with."""
    try:
        return bool(key.get("clock") == clock_fingerprint(key.get("zones") or [], key.get("first_us"),
                                                          key.get("last_us")))
    except (KeyError, TypeError, ValueError, OverflowError):  # a zone this tz database no longer knows, …
        return False


def _same_bytes(recorded: dict[Path, str], threads: int | None) -> bool:
    """Every part still holds the bytes its cubes were built from (parts hashed in parallel: hashing frees the
    GIL)."""
    workers = max(1, min(len(recorded), threads or os.cpu_count() or 1))
    with ThreadPoolExecutor(workers) as pool:
        found = list(pool.map(content_hash, recorded))
    for (part, expected), digest in zip(recorded.items(), found, strict=True):
        if digest != expected:
            log.info("public cube of %s is stale (the part changed): scanning the history", part.name)
            return False
    return True


def _sum(table: pa.Table, first: int, last: int) -> pa.Table:
    """The rows of the months from ``first`` to ``last`` (yyyymm), summed over the parts."""
    within = table.filter(pc.and_(pc.greater_equal(table["month"], first), pc.less_equal(table["month"], last)))
    keys = [name for name in table.schema.names if name in ("program", "month", "incident_type", "hour", "beat")]
    measures = [name for name in table.schema.names if name not in keys]
    summed = within.group_by(keys, use_threads=False).aggregate([(name, "sum") for name in measures])
    return summed.select([*keys, *(f"{name}_sum" for name in measures)]).rename_columns([*keys, *measures])
