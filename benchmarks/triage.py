"""Triage benchmark: the engine one call at a time, and a replay of millions of calls through the compiled policy.

    .venv/bin/python benchmarks/triage.py [--rows 10000000] [--decisions 100000] [--sample 100000] [--json]

1. Engine: ``decide()`` on generated calls (nature codes or incident types, priorities, answers, times of
   day), each call timed alone: decisions per second, p50 and p99 per decision (goal: p99 under 1 ms).
2. Replay: ``--rows`` generated calls in an in-memory DuckDB table (incident type, priority, local minute and
   hour, one column per screening question), counted per pathway, type, hour and fallback, four ways:
   * floor: a bare DuckDB scan of the same columns, grouped by type and hour, no policy (once with the
     columns a CAD history has, once with the answer columns too);
   * replay: what `heart triage replay` runs (``replay_calls``) on CAD history, which has no answers: the
     answers follow from the incident type (the "assumed screened" scenario), so each distinct (type, priority,
     hour, stretch between opening times) is classified once by the compiled policy and the counts summed;
   * compiled, per-call answers: every call with its own random answers, so no two calls share a decision
     and the compiled query (``classify``) runs on every row: the worst case;
   * baseline: pandas ``DataFrame.apply`` of the engine row by row, on the per-call answers. It runs on
     ``--sample`` rows and is extrapolated to ``--rows`` (said so in the output): on 10 M rows it takes minutes.
   The compiled query and the engine must agree on the sample; the benchmark checks they do.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import ibis
import pandas as pd

from heart.crosswalk.taxonomy import INCIDENT_TYPES
from heart.triage.engine import CallFacts, decide
from heart.triage.policy import Policy, load_policy_by_name
from heart.triage.replay import GROUP_KEYS, SCREENED, classify, replay_calls

NATURE_CODES = ["SUICIDAL SUBJECT", "CHECK WELFARE", "DRUNK SUBJECT", "UNWANTED PERSON", "ASSAULT IN PROGRESS",
                "PANHANDLER", "IVC PAPER SERVICE", "MENTAL HEALTH", "OVERDOSE", "LOUD MUSIC", "STRUCTURE FIRE"]
PRIORITIES = ["P", "1", "2", "3", "4", None]
ANSWERS = ["yes", "no", "unknown", None]


def focus_types(policy: Policy) -> list[str]:
    """Incident types the HEART rules name: generated more often, so every pathway is exercised."""
    return sorted(policy.type_sets["crt_eligible"] | policy.type_sets["crisis"] | {"ivc_order"})


# --- 1. the engine ------------------------------------------------------------------------------------------

def engine_figures(policy: Policy, count: int, seed: int = 1) -> dict[str, float]:
    """Time ``decide()`` on ``count`` generated calls, one at a time."""
    rng = random.Random(seed)
    focus, every = focus_types(policy), sorted(INCIDENT_TYPES)
    midnight = datetime(2025, 6, 3, tzinfo=policy.timezone)
    calls = []
    for _ in range(count):
        named = rng.random() < 0.5
        facts = CallFacts(
            nature_code=rng.choice(NATURE_CODES) if named else None,
            incident_type=None if named else (rng.choice(focus) if rng.random() < 0.6 else rng.choice(every)),
            priority=rng.choice(PRIORITIES),
            screening={q: a for q in policy.question_ids if (a := rng.choice(["no", "no", "yes", "unknown"]))},
        )
        calls.append((facts, midnight + timedelta(minutes=rng.randrange(1440))))
    for facts, at in calls[:1000]:  # warm the nature-code cache and the interpreter
        decide(facts, policy, at)
    timings = []
    clock = time.perf_counter_ns
    started = clock()
    for facts, at in calls:
        before = clock()
        decide(facts, policy, at)
        timings.append(clock() - before)
    total = (clock() - started) / 1e9
    timings.sort()
    return {"decisions": count, "per_second": count / total, "mean_ms": statistics.fmean(timings) / 1e6,
            "p50_ms": timings[len(timings) // 2] / 1e6, "p99_ms": timings[int(len(timings) * 0.99)] / 1e6,
            "max_ms": timings[-1] / 1e6}


# --- 2. the replay ------------------------------------------------------------------------------------------

def _pick(values: Sequence[str | None]) -> str:
    literal = ", ".join("NULL" if v is None else f"'{v}'" for v in values)
    return f"([{literal}])[1 + floor(random() * {len(values)})::INT]"


def generate_calls(con: Any, policy: Policy, rows: int, seed: float = 0.42) -> None:
    """A table ``calls`` of ``rows`` generated calls, built inside DuckDB."""
    answers = ", ".join(
        f"CASE WHEN random() < 0.7 THEN {_pick(['no', 'no', 'no', 'yes'])} ELSE {_pick(ANSWERS)} END AS {q}"
        for q in policy.question_ids)
    raw = con.con  # the DuckDB connection behind Ibis
    raw.execute(f"SELECT setseed({seed})")
    raw.execute(f"""
        CREATE OR REPLACE TABLE calls AS
        SELECT CASE WHEN random() < 0.6 THEN {_pick(list(focus_types(policy)))}
                    ELSE {_pick(sorted(INCIDENT_TYPES))} END AS incident_type,
               {_pick(PRIORITIES)} AS priority,
               minute AS local_minute, (minute // 60)::SMALLINT AS local_hour,
               {answers}
        FROM (SELECT floor(random() * 1440)::SMALLINT AS minute FROM range({rows}))""")


def _fetch(con: Any, sql: str) -> Any:
    return con.con.execute(sql).fetchall()


def best_of(runs: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of ``runs`` timed runs (after one warm-up), and the last result."""
    result = work()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return min(times), result


def replay_figures(policy: Policy, rows: int, sample: int, runs: int = 3) -> dict[str, Any]:
    con = ibis.duckdb.connect()
    started = time.perf_counter()
    generate_calls(con, policy, rows)
    generated = time.perf_counter() - started
    calls = con.table("calls")
    floors = {}
    for name, columns in (("replay", ["priority", "local_minute"]),
                          ("answers", ["priority", "local_minute", *policy.question_ids])):
        scanned = ", ".join(f"count({c})" for c in columns)
        sql = f"SELECT incident_type, local_hour, count(*), {scanned} FROM calls GROUP BY ALL"
        floors[name], _ = best_of(runs, partial(_fetch, con, sql))
    replay_seconds, replayed = best_of(runs, lambda: replay_calls(calls, policy, scenarios=(SCREENED,), con=con))
    assert int(replayed[0].counts["calls"].sum()) == rows
    query = classify(calls, policy).group_by(list(GROUP_KEYS)).agg(calls=ibis._.count())
    compiled_seconds, counts = best_of(runs, lambda: con.execute(query))
    assert int(counts["calls"].sum()) == rows

    sampled = min(sample, rows)
    frame = con.execute(calls.limit(sampled))
    apply_seconds, engine_pathways = best_of(1, lambda: apply_engine(frame, policy))
    compiled_sample = con.execute(classify(ibis.memtable(frame), policy))["pathway"].tolist()
    agree = compiled_sample == engine_pathways
    return {
        "rows": rows, "generate_seconds": generated,
        "floor_seconds": floors["replay"], "floor_answers_seconds": floors["answers"],
        "replay_seconds": replay_seconds, "compiled_seconds": compiled_seconds,
        "replay_pathways": replayed[0].pathways(),
        "apply_sample_rows": sampled, "apply_sample_seconds": apply_seconds,
        "apply_seconds": apply_seconds * rows / sampled, "apply_extrapolated": sampled < rows,
        "sample_agrees": agree, "compiled_pathways": counts.groupby("pathway")["calls"].sum().astype(int).to_dict(),
    }


def apply_engine(frame: pd.DataFrame, policy: Policy) -> list[str]:
    """The baseline: the engine on each row through ``DataFrame.apply``."""
    midnight = datetime(2025, 6, 3, tzinfo=policy.timezone)
    questions = policy.question_ids

    def one(row: pd.Series) -> str:
        screening = {q: row[q] for q in questions if isinstance(row[q], str)}
        priority = row["priority"] if isinstance(row["priority"], str) else None
        facts = CallFacts(incident_type=row["incident_type"], priority=priority, screening=screening)
        return decide(facts, policy, midnight + timedelta(minutes=int(row["local_minute"]))).pathway

    return list(frame.apply(one, axis=1))


# --- output -------------------------------------------------------------------------------------------------

def report(engine: dict[str, float], replay: dict[str, Any]) -> str:
    rows = replay["rows"]
    apply_note = (f"extrapolated from {replay['apply_sample_rows']:,} rows in {replay['apply_sample_seconds']:.2f} s"
                  if replay["apply_extrapolated"] else "measured on every row")
    lines = [
        f"Engine, one call at a time ({engine['decisions']:,} generated calls):",
        f"  {engine['per_second']:,.0f} decisions/s · mean {engine['mean_ms']:.4f} ms · p50 {engine['p50_ms']:.4f} ms"
        f" · p99 {engine['p99_ms']:.4f} ms (goal < 1 ms: {'met' if engine['p99_ms'] < 1 else 'MISSED'})"
        f" · max {engine['max_ms']:.2f} ms",
        "",
        f"Replay of {rows:,} generated calls (DuckDB {os.cpu_count()} CPUs; generating them took "
        f"{replay['generate_seconds']:.1f} s):",
        f"  {'':<34}{'seconds':>10}{'calls/s':>16}{'× floor':>10}",
    ]
    floor, floor_answers = replay["floor_seconds"], replay["floor_answers_seconds"]
    for label, seconds, versus in (("floor: bare scan, CAD columns", floor, floor),
                                   ("replay (heart triage replay)", replay["replay_seconds"], floor),
                                   ("floor: bare scan, with answers", floor_answers, floor_answers),
                                   ("compiled, per-call answers", replay["compiled_seconds"], floor_answers),
                                   ("baseline: pandas apply(engine)", replay["apply_seconds"], floor_answers)):
        lines.append(f"  {label:<34}{seconds:>10.2f}{rows / seconds:>16,.0f}{seconds / versus:>10.1f}")
    goal = "met" if replay["replay_seconds"] < 2 else "MISSED"
    worst = "met" if replay["compiled_seconds"] < 2 else "missed"
    lines += [f"  goal < 2 s: replay {goal}, per-call answers {worst}; the compiled query is "
              f"{replay['apply_seconds'] / replay['compiled_seconds']:,.0f}× faster than the apply baseline"
              f" ({apply_note})",
              f"  compiled and engine agree on the sample: {'yes' if replay['sample_agrees'] else 'NO'}",
              f"  replay pathways: {_pathways(replay['replay_pathways'])}",
              f"  per-call answers pathways: {_pathways(replay['compiled_pathways'])}"]
    return "\n".join(lines)


def _pathways(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="generated calls to replay [10,000,000]")
    parser.add_argument("--decisions", type=int, default=100_000, help="calls decided one at a time [100,000]")
    parser.add_argument("--sample", type=int, default=100_000, help="rows the pandas baseline runs on [100,000]")
    parser.add_argument("--policy", default="durham", help="policy name [durham]")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    policy = load_policy_by_name(args.policy)
    engine = engine_figures(policy, args.decisions)
    replay = replay_figures(policy, args.rows, args.sample)
    if args.json:
        print(json.dumps({"engine": engine, "replay": replay}, indent=2))
    else:
        print(report(engine, replay))
    if not replay["sample_agrees"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
