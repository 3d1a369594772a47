"""Triage benchmark: the engine one call at a time, and a replay of millions of calls through the compiled policy.

    .venv/bin/python benchmarks/triage.py [--rows 10000000] [--decisions 100000] [--sample 100000] [--json]
    .venv/bin/python benchmarks/triage.py --report [--short]     # the benchmark report's paths, last line JSON

1. Engine: ``decide()`` on generated calls (nature codes or incident types, priorities, answers, times of
   day), each call timed alone: decisions per second, p50 and p99 per decision (goal: p99 under 1 ms).
2. Replay: ``--rows`` generated calls in an in-memory DuckDB table (incident type, priority, local minute and
   hour, one column per screening question), counted per pathway, type, hour and fallback:
   * floor: a bare DuckDB scan reading every value of the same columns, one trivial function of each
     (``count_if(priority = 'P')``, ``sum(local_minute)``, ``count_if(<answer> = 'yes')``), grouped by type and
     hour (once with the columns a CAD history has, once with the answer columns too);
   * replay, distinct combinations: what `heart triage replay` runs (``replay_calls``) on CAD history, which has
     no answers: the answers follow from the incident type (the "assumed screened" scenario), so one query counts
     the calls per distinct (type, priority, hour, stretch between opening times) and each is decided once, in
     Python;
   * replay, per-call answers (``OWN_ANSWERS``): every call with its own random answers, so every call is
     decided: one scan numbers each call's facts but its type, a join gives the decisions for every type class
     (``heart.triage.compiler.DecisionTable.vectors``), and each count per (type, hour, vector) takes its type's;
   * before: the compiled query (``classify``) on every row, as the per-call replay ran until issue 16;
   * baseline: pandas ``DataFrame.apply`` of the engine row by row, on the per-call answers. It runs on
     ``--sample`` rows and is extrapolated to ``--rows`` (said so in the output): on 10 M rows it takes minutes.
   The replay and the engine must agree on the sample; the benchmark checks they do.

``--report`` measures both replay paths at 1 M and 10 M calls (``--short``: 100,000), product, floor and peer
each in a child process of its own, floor and product taking turns twice (``--short``: once) so that both see the
same stretches of a drifting load. Time: wall and CPU seconds (the CPU of every thread of the process), the least
of 5 runs after the first (``--short``: 2); that first, cold run is reported too: for the product it builds the
policy's decision table, compiles the replay's SQL and stores its table in the connection. Peak memory: the child's
VmHWM. It prints the report contract's JSON (issue 16) on its last line; it exits 1 if an answer differs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from heart.crosswalk.taxonomy import INCIDENT_TYPES
from heart.triage.compiler import OUTPUT_COLUMNS, decision_table
from heart.triage.engine import CallFacts, decide
from heart.triage.policy import Policy, load_policy_by_name
from heart.triage.replay import GROUP_KEYS, OWN_ANSWERS, SCREENED, classify, engine_decisions, replay_calls

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
        SELECT id, CASE WHEN random() < 0.6 THEN {_pick(list(focus_types(policy)))}
                    ELSE {_pick(sorted(INCIDENT_TYPES))} END AS incident_type,
               {_pick(PRIORITIES)} AS priority,
               minute AS local_minute, (minute // 60)::SMALLINT AS local_hour,
               {answers}
        FROM (SELECT range AS id, floor(random() * 1440)::SMALLINT AS minute FROM range({rows}))""")


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
    for name, questions in (("replay", ()), ("answers", policy.question_ids)):
        floors[name], _ = best_of(runs, partial(_fetch, con, floor_sql(questions)))
    replay_seconds, replayed = best_of(runs, lambda: replay_calls(calls, policy, scenarios=(SCREENED,), con=con))
    assert int(replayed[0].counts["calls"].sum()) == rows
    answered_seconds, answered = best_of(runs, lambda: replay_calls(calls, policy, scenarios=(OWN_ANSWERS,), con=con))
    assert int(answered[0].counts["calls"].sum()) == rows
    query = classify(calls, policy).group_by(list(GROUP_KEYS)).agg(calls=ibis._.count())
    compiled_seconds, counts = best_of(1, lambda: con.execute(query))
    assert int(counts["calls"].sum()) == rows

    sampled = min(sample, rows)
    frame = con.execute(calls.filter(calls.id < sampled).order_by("id"))
    apply_seconds, engine_pathways = best_of(1, lambda: apply_engine(frame, policy))
    table = decision_table(policy)
    assert table is not None
    decided = con.execute(table.decide(calls.filter(calls.id < sampled), minute_column="local_minute").order_by("id"))
    agree = [table.outcomes[i][0] for i in decided["heart_decision_"]] == engine_pathways
    return {
        "rows": rows, "generate_seconds": generated,
        "floor_seconds": floors["replay"], "floor_answers_seconds": floors["answers"],
        "replay_seconds": replay_seconds, "answered_seconds": answered_seconds, "compiled_seconds": compiled_seconds,
        "replay_pathways": replayed[0].pathways(),
        "apply_sample_rows": sampled, "apply_sample_seconds": apply_seconds,
        "apply_seconds": apply_seconds * rows / sampled, "apply_extrapolated": sampled < rows,
        "sample_agrees": agree, "answered_pathways": answered[0].pathways(),
        "compiled_agrees": _group_counts(counts) == _group_counts(answered[0].counts),
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
        f"  {'':<38}{'seconds':>10}{'calls/s':>16}{'× floor':>10}",
    ]
    floor, floor_answers = replay["floor_seconds"], replay["floor_answers_seconds"]
    for label, seconds, versus in (("floor: bare scan, CAD columns", floor, floor),
                                   ("replay, distinct combinations", replay["replay_seconds"], floor),
                                   ("floor: bare scan, with answers", floor_answers, floor_answers),
                                   ("replay, per-call answers", replay["answered_seconds"], floor_answers),
                                   ("before: compiled query, every call", replay["compiled_seconds"], floor_answers),
                                   ("baseline: pandas apply(engine)", replay["apply_seconds"], floor_answers)):
        lines.append(f"  {label:<38}{seconds:>10.2f}{rows / seconds:>16,.0f}{seconds / versus:>10.1f}")
    lines += [f"  per-call answers within 2x of the floor: "
              f"{'met' if replay['answered_seconds'] <= 2 * floor_answers else 'MISSED'}; "
              f"{replay['apply_seconds'] / replay['answered_seconds']:,.0f}× faster than the apply baseline "
              f"({apply_note})",
              f"  decision table and engine agree on the sample: {'yes' if replay['sample_agrees'] else 'NO'}; "
              f"the compiled query's counts are the same: {'yes' if replay['compiled_agrees'] else 'NO'}",
              f"  replay pathways: {_pathways(replay['replay_pathways'])}",
              f"  per-call answers pathways: {_pathways(replay['answered_pathways'])}"]
    return "\n".join(lines)


