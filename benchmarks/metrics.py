"""Metrics benchmark: every dashboard figure by program × month over a synthetic history.

    .venv/bin/python benchmarks/metrics.py [--rows 1000000 10000000] [--data-dir DIR] [--threads N] [--json]

For each size, a synthetic history of that many responses (two programs, ten years, about 4 % cancelled,
a few missing or negative times) is written once to Parquet in the export's schema
(``heart.metrics.definitions.HISTORY_SCHEMA``). Two engines then compute the same figures — responses,
average minutes to scene / on scene / total, % transport / PD backup / EMS, median and 90th percentile of
call → on scene, cancelled responses and data-quality exceptions, per program and local month cleared:

- duckdb: DuckDB reading the Parquet file through the Ibis definitions the product uses;
- pandas: a straightforward pandas baseline (read the file, convert to local time, filter, groupby).

Each runs in a fresh process, so its time (computation only, after imports), CPU time (all threads) and
peak memory (the process's maximum resident set) are its own. The two answers are compared figure by
figure. On a busy machine, the CPU time is the steadier measure.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ZONE = "America/New_York"
START = np.datetime64("2016-01-01T05:00:00", "us")
YEARS = 10
CHUNK = 2_000_000
TYPES = ["trespass_unwanted", "mental_health_crisis", "welfare_check", "suicide_threat", "assist_person",
         "intoxicated_person", "ivc_order", "follow_up", "verbal_disturbance", "panhandling"]

BEATS = [f"{district}{number}" for district in "ABCDE" for number in range(1, 11)]


def synthesize(path: Path, rows: int, seed: int = 7) -> None:
    """Write ``rows`` synthetic responses to ``path`` in chunks (memory stays flat at any size), the calls received
    at random instants of the ten years, in no order."""
    from heart.metrics.backends.duckdb import arrow_schema

    schema = arrow_schema()
    rng = np.random.default_rng(seed)
    with pq.ParquetWriter(str(path), schema, compression="snappy") as writer:
        for offset in range(0, rows, CHUNK):
            n = min(CHUNK, rows - offset)
            program = np.where(rng.random(n) < 0.69, "CRT", "COR")
            received = START + rng.integers(0, SPAN_US, n).astype("timedelta64[us]")
            writer.write_table(responses(rng, program, received).cast(schema))


SPAN_US = int(YEARS * 365.25 * 86_400 * 1_000_000)


def responses(rng: np.random.Generator, program: np.ndarray, received: np.ndarray) -> pa.Table:
    """Synthetic responses to calls of ``program`` received at ``received`` (datetime64[us]): dispatch, arrival and
    clear a few minutes apart (lognormal), about 4 % cancelled, a few missing or negative times."""
    n = len(received)
    minute = 60_000_000
    dispatched = received + (rng.lognormal(np.log(2.4), 0.45, n) * minute).astype("timedelta64[us]")
    on_scene = dispatched + (rng.lognormal(np.log(10.5), 0.5, n) * minute).astype("timedelta64[us]")
    cleared = on_scene + (rng.lognormal(np.log(30.0), 0.55, n) * minute).astype("timedelta64[us]")
    cancelled_rows = rng.random(n) < 0.04
    cancelled = np.where(cancelled_rows, dispatched + np.timedelta64(5 * minute, "us"), np.datetime64("NaT", "us"))
    missing = rng.random(n) < 0.002
    backwards = rng.random(n) < 0.001  # cleared before arrival: a negative time on scene
    cleared = np.where(backwards, on_scene - np.timedelta64(3 * minute, "us"), cleared)
    return pa.table({
        "program": program, "timezone": np.full(n, ZONE), "incident_type": rng.choice(TYPES, n),
        "received_at": received, "dispatched_at": dispatched,
        "on_scene_at": pa.array(on_scene, mask=cancelled_rows | missing),
        "cleared_at": pa.array(cleared, mask=cancelled_rows),
        "cancelled_at": pa.array(cancelled, mask=~cancelled_rows),
        "transported": pa.array(rng.random(n) < 0.075, mask=cancelled_rows),
        "pd_backup_for_safety": pa.array(rng.random(n) < 0.0005, mask=cancelled_rows),
        "ems_support": pa.array(rng.random(n) < 0.01, mask=cancelled_rows),
        "team_felt_safe": pa.array(rng.random(n) < 0.99, mask=cancelled_rows),
        "beat": rng.choice(BEATS, n),
    })


# --- the two engines (each in its own process) ---------------------------------------------------------------

def duckdb_rows(path: Path, threads: int | None) -> list[dict[str, Any]]:
    """The product's exact totals per program and local month: its definitions on DuckDB over the Parquet file."""
    from heart.metrics import definitions as d
    from heart.metrics.backends import quiet
    from heart.metrics.backends.duckdb import open_duckdb_parquet

    with open_duckdb_parquet(path, threads=threads) as source, quiet():
        span = d.time_span(source.history).to_pyarrow().to_pylist()[0]  # from the Parquet statistics
        zones = [span["first_timezone"]] if span["first_timezone"] == span["last_timezone"] else [
            row["timezone"] for row in d.programs_and_zones(source.history).to_pyarrow().to_pylist()]
        clock = d.local_clock(span, zones)
        assert clock is not None, "the history is empty"
        facts = d.response_facts(source.history, source.epoch_micros)
        classified = d.classify(facts, clock, d.Period())
        return list(d.summary(classified, ["program", "month"], native_quantiles=d.QUANTILES).to_pyarrow().to_pylist())


