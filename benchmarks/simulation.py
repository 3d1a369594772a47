"""Capacity simulator benchmark: a year of a 6-team program with the full model, beside a bare SimPy M/M/c.

    .venv/bin/python benchmarks/simulation.py [--replications 1000] [--timed 10] [--json]

1. Full model: one simulated year of Durham's model (durham-2025 without its calibrated Co-Response backlog,
   call volume set for about 12,000 calls) with 6 field teams (4 CRT on overlapping day shifts, 2 COR) and a
   CCD clinician: triage by the policy for every call, shifts, queues with maximum wait and fallback, the
   board's travel estimator, on-scene, transport, EMS, cancellations, phone work and escalation. Timed one
   replication at a time in this process (median of ``--timed``, after one to warm the decision table).
2. Baseline: a bare SimPy M/M/c model of the same volume (the same number of calls a year, 6 servers,
   exponential service with the full model's mean busy minutes per response), timed the same way; its
   probability of waiting, mean wait and utilization are printed beside Erlang C and beside our simulator
   run as the same M/M/c (heart.simulation.theory), to show the three agree. Goal: the full model no slower.
3. ``--replications`` replications of the full model across every core (heart.simulation.runner, the
   processes ``heart simulate`` uses). Goal: 1,000 in under 2 minutes. Printed with the one-process time per
   replication as the floor (what perfect sharing over the cores would give) and the load of the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import simpy

from heart.simulation.engine import run_replication
from heart.simulation.queueing import erlang_c
from heart.simulation.runner import default_workers, replicate, summarise
from heart.simulation.scenario import ProgramSpec, ShiftSpec, compile_scenario, load_scenario
from heart.simulation.stats import t_interval
from heart.simulation.theory import queue_input

TARGET_CALLS = 12_000
WARM_UP = 5
MINUTES_PER_YEAR = 365 * 1440


def six_team_year() -> Any:
    """durham-2025 with 6 field teams and about 12,000 calls in the year."""
    base = load_scenario("durham-2025").model_copy(update={"call_volume_by_type": {}, "targets": []})
    crt = ProgramSpec(shifts=[ShiftSpec(start="10:00", end="22:00", teams=2),
                              ShiftSpec(start="11:00", end="21:00", teams=2)])
    cor = ProgramSpec(shifts=[ShiftSpec(start="06:00", end="21:00", teams=2)])
    probe = compile_scenario(base.with_changes({"CRT": crt, "COR": cor}, name="six teams"))
    expected = float(probe.simulation.demand.hourly_calls.sum())
    year_share = base.period.days / (base.period.days + base.period.warmup_days)
    volume = base.call_volume * TARGET_CALLS / (expected * year_share)
    return compile_scenario(base.model_copy(update={"call_volume": volume}).with_changes(
        {"CRT": crt, "COR": cor}, name="six-team year"))


def simpy_mmc(calls_per_minute: float, service_minutes: float, servers: int, calls: int, seed: int
              ) -> dict[str, float]:
    """A bare SimPy M/M/c: ``calls`` Poisson arrivals, exponential service, FIFO, no abandonment."""
    rng = random.Random(seed)
    env = simpy.Environment()
    team = simpy.Resource(env, capacity=servers)
    waits: list[float] = []
    busy = [0.0]

    def call(env: simpy.Environment) -> Any:
        arrived = env.now
        with team.request() as request:
            yield request
            waits.append(env.now - arrived)
            service = rng.expovariate(1 / service_minutes)
            busy[0] += service
            yield env.timeout(service)

    def source(env: simpy.Environment) -> Any:
        for _ in range(calls):
            yield env.timeout(rng.expovariate(calls_per_minute))
            env.process(call(env))

    env.process(source(env))
    env.run()
    return {"p_wait": sum(w > 0 for w in waits) / len(waits), "mean_wait": statistics.fmean(waits),
            "utilization": busy[0] / (servers * env.now)}


def timed(run: Callable[[int], Any], count: int) -> tuple[float, float, list[Any]]:
    """Median CPU seconds and median wall seconds of ``count`` runs (seeds 1..count), and their results.

    CPU time is what the comparison uses: other work on the machine stretches wall time, not CPU time."""
    cpu, wall, results = [], [], []
    for seed in range(1, count + 1):
        began, began_cpu = time.perf_counter(), time.process_time()
        results.append(run(seed))
        cpu.append(time.process_time() - began_cpu)
        wall.append(time.perf_counter() - began)
    return statistics.median(cpu), statistics.median(wall), results





# --- the benchmark report (benchmarks/report.py) -------------------------------------------------------------

REPORT_SIZES = [(100, 1), (1000, 10)]  # replications of the six-team year, scale (memory with size: 1× and 10×)
SHORT_SIZES = [(5, 1)]  # in one process each (a pool's start-up would be most of the time)
# The answers are compared on the Erlang validation case of tests/simulation/test_erlang.py (an M/M/5 at 80 %
# utilization, where waiting matters: the six-team year's queue is so lightly loaded that waits are rare), run by
# the product's simulator and by the floor's bare SimPy queue, 12 replications each, against Erlang C.
VALIDATION = {"rate": 1.0, "service": 4.0, "servers": 5, "days": 3.0}
VALIDATION_RUNS = 12
VALIDATION_FIGURES = ("p_wait", "mean_wait", "utilization")
_COMPILED: list[Any] = []


def prepare_product() -> None:
    """In the product's process, untimed: the scenario compiled (what ``heart simulate`` loads once)."""
    _COMPILED.append(six_team_year())