def _pathways(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))


# --- the benchmark report (issue 16): each measured thing in a child process ------------------------------

CAD_COLUMNS = ("incident_type", "priority", "local_minute", "local_hour")
DISTINCT_PATH = "triage replay (distinct combinations)"
ANSWERS_PATH = "triage replay (per-call answers)"


def floor_sql(questions: Sequence[str]) -> str:
    """The floor: a bare DuckDB scan reading every value of the columns the replay reads, one trivial function of
    each (a comparison or a sum), grouped by incident type and hour. Without questions: the CAD history's columns."""
    answers = "".join(f", count_if({q} = 'yes') AS {q}_yes" for q in questions)
    return (f"SELECT incident_type, local_hour, count(*) AS calls, count_if(priority = 'P') AS priority_p, "
            f"sum(local_minute) AS minutes{answers} FROM calls GROUP BY ALL")


FLOOR_CHILD = """
import json, sys, time
import duckdb
path, sql, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
raw = duckdb.connect()
raw.execute("SET enable_progress_bar = false")
raw.execute(f"CREATE TABLE calls AS FROM read_parquet('{path}') ORDER BY id")
times = []
for _ in range(runs + 1):
    started, cpu = time.perf_counter(), time.process_time()
    rows = raw.execute(sql).fetchall()
    times.append((time.perf_counter() - started, time.process_time() - cpu))
(cold, cold_cpu), best, best_cpu = times[0], min(t[0] for t in times[1:]), min(t[1] for t in times[1:])
by = {}
for kind, hour, calls, *_ in rows:
    key = f"{kind}|{'none' if hour is None else hour}"
    by[key] = by.get(key, 0) + calls
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"seconds": best, "cpu_seconds": best_cpu, "cold_seconds": cold, "cold_cpu_seconds": cold_cpu,
                  "peak_mb": peak / 1024, "by_type_hour": by}))
"""
"""The floor in a child that imports DuckDB only (its peak memory is the scan's, not HEART's)."""


