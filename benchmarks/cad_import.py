"""CAD import benchmark: the product beside a bare bulk insert of the same rows, on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/cad_import.py [--rows 1000000] [--report [--short]] [--no-postgres] [--again]

The seven Alexandria weekly files (9,651 rows) are repeated, each copy with its own incident numbers, into one
CSV (week40's extra columns dropped to the common header). On that same file, one after the other, each in a
child process of its own (peak memory = that child's largest RSS):

- product: ``heart cad import``'s ``import_files`` through the ``alexandria-decc`` profile, into a freshly
  migrated SQLite file / a fresh PostgreSQL database (``CREATE DATABASE cadbench_<pid>``, migrated, dropped after);
- floor:   the bare bulk insert of the same rows into the same table — ``csv.reader`` and one ``executemany`` in
  one transaction on SQLite, ``csv.reader`` and one ``COPY`` (psycopg ``write_row``) on PostgreSQL — with the
  profile's columns as they are in the file (no time zone, no crosswalk, no checks);
- peer:    what one would otherwise write: pandas ``read_csv``, ``to_datetime`` + ``tz_localize`` of the times,
  ``to_sql`` of the same columns.

Answers compared: rows stored, and rows stored per agency, equal in product, floor and peer; the product
rejects nothing (the file has no bad row; the floor and peer would store a bad row as it is).
``--report`` prints the benchmark contract's JSON on the last line: full = 100,000 rows (scale 1) and 1,000,000
(scale 10; writing and loading 10 M rows — 4.4 GB — four times is too slow on a shared 2-core machine, so the
memory-flatness pair is 100 k / 1 M; the pandas peer runs at scale 1 only); ``--short`` = 20,000 rows.
``--again`` also imports the same file a second time (every row known).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HEART_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
ALEXANDRIA = SHARED / "cfs" / "alexandria_va"
POSTGRES = os.environ.get("HEART_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
PROFILE = "alexandria-decc"
# the profile's columns, in the order the floor and the peer store them (as text, the way the file has them)
FLOOR_COLUMNS = {
    "external_id": "Master_Incident_Number", "received_at": "Incident_Start_Time",
    "dispatched_at": "Incident_Dispatch_Time", "en_route_at": "Incident_Enroute_Time",
    "on_scene_at": "Incident_Arrival_Time", "cleared_at": "Incident_First_Close_Time", "agency": "Agency",
    "nature_code": "Problem", "priority": "Priority_Number", "call_source": "Call_Reception",
    "disposition": "Disposition",
}  # fmt: skip


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


# --- what is measured (each runs in a child process: `cad_import.py --child WHAT FILE URL`) -------------------
def product(source: Path, url: str, again: bool) -> dict[str, Any]:
    import heart.models  # noqa: F401  (every table, for the event the import writes)
    from heart.calls.cad.importer import import_files
    from heart.calls.cad.profiles import load_profile_by_name
    from heart.db import make_engine, utcnow

    engine = make_engine(url)
    try:
        started = time.perf_counter()
        summary = import_files(engine=engine, profile=load_profile_by_name(PROFILE), paths=[source],
                               batch_label=f"bench-{os.getpid()}", now=utcnow())
        result: dict[str, Any] = {"seconds": time.perf_counter() - started, "imported": summary.total("imported"),
                                  "rejected": summary.total("rejected"), "read": summary.total("read")}
        if again:
            started = time.perf_counter()
            repeat = import_files(engine=engine, profile=load_profile_by_name(PROFILE), paths=[source],
                                  batch_label=f"bench-{os.getpid()}", now=utcnow())
            result["again"] = {"seconds": time.perf_counter() - started, "imported": repeat.total("imported"),
                               "skipped": repeat.total("skipped")}
    finally:
        engine.dispose()
    return result


BATCH_SQL = ("INSERT INTO import_batches (id, label, profile, profile_version, created_at, summary) "
             f"VALUES (1, 'floor', '{PROFILE}', 1, '2025-12-01 00:00:00', '{{}}')")


def _floor_rows(source: Path) -> tuple[list[str], Any]:
    handle = source.open(newline="", encoding="utf-8")
    reader = csv.reader(handle)
    header = next(reader)
    at = [header.index(column) for column in FLOOR_COLUMNS.values()]
    key = header.index("Master_Incident_Number")
    names = ["batch_id", "profile", "source_file", "source_line", "row_key", *FLOOR_COLUMNS]
    name = source.name
    missing = {"", "NULL", "-9999"}  # the profile's "not recorded" (PostgreSQL takes no 'NULL' as a time)
    rows = ((1, PROFILE, name, line, row[key], *[None if row[i] in missing else row[i] for i in at])
            for line, row in enumerate(reader, start=2))
    return names, rows


def floor_sqlite(source: Path, url: str) -> dict[str, Any]:
    import sqlite3

    started = time.perf_counter()
    names, rows = _floor_rows(source)
    connection = sqlite3.connect(url.removeprefix("sqlite:///"))
    connection.execute("PRAGMA foreign_keys=ON")
    with connection:
        connection.execute(BATCH_SQL)
        cursor = connection.executemany(
            f"INSERT INTO cad_records ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", rows)
    connection.close()
    return {"seconds": time.perf_counter() - started, "imported": cursor.rowcount, "rejected": 0}


def floor_postgres(source: Path, url: str) -> dict[str, Any]:
    import psycopg

    started = time.perf_counter()
    names, rows = _floor_rows(source)
    count = 0
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(BATCH_SQL)
        with cursor.copy(f"COPY cad_records ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    return {"seconds": time.perf_counter() - started, "imported": count, "rejected": 0}


def peer(source: Path, url: str) -> dict[str, Any]:
    import pandas as pd
    from sqlalchemy import create_engine

    started = time.perf_counter()
    frame = pd.read_csv(source, usecols=list(FLOOR_COLUMNS.values()), dtype=str, keep_default_na=False,
                        na_values=["", "NULL", "-9999"])
    frame = frame.rename(columns={column: name for name, column in FLOOR_COLUMNS.items()})
    for name in ("received_at", "dispatched_at", "en_route_at", "on_scene_at", "cleared_at"):
        local = pd.to_datetime(frame[name], format="ISO8601")
        frame[name] = local.dt.tz_localize("America/New_York", ambiguous="NaT",
                                           nonexistent="NaT").dt.tz_convert("UTC")
    frame.insert(0, "row_key", frame["external_id"])
    frame.insert(0, "source_line", range(2, len(frame) + 2))
    frame.insert(0, "source_file", source.name)
    frame.insert(0, "profile", PROFILE)
    frame.insert(0, "batch_id", 1)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(BATCH_SQL)
    frame.to_sql("cad_records", engine, if_exists="append", index=False, chunksize=10_000)
    engine.dispose()
    return {"seconds": time.perf_counter() - started, "imported": len(frame), "rejected": 0}


def stored(url: str) -> dict[str, int]:
    """Rows stored per agency (the answer compared)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        found = {str(agency): int(n) for agency, n in connection.execute(
            text("SELECT agency, count(*) FROM cad_records GROUP BY agency"))}
    engine.dispose()
    return found


