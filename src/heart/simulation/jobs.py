"""Simulation runs started from the page: one at a time in a background thread (each spreading its
replications over the cores in worker processes), a few more queued, the rest refused; never on the
server's event loop.

A run's state and result are small JSON files in a folder of the machine's temporary directory, so any server
process can answer "how far along is run X?" and show its result, whichever process started it. Runs hold
simulated figures only (no personal data) and are removed after a day.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import secrets
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heart.errors import Conflict

if TYPE_CHECKING:  # the simulator is imported when a run starts, so a server process starts fast
    from heart.simulation.scenario import CompiledScenario, Scenario

MAX_WAITING = 2
"""Runs that may wait behind the one running; more are refused (the machine has only so many cores)."""
KEEP_SECONDS = 24 * 3600
_RUN_ID_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

log = logging.getLogger("heart")
_queue: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
_lock = threading.Lock()
_waiting = 0
_worker: threading.Thread | None = None


def _work() -> None:
    while True:
        _execute(*_queue.get())


def _submit(*job: Any) -> None:
    """Hand a run to the one background thread (a daemon: stopping the server never waits for a run)."""
    global _worker
    with _lock:
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_work, name="heart-simulation", daemon=True)
            _worker.start()
    _queue.put(job)


class SimulatorBusy(Conflict):
    """Too many runs already waiting."""


def runs_dir() -> Path:
    folder = Path(tempfile.gettempdir()) / f"heart-simulation-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _path(run_id: str) -> Path | None:
    if not run_id or len(run_id) > 40 or not set(run_id) <= _RUN_ID_CHARS:
        return None
    return runs_dir() / f"{run_id}.json"


def _write(run_id: str, state: dict[str, Any]) -> None:
    path = _path(run_id)
    assert path is not None
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps(state), encoding="utf-8")
    partial.replace(path)  # atomic: a reader sees the old state or the new one, never half


def read_run(run_id: str) -> dict[str, Any] | None:
    """The run's state: queued / running (done of total) / finished (with its result) / failed; None if unknown."""
    path = _path(run_id)
    if path is None or not path.is_file():
        return None
    try:
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # being replaced this instant: ask again
        return {"state": "running", "done": 0, "total": 0}
    return loaded


def start_run(*, baseline: Scenario, changed: Scenario | None, replications: int, seed: int,
              workers: int | None = None) -> str:
    """Queue a run of ``baseline`` (and ``changed`` on the same random streams); returns its id."""
    global _waiting
    from heart.simulation.scenario import compile_scenario

    compiled = [compile_scenario(baseline)] + ([compile_scenario(changed)] if changed is not None else [])
    with _lock:
        if _waiting >= MAX_WAITING + 1:
            raise SimulatorBusy("the simulator is busy with other runs; try again in a minute")
        _waiting += 1
    _forget_old_runs()
    run_id = secrets.token_urlsafe(12)
    total = replications * len(compiled)
    _write(run_id, {"state": "queued", "done": 0, "total": total, "scenario": baseline.scenario})
    _submit(run_id, compiled, replications, seed, workers)
    return run_id


def _execute(run_id: str, compiled: list[CompiledScenario], replications: int, seed: int,
             workers: int | None) -> None:
    global _waiting
    from heart.simulation.runner import replicate

    total = replications * len(compiled)
    last = [0.0]
    try:
        runs = []
        for position, scenario in enumerate(compiled):
            offset = position * replications

            def tick(done: int, _: int, offset: int = offset) -> None:
                now = time.monotonic()
                if now - last[0] > 0.25 or done == replications:
                    last[0] = now
                    _write(run_id, {"state": "running", "done": offset + done, "total": total})

            runs.append(replicate(scenario.simulation, replications=replications, seed=seed, workers=workers,
                                  progress=tick))
        _write(run_id, {"state": "finished", "done": total, "total": total,
                        "result": _result(compiled, runs, seed)})
    except Exception as error:  # the page says it failed; the log names only the error's type
        _write(run_id, {"state": "failed", "done": 0, "total": total,
                        "error": f"the run failed ({type(error).__name__})"})
        log.error("simulation run failed: %s", type(error).__name__)
    finally:
        with _lock:
            _waiting -= 1


def _result(compiled: list[CompiledScenario], runs: list[list[Any]], seed: int) -> dict[str, Any]:
    from heart.simulation.report import figures_of, report_json, scaled
    from heart.simulation.runner import paired_differences, summarise

    baseline = report_json(compiled[0], summarise(runs[0]), seed=seed)
    if len(compiled) == 1:
        return {"baseline": baseline, "scenario": None, "differences": {}}
    scenario = report_json(compiled[1], summarise(runs[1]), seed=seed)
    raw = paired_differences(runs[0], runs[1])
    differences = {code: {name: scaled(raw[f"{code}.{name}"], scale).to_json()
                          for name, _, _, scale in figures_of(compiled[0], code) if f"{code}.{name}" in raw}
                   for code in compiled[0].simulation.program_codes()}
    return {"baseline": baseline, "scenario": scenario, "differences": differences}


def _forget_old_runs() -> None:
    cutoff = time.time() - KEEP_SECONDS
    for path in runs_dir().glob("*.json"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            continue