def run_duckdb(path: Path, threads: int | None) -> dict[str, dict[str, Any]]:
    """The product's definitions, on DuckDB over the Parquet file: the dashboard's figures."""
    from heart.metrics.service import Totals, figures, quantile_minutes

    result = {}
    for row in duckdb_rows(path, threads):
        totals = Totals(**{name: int(row[name] or 0) for name in Totals.__dataclass_fields__})
        month = int(row["month"])
        result[f"{row['program']} {month // 100}-{month % 100:02d}"] = {
            "responses": totals.responses, **figures(totals),
            **{f"{name}_minutes_received_to_scene": value for name, value in quantile_minutes(row).items()},
            "cancelled_responses": int(row["cancelled_responses"]), "excluded": int(row["exceptions_excluded"]),
        }
    return result


def run_pandas(path: Path) -> dict[str, dict[str, Any]]:
    """A straightforward pandas version of the same figures."""
    import pandas as pd

    frame = pd.read_parquet(path)
    local_cleared = frame["cleared_at"].dt.tz_convert(ZONE)
    local_closed = local_cleared.fillna(frame["cancelled_at"].dt.tz_convert(ZONE))
    frame["month"] = local_closed.dt.year * 100 + local_closed.dt.month
    to_scene = (frame["on_scene_at"] - frame["dispatched_at"]).dt.total_seconds() / 60
    on_scene = (frame["cleared_at"] - frame["on_scene_at"]).dt.total_seconds() / 60
    from_call = (frame["on_scene_at"] - frame["received_at"]).dt.total_seconds() / 60
    cleared = frame["cleared_at"].notna()
    counted = cleared & frame["cancelled_at"].isna() & (to_scene >= 0) & (on_scene >= 0)
    frame = frame.assign(to_scene=to_scene, on_scene=on_scene, total=to_scene + on_scene, from_call=from_call,
                         counted=counted, excluded=cleared & ~counted,
                         cancelled=frame["cancelled_at"].notna() & ~cleared)
    keys = ["program", "month"]
    kept = frame[frame["counted"]]
    grouped = kept.groupby(keys).agg(
        responses=("to_scene", "size"), avg_minutes_to_scene=("to_scene", "mean"),
        avg_minutes_on_scene=("on_scene", "mean"), avg_total_minutes=("total", "mean"),
        pct_needed_transport=("transported", "mean"), pct_needed_pd_backup_for_team_safety=("pd_backup_for_safety",
                                                                                            "mean"),
        pct_needed_ems_support=("ems_support", "mean"))
    timed = kept[kept["from_call"] >= 0].groupby(keys)["from_call"].quantile([0.5, 0.9]).unstack()
    others = frame.groupby(keys).agg(cancelled_responses=("cancelled", "sum"), excluded=("excluded", "sum"))
    result = {}
    for (program, month), row in grouped.iterrows():
        result[f"{program} {month // 100}-{month % 100:02d}"] = {
            "responses": int(row["responses"]),
            **{name: round(float(row[name]), 2) for name in ("avg_minutes_to_scene", "avg_minutes_on_scene",
                                                             "avg_total_minutes")},
            **{name: round(100 * float(row[name]), 2) for name in ("pct_needed_transport",
                                                                   "pct_needed_pd_backup_for_team_safety",
                                                                   "pct_needed_ems_support")},
            "median_minutes_received_to_scene": round(float(timed.loc[(program, month), 0.5]), 2),
            "p90_minutes_received_to_scene": round(float(timed.loc[(program, month), 0.9]), 2),
            "cancelled_responses": int(others.loc[(program, month), "cancelled_responses"]),
            "excluded": int(others.loc[(program, month), "excluded"]),
        }
    return result