def _load(path: str) -> Any:
    import duckdb

    raw = duckdb.connect()
    raw.execute("SET enable_progress_bar = false")  # a query slower than 2 s would draw one on stdout
    raw.execute(f"CREATE TABLE calls AS FROM read_parquet('{path}') ORDER BY id")
    return raw


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM: ru_maxrss would include the parent's, inherited at fork)."""
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def _by_type_hour(frame: pd.DataFrame) -> dict[str, int]:
    """Calls per (type, hour), keyed "type|hour" (hour "none" when missing): what floor and product both give."""
    totals = frame.groupby(["incident_type", "local_hour"], dropna=False)["calls"].sum()
    return {f"{kind}|{'none' if pd.isna(hour) else int(hour)}": int(n) for (kind, hour), n in totals.items()}


def _group_counts(frame: pd.DataFrame) -> dict[str, int]:
    """Replay counts keyed by the GROUP_KEYS joined with "|" (None as "-"), for exact comparison."""
    found: dict[str, int] = {}
    for *keys, calls in frame[[*GROUP_KEYS, "calls"]].itertuples(index=False):
        name = "|".join("-" if k is None or (not isinstance(k, str) and pd.isna(k)) else str(k) for k in keys)
        found[name] = found.get(name, 0) + int(calls)
    return found


def run_child(role: str, path: str, runs: int, sample: int, policy_name: str) -> dict[str, Any]:
    """One measured thing, in this (child) process; returns seconds, peak memory and what it answered."""
    policy = load_policy_by_name(policy_name)
    if role == "peer":
        raw = _load(path)
        frame = raw.execute(f"SELECT * FROM calls WHERE id < {sample} ORDER BY id").fetchdf()
        screened_seconds, screened = best_of(1, lambda: engine_decisions(frame, policy, SCREENED))
        answers_seconds, answered = best_of(1, lambda: apply_engine_rows(frame, policy))
        return {"seconds": {"screened": screened_seconds, "answers": answers_seconds}, "peak_mb": _peak_mb(),
                "rows": len(frame),
                "counts": {"screened": _engine_counts(frame, screened), "answers": _engine_counts(frame, answered)},
                "decisions": [list(d) for d in answered]}
    con = ibis.duckdb.connect()
    con.raw_sql("SET enable_progress_bar = false")  # a query slower than 2 s would draw one on stdout
    con.raw_sql(f"CREATE TABLE calls AS FROM read_parquet('{path}') ORDER BY id")
    calls = con.table("calls")
    scenario = SCREENED if role == "product_distinct" else OWN_ANSWERS
    timed = []
    for _ in range(runs + 1):  # the first run is cold: it builds the decision table, compiles and stores it
        started, cpu = time.perf_counter(), time.process_time()
        (result,) = replay_calls(calls, policy, scenarios=(scenario,), con=con)
        timed.append((time.perf_counter() - started, time.process_time() - cpu))
    (cold, cold_cpu), seconds, cpu_seconds = timed[0], min(t[0] for t in timed[1:]), min(t[1] for t in timed[1:])
    peak = _peak_mb()
    sampled = calls.filter(calls.id < sample)
    (on_sample,) = replay_calls(sampled, policy, scenarios=(scenario,), con=con)
    answer: dict[str, Any] = {"seconds": seconds, "cpu_seconds": cpu_seconds, "cold_seconds": cold,
                              "cold_cpu_seconds": cold_cpu, "peak_mb": peak,
                              "by_type_hour": _by_type_hour(result.counts),
                              "sample_counts": _group_counts(on_sample.counts),
                              "pathways": result.pathways()}
    if scenario is OWN_ANSWERS:  # the decision of each sampled call, in id order
        table = decision_table(policy)
        assert table is not None
        decided = con.execute(table.decide(sampled, con=con, minute_column="local_minute").order_by("id"))
        answer["decisions"] = [list(table.outcomes[i]) for i in decided["heart_decision_"]]
    return answer


def _engine_counts(frame: pd.DataFrame, decisions: Sequence[Sequence[Any]]) -> dict[str, int]:
    rows = pd.DataFrame([list(d) for d in decisions], columns=list(OUTPUT_COLUMNS), dtype=object)
    rows["incident_type"] = frame["incident_type"].to_numpy()
    rows["local_hour"] = frame["local_hour"].to_numpy()
    rows["calls"] = 1
    counts = rows.groupby(list(GROUP_KEYS), dropna=False)["calls"].sum().reset_index()
    return _group_counts(counts)