def product_replications(replications: int, workers: int) -> dict[str, Any]:
    """The product: ``replications`` replications of the full model on ``workers`` processes, summarised."""
    summary = summarise(replicate(_COMPILED[-1].simulation, replications=replications, seed=2025, workers=workers))
    return {name: summary.estimate(name).to_json() for name in ("CRT.reach_pct", "CRT.avg_minutes_to_scene")}


def floor_replications(queue: dict[str, Any], replications: int, workers: int) -> list[dict[str, float]]:
    """The floor: as many replications of a bare SimPy M/M/c of the same volume on as many processes (seeds
    1..``replications``, in order)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    seeds = range(1, replications + 1)
    arguments = [(queue["rate"], queue["service"], queue["servers"], queue["calls"], seed) for seed in seeds]
    if workers <= 1:
        return [simpy_mmc(*a) for a in arguments]
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method)) as pool:
        return list(pool.map(_simpy_mmc, arguments, chunksize=max(1, min(8, replications // (workers * 8)))))


def _simpy_mmc(arguments: tuple[float, float, int, int, int]) -> dict[str, float]:
    return simpy_mmc(*arguments)


def erlang_peer(queue: dict[str, Any]) -> dict[str, float]:
    """The peer: Erlang C's formula for the same queue (what a planner's spreadsheet computes)."""
    theory = erlang_c(queue["rate"], 1 / queue["service"], queue["servers"])
    return {"p_wait": theory.p_wait, "mean_wait": theory.mean_wait, "utilization": theory.utilization}


def heart_as_mmc(queue: dict[str, Any]) -> dict[str, Any]:
    """The product's simulator run as an M/M/c (heart.simulation.theory): its 95 % intervals."""
    summary = summarise(replicate(queue_input(calls_per_minute=queue["rate"], service_minutes=queue["service"],
                                              servers=queue["servers"], days=queue["days"]),
                                  replications=VALIDATION_RUNS, seed=14, workers=1))
    return {"p_wait": summary.estimate("CRT.p_wait"), "mean_wait": summary.estimate("CRT.avg_wait_minutes"),
            "utilization": summary.estimate("CRT.utilization_pct")}


def simpy_as_mmc(queue: dict[str, Any]) -> dict[str, Any]:
    """The floor's bare SimPy queue on the same M/M/c: its 95 % intervals (utilization in %, as HEART's)."""
    calls = int(queue["rate"] * queue["days"] * 1440)
    runs = [simpy_mmc(queue["rate"], queue["service"], queue["servers"], calls, seed)
            for seed in range(1, VALIDATION_RUNS + 1)]
    return {name: t_interval([run[name] * (100 if name == "utilization" else 1) for run in runs])
            for name in VALIDATION_FIGURES}


def validation_misses() -> list[str]:
    """Figures of the validation case whose 95 % interval (the product's, the floor's) misses Erlang C's."""
    theory = erlang_peer(VALIDATION)
    expected = {name: theory[name] * (100 if name == "utilization" else 1) for name in VALIDATION_FIGURES}
    misses = []
    for who, intervals in (("HEART's simulator", heart_as_mmc(VALIDATION)), ("bare SimPy", simpy_as_mmc(VALIDATION))):
        for name in VALIDATION_FIGURES:
            interval = intervals[name]
            print(f"  validation M/M/{VALIDATION['servers']}: {who:<17} {name:<11} {interval.mean:9.4f} "
                  f"±{interval.half_width:.4f}  Erlang C {expected[name]:9.4f}", flush=True)
            if not interval.contains(expected[name]):
                misses.append(f"{who} {name} {interval.mean:.4f} ±{interval.half_width:.4f} vs Erlang C "
                              f"{expected[name]:.4f}")
    return misses


