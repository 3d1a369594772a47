"""What every benchmark shares: measuring one thing in a child process, and the report's last line.

A benchmark that takes part in ``benchmarks/report.py`` (issue 16, the contract in the README's Benchmarks
section) accepts ``--report`` (full sizes) and ``--report --short`` (small sizes, for CI), prints whatever it
likes, and ends with ``emit_report(paths)``: one JSON object on the last line of its standard output.

``measure_child`` runs the measured thing — a command, or a function of the script — in a fresh process, so
its time, CPU time and peak memory are its own and not those of whatever ran before it:

- a function: started with ``multiprocessing``'s *spawn* (a new interpreter, nothing inherited), timed inside
  the child around the call only (imports and start-up excluded; CPU time: the child's, and its children's, from
  the call on to its exit); its return value comes back to the caller;
- a command: timed from start to exit (start-up included); its last line of output, if JSON, comes back.

Peak memory is the high-water mark of the child's resident set (``VmHWM``, not ``ru_maxrss``: Linux carries a
forking parent's resident set over into the child's ``ru_maxrss``, so a large parent would inflate a small
child); when the child starts processes of its own (a pool of workers), the resident sets of the whole process
tree are also summed every 50 ms and the larger figure is kept — pages the processes share then count once per
process, so it is an upper bound.
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
    # ru_maxrss would be no good here: the kernel carries the parent's resident set over into the child it forks
    # and keeps it across exec. A command gone before the first look (50 ms) falls back on it.
    peak = sampler.peak_mb or usage.ru_maxrss / 1024
    return Measurement(seconds, usage.ru_utime + usage.ru_stime, peak, result)


# --- a function ------------------------------------------------------------------------------------------------

def _measure_function(function: Callable[..., Any], args: tuple[Any, ...], prepare: Callable[[], Any] | None
                      ) -> Measurement:
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(send, function, args, prepare))
    process.start()
    send.close()
    assert process.pid is not None
    sampler = TreeSampler(process.pid)
    sampler.start()
    try:
        message = receive.recv()
    except EOFError:
        message = {"error": "the child died without an answer"}
    # Reaped here rather than by join(): the rusage of the child then includes every process it waited for.
    _, status, usage = os.wait4(process.pid, 0)
    sampler.stop()
    receive.close()
    popen = getattr(process, "_popen", None)
    if popen is not None:  # what join() would have recorded (multiprocessing forgets the process then)
        popen.returncode = os.waitstatus_to_exitcode(status)
    if "error" in message:
        raise ChildFailed(f"{getattr(function, '__name__', function)}: {message['error']}")
    # The process tree's CPU time read from /proc when the call returned: it also counts the workers of a pool
    # whose own process (a forkserver) outlives the call and is never waited for; else the rusage at exit.
    cpu_seconds = message["tree_cpu"]
    if cpu_seconds is None:
        cpu_seconds = usage.ru_utime + usage.ru_stime - message["cpu_before"]
    peak = max(message["high_water_mb"], sampler.tree_peak_mb)
    return Measurement(message["seconds"], cpu_seconds, peak, message["result"])


def _child(send: Any, function: Callable[..., Any], args: tuple[Any, ...], prepare: Callable[[], Any] | None
           ) -> None:
    try:
        if prepare is not None:
            prepare()
        before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_before = sum(usage.ru_utime + usage.ru_stime for usage in before)
        tree_before = tree_cpu_seconds(os.getpid())
        began = time.perf_counter()
        result = function(*args)
        seconds = time.perf_counter() - began
        tree_after = tree_cpu_seconds(os.getpid())
        tree = tree_after - tree_before if tree_after is not None and tree_before is not None else None
        high_water_mb = status_mb(os.getpid(), "VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        send.send({"seconds": seconds, "cpu_before": cpu_before, "tree_cpu": tree, "high_water_mb": high_water_mb,
                   "result": result})
    except BaseException:  # whatever failed goes back to the parent, which raises it there
        send.send({"error": traceback.format_exc(limit=8)})
    finally:
        send.close()


# --- the resident set of a process tree ------------------------------------------------------------------------

class TreeSampler:
    """Watches a process every 50 ms (Linux /proc): the high-water mark of its own resident set since it started
    its program (``VmHWM``: exact, as of the last look), and the largest sum of the resident sets of it and its
    descendants when it has any. Everything stays 0 where /proc is not there."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.high_water_mb = 0.0
        self.tree_peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def peak_mb(self) -> float:
        return max(self.high_water_mb, self.tree_peak_mb)

    def start(self) -> None:
        if Path(f"/proc/{self.pid}").exists():
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.high_water_mb = max(self.high_water_mb, status_mb(self.pid, "VmHWM"))
            pids = descendants(self.pid)
            if len(pids) > 1:
                self.tree_peak_mb = max(self.tree_peak_mb, sum(status_mb(pid, "VmRSS") for pid in pids))
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


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def tree_cpu_seconds(pid: int) -> float | None:
    """CPU seconds used so far by a process and every process below it, including the processes they have
    already waited for (/proc/<pid>/stat: utime, stime, cutime, cstime); None without /proc."""
    if not Path(f"/proc/{pid}/stat").exists():
        return None
    ticks = 0
    for member in descendants(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        ticks += sum(int(value) for value in fields[11:15])  # fields 14-17 of stat; [0] here is field 3
    return ticks / CLOCK_TICKS


def status_mb(pid: int, field: str = "VmRSS") -> float:
    """A memory figure of /proc/<pid>/status in MB: ``VmRSS`` (resident now) or ``VmHWM`` (the most resident
    since the process started its program); 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
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
