"""CAD import benchmark: rows per second importing the Alexandria exports repeated to 1 M rows.

    .venv/bin/python benchmarks/cad_import.py [--rows 1000000] [--database-url URL] [--again] [--json]

The seven Alexandria weekly files (9,651 rows) are repeated, each copy with its own incident numbers, into
one CSV of ``--rows`` rows (week40's extra columns are dropped to the common header), then imported through
the ``alexandria-decc`` profile into a fresh SQLite file (or the database at ``--database-url``, which must
be empty and migrated). ``--again`` imports the same file a second time (every row already known).
Then: the time for the crosswalk suggester to suggest every row of the Vera call-type table (2,490 rows).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from heart.calls.cad.importer import import_files
from heart.calls.cad.profiles import load_profile_by_name
from heart.db import make_engine, utcnow
from heart.migrate import upgrade

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HEART_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
ALEXANDRIA = SHARED / "cfs" / "alexandria_va"
VERA = SHARED / "taxonomy" / "vera" / "call_types_charleston_dallas_seattle.csv"


def alexandria_rows() -> tuple[list[str], list[list[str]]]:
    """Every Alexandria row, in the column order of week35.csv."""
    header: list[str] = []
    rows: list[list[str]] = []
    for number in range(35, 42):
        with (ALEXANDRIA / f"week{number}.csv").open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            names = next(reader)
            header = header or names
            position = {name: names.index(name) for name in header}
            rows.extend([row[position[name]] for name in header] for row in reader)
    return header, rows


def write_repeated(path: Path, rows_wanted: int) -> int:
    """A CSV of ``rows_wanted`` rows: the Alexandria rows again and again, incident numbers made unique."""
    header, rows = alexandria_rows()
    number = header.index("Master_Incident_Number")
    written = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        copy = 0
        while written < rows_wanted:
            for row in rows[: rows_wanted - written]:
                row = list(row)
                row[number] = f"{row[number] or 'none'}-r{copy}-{written}"
                writer.writerow(row)
                written += 1
            copy += 1
    return written


def import_benchmark(rows_wanted: int, database_url: str | None, again: bool) -> dict[str, Any]:
    profile = load_profile_by_name("alexandria-decc")
    with tempfile.TemporaryDirectory(prefix="heart-bench-") as folder:
        source = Path(folder) / "alexandria_repeated.csv"
        started = time.perf_counter()
        rows = write_repeated(source, rows_wanted)
        written_seconds = time.perf_counter() - started
        url = database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        if database_url is None:
            upgrade(url)
        engine = make_engine(url)
        try:
            started = time.perf_counter()
            summary = import_files(engine=engine, profile=profile, paths=[source], batch_label="bench", now=utcnow())
            seconds = time.perf_counter() - started
            result: dict[str, Any] = {
                "backend": engine.dialect.name, "rows": rows, "file_mb": round(source.stat().st_size / 1e6, 1),
                "file_written_seconds": round(written_seconds, 1), "imported": summary.total("imported"),
                "rejected": summary.total("rejected"), "seconds": round(seconds, 2),
                "rows_per_second": round(rows / seconds),
            }  # fmt: skip
            if again:
                started = time.perf_counter()
                repeat = import_files(engine=engine, profile=profile, paths=[source], batch_label="bench", now=utcnow())
                seconds = time.perf_counter() - started
                result["again"] = {"imported": repeat.total("imported"), "skipped": repeat.total("skipped"),
                                   "seconds": round(seconds, 2), "rows_per_second": round(rows / seconds)}
        finally:
            engine.dispose()
    return result


def crosswalk_benchmark() -> dict[str, Any] | None:
    """Seconds to suggest a category and incident type for every row of the Vera table."""
    try:
        from heart.crosswalk.suggester import CrosswalkSuggester, read_examples
    except ImportError:
        return None
    if not VERA.is_file():
        return None
    with VERA.open(newline="", encoding="utf-8-sig") as handle:
        raw = [row["Field 1"].strip() for row in csv.DictReader(handle) if (row.get("Field 1") or "").strip()]
    started = time.perf_counter()
    suggester = CrosswalkSuggester(read_examples())
    trained = time.perf_counter() - started
    started = time.perf_counter()
    for call_type in raw:
        suggester.suggest(call_type)
    seconds = time.perf_counter() - started
    return {"call_types": len(raw), "distinct": len(set(raw)), "train_seconds": round(trained, 3),
            "suggest_seconds": round(seconds, 3), "ms_per_call_type": round(1000 * seconds / len(raw), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows to import [1,000,000]")
    parser.add_argument("--database-url", help="an empty, migrated database [a fresh SQLite file]")
    parser.add_argument("--again", action="store_true", help="import the same file twice (all rows known)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    figures = {"import": import_benchmark(args.rows, args.database_url, args.again),
               "crosswalk": crosswalk_benchmark()}
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    result = figures["import"]
    print(f"CAD import ({result['backend']}): {result['rows']:,} rows ({result['file_mb']} MB) in "
          f"{result['seconds']} s = {result['rows_per_second']:,} rows/s; imported {result['imported']:,}, "
          f"rejected {result['rejected']:,}")
    if "again" in result:
        again = result["again"]
        print(f"  the same file again: {again['skipped']:,} skipped in {again['seconds']} s "
              f"= {again['rows_per_second']:,} rows/s")
    crosswalk = figures["crosswalk"]
    if crosswalk:
        print(f"crosswalk: {crosswalk['call_types']:,} Vera call types ({crosswalk['distinct']:,} distinct) suggested "
              f"in {crosswalk['suggest_seconds']} s ({crosswalk['ms_per_call_type']} ms each; "
              f"training {crosswalk['train_seconds']} s)")
    else:
        print("crosswalk: suggester or Vera table unavailable")


if __name__ == "__main__":
    main()