def child(engine: str, path: Path, threads: int | None) -> None:
    """Run one engine and print its time, peak memory and answer as JSON."""
    warm_up(engine)
    began, cpu = time.perf_counter(), time.process_time()
    result = run_duckdb(path, threads) if engine == "duckdb" else run_pandas(path)
    seconds, cpu_seconds = time.perf_counter() - began, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"engine": engine, "seconds": seconds, "cpu_seconds": cpu_seconds, "peak_mb": peak_mb,
                      "result": result}))


def warm_up(engine: str) -> None:
    """Load the modules each engine imports lazily (the time to import a library is not its speed)."""
    if engine == "duckdb":
        import ibis

        from heart.metrics.backends import quiet
        from heart.metrics.service import figures  # noqa: F401

        with quiet():
            ibis.duckdb.connect().to_pyarrow(ibis.memtable({"x": [1]}).x.sum().as_table())
    else:
        import pandas as pd

        pd.DataFrame({"x": [1]}).groupby("x").size()


def measure(engine: str, path: Path, threads: int | None) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", engine, "--parquet", str(path)]
    if threads:
        command += ["--threads", str(threads)]
    finished = subprocess.run(command, capture_output=True, text=True, check=True)
    return dict(json.loads(finished.stdout.strip().splitlines()[-1]))


def disagreements(first: dict[str, Any], second: dict[str, Any]) -> list[str]:
    """Figures that differ by more than rounding (0.011) between the two answers."""
    problems = [f"groups differ: {sorted(set(first) ^ set(second))[:3]}"] if set(first) != set(second) else []
    for key in sorted(set(first) & set(second)):
        for name, value in first[key].items():
            other = second[key].get(name)
            if value is None or other is None:
                if value != other:
                    problems.append(f"{key} {name}: {value} vs {other}")
            elif abs(float(value) - float(other)) > 0.011:
                problems.append(f"{key} {name}: {value} vs {other}")
    return problems


# --- the benchmark report (benchmarks/report.py): the product beside a bare DuckDB scan and pandas ------------

REPORT_SIZES = [(1_000_000, 1), (10_000_000, 10)]  # responses, scale (memory with size: 1× and 10×)
SHORT_SIZES = [(50_000, 1)]
TOTALS = ("responses", "sum_us_to_scene", "sum_us_on_scene", "transported", "pd_backup_for_safety", "ems_support",
          "cancelled_responses", "excluded")
QUANTILE_NAMES = ("median", "p90")

# The floor: one hand-written DuckDB query over the same Parquet columns computing the same sums and counts per
# program and local month (DuckDB's own time zone conversion, FILTER clauses, native quantile_cont): what the
# product's Ibis definitions should approach.
FLOOR_SQL = """
WITH closed AS (
    SELECT program, transported, pd_backup_for_safety, ems_support,
           epoch_us(received_at) AS r, epoch_us(dispatched_at) AS d, epoch_us(on_scene_at) AS s,
           epoch_us(cleared_at) AS c, cancelled_at IS NOT NULL AS x,
           timezone(timezone, coalesce(cleared_at, cancelled_at)) AS local_closed
    FROM read_parquet('{path}')
    WHERE coalesce(cleared_at, cancelled_at) IS NOT NULL
), marked AS (
    SELECT *, coalesce(c IS NOT NULL AND NOT x AND s - d >= 0 AND c - s >= 0, false) AS counted FROM closed
)
SELECT program, year(local_closed) * 100 + month(local_closed) AS month,
       count(*) FILTER (counted) AS responses,
       coalesce(sum(s - d) FILTER (counted), 0) AS sum_us_to_scene,
       coalesce(sum(c - s) FILTER (counted), 0) AS sum_us_on_scene,
       count(*) FILTER (counted AND transported) AS transported,
       count(*) FILTER (counted AND pd_backup_for_safety) AS pd_backup_for_safety,
       count(*) FILTER (counted AND ems_support) AS ems_support,
       count(*) FILTER (c IS NULL) AS cancelled_responses,
       count(*) FILTER (c IS NOT NULL AND NOT counted) AS excluded,
       quantile_cont(s - r, 0.5) FILTER (counted AND s - r >= 0) AS median,
       quantile_cont(s - r, 0.9) FILTER (counted AND s - r >= 0) AS p90
FROM marked
GROUP BY ALL
"""