def apply_engine_rows(frame: pd.DataFrame, policy: Policy) -> list[tuple[Any, ...]]:
    """The peer: ``DataFrame.apply`` of the engine on each row with its own answers; the four decision fields."""
    midnight = datetime(2025, 6, 3, tzinfo=policy.timezone)
    questions = policy.question_ids

    def one(row: pd.Series) -> tuple[Any, ...]:
        screening = {q: row[q] for q in questions if isinstance(row[q], str)}
        priority = row["priority"] if isinstance(row["priority"], str) else None
        facts = CallFacts(incident_type=row["incident_type"], priority=priority, screening=screening)
        decision = decide(facts, policy, midnight + timedelta(minutes=int(row["local_minute"])))
        return decision.pathway, decision.rule, decision.fallback_reason, decision.fallback_program

    return list(frame.apply(one, axis=1))


def _child(role: str, path: str, runs: int, sample: int, policy: str) -> dict[str, Any]:
    """Run ``role`` in a child process and read the JSON it prints last."""
    if role.startswith("floor"):
        questions = [] if role == "floor_cad" else load_policy_by_name(policy).question_ids
        command = [sys.executable, "-c", FLOOR_CHILD, path, floor_sql(questions), str(runs)]
    else:
        command = [sys.executable, __file__, "--child", role, "--data", path, "--runs", str(runs),
                   "--sample", str(sample), "--policy", policy]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{role} failed: {done.stderr[-2000:]}")
    last = done.stdout.strip().splitlines()[-1]
    return json.loads(last[last.index("{"):])  # after anything drawn on the same line (a progress bar)


def _better(before: dict[str, Any] | None, now: dict[str, Any]) -> dict[str, Any]:
    """Two measurements of one thing (in two children) as one: the least times, the larger peak memory."""
    if before is None:
        return now
    merged = dict(now)
    for key in ("seconds", "cpu_seconds", "cold_seconds", "cold_cpu_seconds"):
        merged[key] = min(before[key], now[key])
    merged["peak_mb"] = max(before["peak_mb"], now["peak_mb"])
    return merged


def report_paths(policy_name: str, sizes: Sequence[tuple[int, int]], sample: int, runs: int,
                 rounds: int = 2) -> list[dict[str, Any]]:
    """Both replay paths at each (rows, scale): product, floor and peer measured in the same run on the same data."""
    policy = load_policy_by_name(policy_name)
    paths: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="heart-triage-bench-") as folder:
        for rows, scale in sizes:
            path = str(Path(folder) / f"calls-{rows}.parquet")
            con = ibis.duckdb.connect()
            generate_calls(con, policy, rows)
            con.raw_sql(f"COPY calls TO '{path}' (FORMAT parquet)")
            con.disconnect()
            sampled = min(sample, rows)
            # Floor and product take turns, twice, each time in a fresh child: on a machine whose load drifts (other
            # work starting and stopping), both see the same stretches of it. Each keeps its best (and its first,
            # cold, run's best); the peer runs once.
            measured: dict[str, Any] = {}
            for _ in range(rounds):
                for role in ("floor_cad", "product_distinct", "floor_answers", "product_answers"):
                    measured[role] = _better(measured.get(role), _child(role, path, runs, sampled, policy_name))
            measured["peer"] = _child("peer", path, runs, sampled, policy_name)
            peer = measured["peer"]
            for name, product, floor, scenario, floor_what in (
                (DISTINCT_PATH, measured["product_distinct"], measured["floor_cad"], "screened",
                 "bare DuckDB scan of the CAD columns (type, priority, minute, hour): per type and hour, count(*), "
                 "count_if(priority = 'P'), sum(minute)"),
                (ANSWERS_PATH, measured["product_answers"], measured["floor_answers"], "answers",
                 "bare DuckDB scan of the same 10 columns (CAD columns and the 6 answers): per type and hour, "
                 "count(*), count_if(priority = 'P'), sum(minute), count_if(answer = 'yes') for each question"),
            ):
                totals_agree = product["by_type_hour"] == floor["by_type_hour"]
                counts_agree = product["sample_counts"] == peer["counts"][scenario]
                calls_agree = product.get("decisions", peer["decisions"]) == peer["decisions"]
                per_call = " and call by call (pathway, rule, fallback, program)" if "decisions" in product else ""
                note = (f"{sampled:,} sampled calls: replay counts per pathway, type, hour and fallback equal the "
                        f"engine's{per_call}: {'yes' if counts_agree and calls_agree else 'NO'}; calls per type and "
                        f"hour over all {rows:,} equal the floor's: {'yes' if totals_agree else 'NO'}")
                peer_seconds = peer["seconds"][scenario] * rows / peer["rows"]
                paths.append({
                    "path": name, "size": f"{rows:,} generated calls", "scale": scale,
                    "product": {**_timings(product), "peak_mb": round(product["peak_mb"], 1)},
                    "floor": {"what": floor_what, **_timings(floor), "peak_mb": round(floor["peak_mb"], 1)},
                    "peer": {"what": f"the engine row by row (pandas apply of decide()) on {peer['rows']:,} calls, "
                                     f"{peer['seconds'][scenario]:.2f} s, extrapolated linearly to {rows:,}",
                             "seconds": round(peer_seconds, 2), "peak_mb": round(peer["peak_mb"], 1)},
                    "answers_match": bool(totals_agree and counts_agree and calls_agree),
                    "answer_note": note,
                })
    return paths