def child(what: str, source: Path, url: str, again: bool) -> None:
    started = time.process_time()
    measures = {"product": lambda: product(source, url, again), "floor-sqlite": lambda: floor_sqlite(source, url),
                "floor-postgres": lambda: floor_postgres(source, url), "peer": lambda: peer(source, url)}
    result = measures[what]()
    result["cpu_seconds"] = time.process_time() - started
    print(json.dumps(result))


def measure(what: str, source: Path, url: str, again: bool = False) -> dict[str, Any]:
    """Run one measured thing in a child process: its figures, and its peak RSS (MB)."""
    process = subprocess.Popen([sys.executable, __file__, "--child", what, str(source), url]
                               + (["--again"] if again else []), stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{what} failed ({process.returncode})")
    result = dict(json.loads(output.strip().splitlines()[-1]))
    result["peak_mb"] = usage.ru_maxrss / 1024
    return result


# --- databases -------------------------------------------------------------------------------------------------
class Databases:
    """A migrated SQLite template, and fresh PostgreSQL databases made on demand and dropped at the end."""

    def __init__(self, folder: Path, postgres: bool) -> None:
        from heart.migrate import upgrade

        self.folder, self.made, self.count = folder, [], 0
        self.template = folder / "template.db"
        upgrade(f"sqlite:///{self.template}")
        self.postgres_template: str | None = None
        if postgres:
            name = f"cadbench_{os.getpid()}_template"
            self._create(name)
            upgrade(self._url(name))
            self.postgres_template = name

    def sqlite(self) -> str:
        self.count += 1
        path = self.folder / f"bench{self.count}.db"
        shutil.copy(self.template, path)
        return f"sqlite:///{path}"

    def postgres(self) -> str:
        self.count += 1
        name = f"cadbench_{os.getpid()}_{self.count}"
        self._create(name, template=self.postgres_template)
        return self._url(name)

    def _url(self, name: str) -> str:
        return POSTGRES.rsplit("/", 1)[0] + "/" + name

    def _create(self, name: str, template: str | None = None) -> None:
        import psycopg

        with psycopg.connect(POSTGRES, autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
        self.made.append(name)

    def drop(self, url: str) -> None:
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(POSTGRES, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if name in self.made:
            self.made.remove(name)

    def close(self) -> None:
        for name in list(self.made):
            self.drop(self._url(name))


def postgres_reachable() -> bool:
    import psycopg

    try:
        psycopg.connect(POSTGRES, connect_timeout=5).close()
    except psycopg.OperationalError as error:
        print(f"PostgreSQL at {POSTGRES} not reachable ({str(error).strip()[:80]}): SQLite only")
        return False
    return True


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def run_size(rows_wanted: int, scale: int, databases: Databases, folder: Path, *, postgres: bool, with_peer: bool,
             again: bool) -> list[dict[str, Any]]:
    source = folder / f"alexandria_{rows_wanted}.csv"
    started = time.perf_counter()
    rows = write_repeated(source, rows_wanted)
    print(f"{rows:,} rows ({source.stat().st_size / 1e6:.0f} MB) written in {time.perf_counter() - started:.1f} s; "
          f"load {load_average()}", flush=True)
    size = f"{rows:,} rows"
    backends = [("SQLite", databases.sqlite, "floor-sqlite",
                 "csv.reader + executemany into SQLite's cad_records, one transaction")]
    if postgres:
        backends.append(("PostgreSQL", databases.postgres, "floor-postgres",
                         "csv.reader + one COPY (psycopg write_row) into PostgreSQL's cad_records"))
    paths = []
    for backend, fresh, floor_kind, floor_what in backends:
        figures: dict[str, dict[str, Any]] = {}
        answers: dict[str, dict[str, int]] = {}
        kinds = ["product", floor_kind] + (["peer"] if with_peer else [])
        for kind in kinds:
            url = fresh()
            try:
                figures[kind] = measure(kind, source, url, again=again and kind == "product")
                answers[kind] = stored(url)
            finally:
                if url.startswith("postgresql"):
                    databases.drop(url)
                else:
                    Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
            print(f"  {backend:10} {kind:15} {figures[kind]['seconds']:7.2f} s  peak {figures[kind]['peak_mb']:6.0f} MB"
                  f"  stored {sum(answers[kind].values()):,}  load {load_average()}", flush=True)
        made = figures["product"]
        match = (made["rejected"] == 0 and made["imported"] == rows
                 and all(answer == answers["product"] for answer in answers.values()))
        ratio = made["seconds"] / figures[floor_kind]["seconds"]
        print(f"  {backend}: product / floor = {ratio:.2f}×", flush=True)
        if "again" in made:
            print(f"  {backend}: the same file again: {made['again']['skipped']:,} skipped, "
                  f"{made['again']['imported']:,} imported in {made['again']['seconds']:.2f} s")
        paths.append({
            "path": f"CAD import ({backend})", "size": size, "scale": scale,
            "product": {"seconds": round(made["seconds"], 2), "peak_mb": round(made["peak_mb"], 1),
                        "cpu_seconds": round(made["cpu_seconds"], 2)},
            "floor": {"what": floor_what, "seconds": round(figures[floor_kind]["seconds"], 2),
                      "peak_mb": round(figures[floor_kind]["peak_mb"], 1)},
            "peer": ({"what": "pandas read_csv + to_datetime/tz_localize + to_sql",
                      "seconds": round(figures["peer"]["seconds"], 2),
                      "peak_mb": round(figures["peer"]["peak_mb"], 1)} if "peer" in figures else None),
            "answers_match": match,
            "answer_note": (f"{made['imported']:,} rows stored by product, floor"
                            f"{' and peer' if 'peer' in figures else ''}, equal per agency "
                            f"({len(answers['product'])} agencies); {made['rejected']} rejects"),
            "ratio": round(ratio, 2),
        })  # fmt: skip
    source.unlink()
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, help="one size only: rows to import")
    parser.add_argument("--report", action="store_true", help="print the report JSON on the last line")
    parser.add_argument("--short", action="store_true", help="small sizes (CI)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--no-peer", action="store_true", help="skip pandas")
    parser.add_argument("--again", action="store_true", help="also import the same file again (all rows known)")
    parser.add_argument("--child", nargs=3, metavar=("WHAT", "FILE", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), args.child[2], args.again)
        return
    if args.rows:
        sizes = [(args.rows, 1)]
    elif args.short:
        sizes = [(20_000, 1)]
    else:
        sizes = [(100_000, 1), (1_000_000, 10)]  # 10 M rows (5 GB) is too slow to write and load four times here
    paths: list[dict[str, Any]] = []
    postgres = not args.no_postgres and postgres_reachable()
    with tempfile.TemporaryDirectory(prefix="heart-cadbench-") as name:
        folder = Path(name)
        databases = Databases(folder, postgres=postgres)
        try:
            for rows, scale in sizes:
                paths += run_size(rows, scale, databases, folder, postgres=postgres,
                                  with_peer=not args.no_peer and scale == 1, again=args.again)  # peer: scale 1
        finally:
            databases.close()
    print("path                   size               product s  floor s  ratio  peer s  peak MB (product/floor)")
    for item in paths:
        peer_seconds = f"{item['peer']['seconds']:6.1f}" if item["peer"] else "     -"
        print(f"{item['path']:22} {item['size']:18} {item['product']['seconds']:9.2f} {item['floor']['seconds']:8.2f} "
              f"{item['ratio']:5.2f}× {peer_seconds}  {item['product']['peak_mb']:.0f}/{item['floor']['peak_mb']:.0f}")
    mismatched = [item["path"] + " " + item["size"] for item in paths if not item["answers_match"]]
    for item in mismatched:
        print(f"ANSWERS DIFFER: {item}")
    if args.report:
        for item in paths:
            item.pop("ratio", None)
        print(json.dumps({"paths": paths, "load_average": load_average()}))
    if mismatched:
        sys.exit(1)


if __name__ == "__main__":
    main()