def group_key(program: str, month: int) -> str:
    return f"{program} {month // 100}-{month % 100:02d}"


def product_totals(path: Path, threads: int | None) -> dict[str, dict[str, Any]]:
    """The product: the dashboard's exact totals and quantiles (microseconds) per program and month."""
    return {group_key(row["program"], int(row["month"])): {
        **{name: int(row["exceptions_excluded" if name == "excluded" else name] or 0) for name in TOTALS},
        **{name: None if not row["n"] else float(row[name]) for name in QUANTILE_NAMES},
    } for row in duckdb_rows(path, threads)}


def floor_totals(path: Path, threads: int | None) -> dict[str, dict[str, Any]]:
    """The floor: the same totals from one bare DuckDB query (``FLOOR_SQL``)."""
    import duckdb

    connection = duckdb.connect(config={"threads": threads} if threads else {})
    try:
        cursor = connection.execute(FLOOR_SQL.format(path=str(path).replace("'", "''")))
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    finally:
        connection.close()
    return {group_key(row["program"], int(row["month"])): {
        **{name: int(row[name]) for name in TOTALS},
        **{name: None if row[name] is None else float(row[name]) for name in QUANTILE_NAMES},
    } for row in rows}


def warm_product() -> None:
    warm_up("duckdb")


def warm_floor() -> None:
    import duckdb

    duckdb.connect().execute("SELECT timezone('America/New_York', now())").fetchall()  # loads ICU


def warm_peer() -> None:
    warm_up("pandas")


def totals_disagreements(product: dict[str, Any], floor: dict[str, Any]) -> list[str]:
    """Totals that differ at all between the product and the floor, and quantiles that differ by more than a
    rounding of the published minutes (both compute DuckDB's quantile_cont of the same microseconds)."""
    problems = [f"groups differ: {sorted(set(product) ^ set(floor))[:3]}"] if set(product) != set(floor) else []
    for key in sorted(set(product) & set(floor)):
        for name in TOTALS:
            if product[key][name] != floor[key][name]:
                problems.append(f"{key} {name}: {product[key][name]} vs {floor[key][name]}")
        for name in QUANTILE_NAMES:
            ours, theirs = product[key][name], floor[key][name]
            if (ours is None) != (theirs is None) or (
                    ours is not None and theirs is not None and abs(ours - theirs) / 60_000_000 > 0.005):
                problems.append(f"{key} {name}: {ours} vs {theirs} µs")
    return problems