def _timings(measured: dict[str, Any]) -> dict[str, float]:
    """Wall and CPU seconds of the best warm run, and of the first (cold) one, rounded for the report."""
    return {key: round(measured[key], 4) for key in ("seconds", "cpu_seconds", "cold_seconds", "cold_cpu_seconds")}


def print_paths(paths: Sequence[dict[str, Any]]) -> None:
    print(f"{'path':<40}{'size':>26}{'product s':>11}{'floor s':>9}{'× floor':>9}{'CPU s prod/floor':>18}"
          f"{'× CPU':>7}{'cold s prod/floor':>19}{'× cold':>8}{'peer s':>10}{'MB prod/floor':>15}  answers")
    for item in paths:
        product, floor, peer = item["product"], item["floor"], item["peer"]
        print(f"{item['path']:<40}{item['size']:>26}{product['seconds']:>11.3f}{floor['seconds']:>9.3f}"
              f"{product['seconds'] / floor['seconds']:>9.2f}"
              f"{product['cpu_seconds']:>11.3f}/{floor['cpu_seconds']:<6.3f}"
              f"{product['cpu_seconds'] / floor['cpu_seconds']:>7.2f}"
              f"{product['cold_seconds']:>12.3f}/{floor['cold_seconds']:<6.3f}"
              f"{product['cold_seconds'] / floor['cold_seconds']:>8.2f}{peer['seconds']:>10.1f}"
              f"{product['peak_mb']:>8.0f}/{floor['peak_mb']:<6.0f}  {'match' if item['answers_match'] else 'DIFFER'}")
    for item in paths:
        print(f"  {item['path']} ×{item['scale']}: {item['answer_note']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="generated calls to replay [10,000,000]")
    parser.add_argument("--decisions", type=int, default=100_000, help="calls decided one at a time [100,000]")
    parser.add_argument("--sample", type=int, default=None,
                        help="rows the row-by-row engine runs on [100,000; --report: 50,000, --short: 2,000]")
    parser.add_argument("--policy", default="durham", help="policy name [durham]")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--report", action="store_true",
                        help="the benchmark report: both replay paths at 1 M and 10 M calls, last line JSON")
    parser.add_argument("--short", action="store_true", help="with --report: 100,000 calls only (for CI)")
    parser.add_argument("--sizes", help=argparse.SUPPRESS)  # with --report: e.g. 1000000 (calls, comma-separated)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, args.data, args.runs, args.sample, args.policy)))
        return
    if args.report:
        sizes = [(100_000, 1)] if args.short else [(1_000_000, 1), (10_000_000, 10)]
        if args.sizes:
            sizes = [(int(rows), max(1, int(rows) // 1_000_000)) for rows in args.sizes.split(",")]
        sample = args.sample or (2_000 if args.short else 50_000)
        paths = report_paths(args.policy, sizes, sample, runs=2 if args.short else 5, rounds=1 if args.short else 2)
        print_paths(paths)
        print(json.dumps({"paths": paths, "load_average": [round(x, 2) for x in os.getloadavg()]}))
        wrong = [f"{p['path']} ×{p['scale']}" for p in paths if not p["answers_match"]]
        if wrong:
            print(f"answers differ: {', '.join(wrong)}", file=sys.stderr)
            sys.exit(1)
        return
    policy = load_policy_by_name(args.policy)
    engine = engine_figures(policy, args.decisions)
    replay = replay_figures(policy, args.rows, args.sample or 100_000)
    if args.json:
        print(json.dumps({"engine": engine, "replay": replay}, indent=2))
    else:
        print(report(engine, replay))
    if not (replay["sample_agrees"] and replay["compiled_agrees"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