def the_queue() -> dict[str, Any]:
    """The M/M/c of the six-team year's volume: calls a year, field teams, mean busy minutes per response."""
    simulation = six_team_year().simulation
    run = run_replication(simulation, 0)
    codes = [p.code for p in simulation.field_programs]
    responses = sum(float(run[f"{c}.dispatched"]) for c in codes)
    busy_hours = sum(float(run[f"{c}.utilization_pct"]) / 100 * float(run[f"{c}.team_hours"]) for c in codes)
    calls = int(run["calls"])
    return {"calls": calls, "rate": calls / MINUTES_PER_YEAR, "service": busy_hours * 60 / responses,
            "servers": sum(s.teams for p in simulation.field_programs for s in p.shifts)}


def run_report(args: argparse.Namespace) -> int:
    """``--report``: the product's replications beside the floor's and Erlang C's, each in its own process."""
    from common import emit_report, measure_child, path_entry

    sizes = SHORT_SIZES if args.short else [(count, scale) for count, scale in REPORT_SIZES
                                            if args.sizes is None or count in args.sizes]
    workers = 1 if args.short else default_workers()
    queue = the_queue()
    print(f"M/M/{queue['servers']} of the six-team year: {queue['calls']:,} calls, {queue['service']:.1f} min of "
          f"service per response; replications on {workers} process(es)", flush=True)
    misses = validation_misses()
    for miss in misses:
        print("  disagreement:", miss)
    paths = []
    for replications, scale in sizes:
        product = measure_child(product_replications, replications, workers, prepare=prepare_product)
        floor = measure_child(floor_replications, queue, replications, workers)
        peer = measure_child(erlang_peer, queue)
        for name, measured in (("full model (product)", product), ("bare SimPy M/M/c (floor)", floor),
                               ("Erlang C (peer)", peer)):
            print(f"{replications:>6,} replications  {name:<26} {measured.seconds:8.3f} s  "
                  f"{measured.cpu_seconds:8.2f} CPU s  {measured.peak_mb:7,.0f} MB", flush=True)
        reach = product.result["CRT.reach_pct"]
        paths.append(path_entry(
            "simulation", f"{replications:,} replications of a {queue['calls']:,}-call year", scale, product, floor,
            f"a bare SimPy M/M/{queue['servers']} of the same calls and mean service, as many replications on as "
            "many processes (no policy, shifts, travel or fallback)", peer, "Erlang C's formula for that queue",
            not misses,
            f"on the Erlang validation case (M/M/{VALIDATION['servers']}, {VALIDATION['rate']:g} call a minute, "
            f"{VALIDATION['service']:g} min, {VALIDATION['days']:g} days), the 95 % intervals of P(wait), mean wait "
            f"and utilization over {VALIDATION_RUNS} replications of HEART's simulator and of the floor's SimPy "
            f"queue each contain Erlang C's figure ({len(misses)} misses); full model CRT reach "
            f"{reach['mean']:.2f} % [{reach['low']:.2f}, {reach['high']:.2f}]",
            product_what=f"replications of the full model (policy, shifts, queues, travel) on {workers} process(es)"))
    return emit_report(paths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replications", type=int, default=1000)
    parser.add_argument("--timed", type=int, default=10, help="replications timed one by one")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--report", action="store_true", help="product, floor and peer for benchmarks/report.py "
                        f"({' and '.join(f'{r:,}' for r, _ in REPORT_SIZES)} replications)")
    parser.add_argument("--short", action="store_true", help=f"with --report: {SHORT_SIZES[0][0]} replications")
    parser.add_argument("--sizes", type=int, nargs="+", help="with --report: only these replication counts")
    args = parser.parse_args()
    if args.report:
        raise SystemExit(run_report(args))
    load_before = os.getloadavg()[0]

    compiled = six_team_year()
    simulation = compiled.simulation
    cold_began = time.process_time()
    run_replication(simulation, 0)  # the first replication also builds the decision table a worker keeps
    cold_cpu = time.process_time() - cold_began
    for seed in range(1000, 1000 + WARM_UP):  # as warm as a worker a few replications into a long run
        run_replication(simulation, seed)
    full_cpu, full_wall, full_runs = timed(lambda seed: run_replication(simulation, seed), args.timed)
    full_run = full_runs[-1]
    calls = int(full_run["calls"])
    codes = [p.code for p in simulation.field_programs]
    responses = sum(float(full_run[f"{c}.dispatched"]) for c in codes)
    busy_hours = sum(float(full_run[f"{c}.utilization_pct"]) / 100 * float(full_run[f"{c}.team_hours"])
                     for c in codes)
    service = busy_hours * 60 / responses  # mean busy minutes per dispatched response
    rate = calls / MINUTES_PER_YEAR
    servers = sum(s.teams for p in simulation.field_programs for s in p.shifts)

    simpy_cpu, simpy_wall, simpy_runs = timed(lambda seed: simpy_mmc(rate, service, servers, calls, seed),
                                              args.timed)
    simpy_intervals = {key: t_interval([run[key] for run in simpy_runs]) for key in simpy_runs[0]}
    simpy_figures = {key: value.mean for key, value in simpy_intervals.items()}
    theory = erlang_c(rate, 1 / service, servers)
    ours_mmc = summarise(replicate(queue_input(calls_per_minute=rate, service_minutes=service, servers=servers,
                                               days=365, warmup_days=1), replications=20, seed=7, workers=1))
    workers = default_workers()
    began = time.perf_counter()
    many = replicate(simulation, replications=args.replications, seed=2025, workers=workers)
    many_seconds = time.perf_counter() - began
    many_cpu = sum(float(run["cpu_seconds"]) for run in many)
    summary = summarise(many)
    idle_projection = many_cpu / workers
    figures: dict[str, Any] = {
        "load_average_before": round(load_before, 2), "load_average_after": round(os.getloadavg()[0], 2),
        "full_model": {"calls_per_year": calls, "field_teams": servers, "responses": int(responses),
                       "cpu_seconds_per_replication": round(full_cpu, 4), "wall_seconds": round(full_wall, 4),
                       "cpu_seconds_first_replication": round(cold_cpu, 4),
                       "crt_reach_pct": summary.estimate("CRT.reach_pct").to_json(),
                       "crt_avg_minutes_to_scene": summary.estimate("CRT.avg_minutes_to_scene").to_json()},
        "simpy_mmc": {"calls": calls, "servers": servers, "service_minutes": round(service, 2),
                      "cpu_seconds_per_replication": round(simpy_cpu, 4), "wall_seconds": round(simpy_wall, 4),
                      **{k: round(v, 5) for k, v in simpy_figures.items()}},
        "erlang_c": {"p_wait": round(theory.p_wait, 5), "mean_wait": round(theory.mean_wait, 5),
                     "utilization": round(theory.utilization, 5)},
        "heart_mmc": {name: value.to_json() for name, value in (
            ("p_wait", ours_mmc.estimate("CRT.p_wait")), ("mean_wait", ours_mmc.estimate("CRT.avg_wait_minutes")),
            ("utilization_pct", ours_mmc.estimate("CRT.utilization_pct")))},
        "full_vs_simpy_cpu": round(full_cpu / simpy_cpu, 3),
        "replications": {"count": args.replications, "workers": workers, "wall_seconds": round(many_seconds, 2),
                         "worker_cpu_seconds": round(many_cpu, 2),
                         "idle_machine_seconds": round(idle_projection, 2), "goal_seconds": 120},
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"machine load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, {workers} cores (other "
          "work shares them: times are CPU seconds, compared with the baseline measured in the same run)")
    print(f"1. full model, one year of {servers} field teams: {calls:,} calls, {int(responses):,} responses: "
          f"{full_cpu:.3f} CPU s per replication (median of {args.timed} after {WARM_UP} to warm up; wall "
          f"{full_wall:.3f} s); the very first, which also fills the decision table: {cold_cpu:.3f} CPU s")
    print(f"2. bare SimPy M/M/{servers}, {calls:,} calls, {service:.1f} min service: {simpy_cpu:.3f} CPU s per "
          f"replication (wall {simpy_wall:.3f} s) -> full model / SimPy = {full_cpu / simpy_cpu:.2f} (goal <= 1)")
    print("   agreement (P(wait), mean wait min, utilization):")
    print(f"     Erlang C                {theory.p_wait:.4f}  {theory.mean_wait:.4f}  {theory.utilization:.4f}")
    sp, sw, su = (simpy_intervals[k] for k in ("p_wait", "mean_wait", "utilization"))
    print(f"     SimPy, {args.timed:>2} runs         {sp.mean:.4f} ±{sp.half_width:.4f}  "
          f"{sw.mean:.4f} ±{sw.half_width:.4f}  {su.mean:.4f} ±{su.half_width:.4f}")
    p, w, u = (ours_mmc.estimate(n) for n in ("CRT.p_wait", "CRT.avg_wait_minutes", "CRT.utilization_pct"))
    print(f"     HEART M/M/c, 20 reps    {p.mean:.4f} ±{p.half_width:.4f}  {w.mean:.4f} ±{w.half_width:.4f}  "
          f"{u.mean / 100:.4f} ±{u.half_width / 100:.4f}")
    print(f"3. {args.replications:,} replications of the full model on {workers} processes: {many_seconds:.1f} s wall, "
          f"{many_cpu:.1f} CPU s in the workers' replications -> {idle_projection:.1f} s on {workers} idle cores "
          "(goal < 120 s)")
    reach, minutes = summary.estimate("CRT.reach_pct"), summary.estimate("CRT.avg_minutes_to_scene")
    print(f"   CRT reach {reach.mean:.2f} % ± {reach.half_width:.2f}, minutes to scene {minutes.mean:.2f} "
          f"± {minutes.half_width:.3f} (95 % t-intervals over {summary.replications} replications)")


if __name__ == "__main__":
    main()
