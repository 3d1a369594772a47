"""What every benchmark shares: measuring one thing in a child process, and the report's last line.

A benchmark that takes part in ``benchmarks/report.py`` (issue 16, the contract in the README's Benchmarks
section) accepts ``--report`` (full sizes) and ``--report --short`` (small sizes, for CI), prints whatever it
likes, and ends with ``emit_report(paths)``: one JSON object on the last line of its standard output.

``measure_child`` runs the measured thing — a command, or a function of the script — in a fresh process, so
its time, CPU time and peak memory are its own and not those of whatever ran before it:

- a function: started with ``multiprocessing``'s *spawn* (a new interpreter, nothing inherited), timed inside
  the child around the call only (imports and start-up excluded); its return value comes back to the caller;
- a command: timed from start to exit (start-up included); its last line of output, if JSON, comes back.

Peak memory is the largest resident set of the child (``ru_maxrss``, which the kernel also keeps for the
child's own children); when the child starts processes of its own (a pool of workers), the resident sets of
the whole process tree are also summed every 50 ms and the larger figure is kept — pages the processes share
then count once per process, so it is an upper bound.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SAMPLE_SECONDS = 0.05


@dataclass(frozen=True)
class Measurement:
    """One measured run: wall seconds, CPU seconds (all threads, and children waited for), peak resident MB,
    and what the run answered (the function's return value, or a command's last line of JSON)."""

    seconds: float
    cpu_seconds: float
    peak_mb: float
    result: Any = None

    def figures(self, what: str | None = None) -> dict[str, Any]:
        """The measurement as the report's ``product`` / ``floor`` / ``peer`` object."""
        figures: dict[str, Any] = {"what": what} if what is not None else {}
        figures.update(seconds=round(self.seconds, 4), cpu_seconds=round(self.cpu_seconds, 4),
                       peak_mb=round(self.peak_mb, 1))
        return figures


def measure_child(target: Sequence[str] | Callable[..., Any], *args: Any, prepare: Callable[[], Any] | None = None,
                  cwd: str | Path | None = None, env: dict[str, str] | None = None) -> Measurement:
    """Run ``target`` (a command, or a module-level function called with ``args``) in a fresh process and
    measure it. ``prepare`` (a module-level function) runs in the child first, untimed: to import what the
    function imports lazily (the time to import a library is not its speed). A failing command or function
    raises ``ChildFailed`` with what it printed or raised."""
    if callable(target):
        return _measure_function(target, args, prepare)
    return _measure_command(list(target), cwd=cwd, env=env)


class ChildFailed(RuntimeError):
    """The measured process failed; the message says how."""


# --- a command -------------------------------------------------------------------------------------------------

def _measure_command(command: list[str], *, cwd: str | Path | None, env: dict[str, str] | None) -> Measurement:
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        began = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True, cwd=cwd, env=env)
        sampler = TreeSampler(process.pid)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)  # the child's own rusage, not every child's so far
        seconds = time.perf_counter() - began
        sampler.stop()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise ChildFailed(f"{command[:3]}… exited with {process.returncode}: {stderr.strip()[-2000:]}")
    lines = stdout.strip().splitlines()
    result: Any = None
    if lines:
        try:
            result = json.loads(lines[-1])
        except ValueError:
            result = None
    peak = max(usage.ru_maxrss / 1024, sampler.peak_mb)
    return Measurement(seconds, usage.ru_utime + usage.ru_stime, peak, result)


# --- a function ------------------------------------------------------------------------------------------------

def _measure_function(function: Callable[..., Any], args: tuple[Any, ...], prepare: Callable[[], Any] | None
                      ) -> Measurement:
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(send, function, args, prepare))
    process.start()
    send.close()
    sampler = TreeSampler(process.pid)
    sampler.start()
    try:
        message = receive.recv()
    except EOFError:
        message = {"error": "the child died without an answer"}
    process.join()
    sampler.stop()
    receive.close()
    if "error" in message:
        raise ChildFailed(f"{getattr(function, '__name__', function)}: {message['error']}")
    peak = max(float(message["peak_mb"]), sampler.peak_mb)
    return Measurement(message["seconds"], message["cpu_seconds"], peak, message["result"])


def _child(send: Any, function: Callable[..., Any], args: tuple[Any, ...], prepare: Callable[[], Any] | None
           ) -> None:
    try:
        if prepare is not None:
            prepare()
        began, cpu = time.perf_counter(), time.process_time()
        result = function(*args)
        seconds = time.perf_counter() - began
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_seconds = time.process_time() - cpu + children.ru_utime + children.ru_stime
        peak_kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, children.ru_maxrss)
        send.send({"seconds": seconds, "cpu_seconds": cpu_seconds, "peak_mb": peak_kb / 1024, "result": result})
    except BaseException:  # noqa: BLE001 — whatever failed goes back to the parent, which raises it there
        send.send({"error": traceback.format_exc(limit=8)})
    finally:
        send.close()


# --- the resident set of a process tree ------------------------------------------------------------------------

class TreeSampler:
    """Sums the resident set of a process and its descendants every 50 ms (Linux /proc) and keeps the largest;
    0 where /proc is not there."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        if Path(f"/proc/{self.pid}").exists():
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = descendants(self.pid)
            if len(pids) > 1:  # one process alone: its ru_maxrss is exact, sampling adds nothing
                self.peak_mb = max(self.peak_mb, sum(resident_mb(pid) for pid in pids))
            self._stop.wait(SAMPLE_SECONDS)


def descendants(pid: int) -> list[int]:
    """The process and every process below it (from /proc/<pid>/task/<tid>/children)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                queue.extend(int(child) for child in Path(f"/proc/{current}/task/{task}/children").read_text().split())
            except OSError:
                continue
    return found


def resident_mb(pid: int) -> float:
    """The current resident set of a process, in MB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# --- the report's last line ------------------------------------------------------------------------------------

def path_entry(path: str, size: str, scale: int, product: Measurement, floor: Measurement, floor_what: str,
               peer: Measurement | None, peer_what: str | None, answers_match: bool, answer_note: str,
               product_what: str | None = None) -> dict[str, Any]:
    """One data path of the report, in the contract's shape."""
    return {"path": path, "size": size, "scale": scale, "product": product.figures(product_what),
            "floor": floor.figures(floor_what), "peer": peer.figures(peer_what) if peer is not None else None,
            "answers_match": answers_match, "answer_note": answer_note}


def emit_report(paths: list[dict[str, Any]]) -> int:
    """Print which paths' answers differ (if any), then the report's JSON as the last line of standard output;
    the exit status the script should end with: 1 if an answer differs, else 0."""
    mismatched = [entry for entry in paths if not entry.get("answers_match")]
    for entry in mismatched:
        print(f"ANSWERS DIFFER: {entry['path']} ({entry['size']}): {entry.get('answer_note', '')}")
    sys.stdout.flush()
    print(json.dumps({"paths": paths, "load_average": [round(x, 2) for x in os.getloadavg()]}), flush=True)
    return 1 if mismatched else 0