def published(totals: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The dashboard's figures from the product's totals, in ``run_pandas``'s shape."""
    from heart.metrics.service import Totals, figures, round_half_up

    result = {}
    for key, row in totals.items():
        exact = Totals(**{name: row[name] for name in Totals.__dataclass_fields__ if name in row})
        result[key] = {"responses": exact.responses, **figures(exact), **{
            f"{name}_minutes_received_to_scene": None if row[name] is None else round_half_up(
                Fraction(row[name]) / 60_000_000) for name in QUANTILE_NAMES},
            "cancelled_responses": row["cancelled_responses"], "excluded": row["excluded"]}
    return result


def run_report(args: argparse.Namespace) -> int:
    """``--report``: each size's product, floor and peer, each in its own process; the contract's last line."""
    from common import emit_report, measure_child, path_entry

    sizes = SHORT_SIZES if args.short else [(rows, scale) for rows, scale in REPORT_SIZES
                                            if not args.rows or rows in args.rows]
    paths = []
    with tempfile.TemporaryDirectory() as scratch:
        directory = args.data_dir or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        for rows, scale in sizes:
            path = directory / f"history_{rows}.parquet"
            if not path.exists():
                began = time.perf_counter()
                synthesize(path, rows)
                print(f"wrote {rows:,} responses to {path.name} in {time.perf_counter() - began:.1f} s", flush=True)
            product = measure_child(product_totals, path, args.threads, prepare=warm_product)
            floor = measure_child(floor_totals, path, args.threads, prepare=warm_floor)
            peer = measure_child(run_pandas, path, prepare=warm_peer)
            against_floor = totals_disagreements(product.result, floor.result)
            against_peer = disagreements(published(product.result), peer.result)
            for problem in (against_floor + against_peer)[:10]:
                print("  disagreement:", problem)
            groups = len(product.result)
            for name, measured in (("DuckDB + Ibis (product)", product), ("bare DuckDB SQL (floor)", floor),
                                   ("pandas (peer)", peer)):
                print(f"{rows:>12,} responses  {name:<24} {measured.seconds:7.2f} s  {measured.cpu_seconds:7.2f} CPU s"
                      f"  {measured.peak_mb:7,.0f} MB", flush=True)
            paths.append(path_entry(
                "dashboard figures", f"{rows:,} responses", scale, product, floor,
                "one hand-written DuckDB SQL query over the same Parquet columns: the same sums, counts and "
                "quantile_cont per program and local month", peer, "pandas: read the file, local time, filter, "
                "groupby", not against_floor and not against_peer,
                f"{groups} program-months: every total (responses, duration sums, counts, cancelled, excluded) equal "
                f"to the floor's, quantiles within 0.005 min; every published figure within rounding of pandas' "
                f"({len(against_floor)} + {len(against_peer)} differences)",
                product_what="the dashboard's Ibis definitions on DuckDB over Parquet"))
    return emit_report(paths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", help="responses per size (default 1,000,000 and 10,000,000)")
    parser.add_argument("--data-dir", type=Path, help="keep the Parquet files here (reused when present)")
    parser.add_argument("--threads", type=int, help="DuckDB threads (default: all cores)")
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON")
    parser.add_argument("--report", action="store_true", help="product, floor and peer for benchmarks/report.py "
                        f"({', '.join(f'{r:,}' for r, _ in REPORT_SIZES)} responses unless --rows names some)")
    parser.add_argument("--short", action="store_true", help=f"with --report: {SHORT_SIZES[0][0]:,} responses")
    parser.add_argument("--child", choices=["duckdb", "pandas"], help=argparse.SUPPRESS)
    parser.add_argument("--parquet", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.parquet, args.threads)
        return
    if args.report:
        raise SystemExit(run_report(args))
    args.rows = args.rows or [rows for rows, _ in REPORT_SIZES]
    with tempfile.TemporaryDirectory() as scratch:
        directory = args.data_dir or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        report = []
        for rows in args.rows:
            path = directory / f"history_{rows}.parquet"
            if not path.exists():
                began = time.perf_counter()
                synthesize(path, rows)
                print(f"wrote {rows:,} responses to {path.name} in {time.perf_counter() - began:.1f} s", flush=True)
            duck, pandas = measure("duckdb", path, args.threads), measure("pandas", path, args.threads)
            problems = disagreements(duck["result"], pandas["result"])
            report.append({"rows": rows, "groups": len(duck["result"]), "agree": not problems,
                           **{f"{m['engine']}_{k}": round(m[k], 3) for m in (duck, pandas) for k in
                              ("seconds", "cpu_seconds", "peak_mb")}})
            for problem in problems[:5]:
                print("  disagreement:", problem)
        if args.json:
            print(json.dumps(report, indent=2))
            return
        print(f"{'responses':>12} {'groups':>7} | {'DuckDB + Ibis: wall, CPU, peak':>32} | "
              f"{'pandas groupby: wall, CPU, peak':>32} | agree")
        for line in report:
            cells = [f"{line[f'{e}_seconds']:>7.2f} s {line[f'{e}_cpu_seconds']:>7.2f} s "
                     f"{line[f'{e}_peak_mb']:>7,.0f} MB" for e in ("duckdb", "pandas")]
            print(f"{line['rows']:>12,} {line['groups']:>7} | {cells[0]:>32} | {cells[1]:>32} | "
                  f"{'yes' if line['agree'] else 'NO'}")


if __name__ == "__main__":
    main()
