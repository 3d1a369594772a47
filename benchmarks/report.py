"""The benchmark report: every data path beside its floor and its naive peer, measured in the same run.

    .venv/bin/python benchmarks/report.py [--short] [--format table|json] [SCRIPT ...]

Runs each benchmark script that reports (``SCRIPTS``; or only the ones named, e.g. ``metrics`` or a path) in
its own process with ``--report`` (full sizes) or ``--report --short`` (small sizes: what CI runs), shows its
own output as it goes, and reads the JSON object on the last line of its output (the contract: README,
Benchmarks). Then it prints one table — for each path the product's time and peak memory, its floor's time and
the product's time as a multiple of it, the peer's time and the same multiple, and whether the answers agreed —
and a second one with each large path's peak memory at 1× and 10× its data size.

With ``--format json`` the same goes to standard output as one JSON document (the scripts' own output then goes
to standard error).

The exit status is 1 when a path's answer differs from its floor's or its peer's, or a script fails or prints no
report; never because of a time. A script listed in ``NOT_YET_REPORTING`` is skipped with ``--short`` and runs as it
is (its own output, outside the table) without it; either way the report names it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

HERE = Path(__file__).resolve().parent

SCRIPTS = ["metrics", "analytics", "triage", "crosswalk", "cad_import", "linkage", "simulation", "lifecycle",
           "board"]
"""The scripts that report data paths (benchmarks/<name>.py), in the order they run."""

NOT_YET_REPORTING: dict[str, str] = {
}
"""Scripts of ``SCRIPTS`` that do not yet accept ``--report``, and why: skipped, and the report says so. Emptied as
each one learns to report; a script that is neither here nor able to report fails the report."""

SHORT_TIMEOUT = 300  # seconds a script may take in --short mode before it counts as failed (it should take ~20)


@dataclass
class Outcome:
    """One script's run: how it ended, and its paths."""

    script: str
    seconds: float = 0.0
    status: str = "ok"  # ok | mismatch | error | unreported (ran without --report: not in the table)
    detail: str = ""
    paths: list[dict[str, Any]] = field(default_factory=list)
    load_average: list[float] | None = None


def run_script(script: Path, *, short: bool, python: str = sys.executable, echo: TextIO = sys.stdout,
               timeout: float | None = None, cwd: Path | None = None, plain: bool = False) -> Outcome:
    """Run one benchmark script with ``--report`` in its own process, echo its output, and read its report.
    ``plain``: run it as it is (no ``--report``: a script that does not report yet), for its own output only."""
    command = [python, str(script), *([] if plain else ["--report", *(["--short"] if short else [])])]
    began = time.perf_counter()
    outcome = Outcome(script.stem)
    lines: list[str] = []
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, bufsize=1,
                               cwd=cwd, start_new_session=True)
    assert process.stdout is not None
    timed_out = threading.Event()

    def stop() -> None:
        timed_out.set()
        os.killpg(process.pid, signal.SIGKILL)  # the script and whatever it started (its own session)

    watchdog = threading.Timer(timeout, stop) if timeout else None
    if watchdog:
        watchdog.start()
    try:
        for line in process.stdout:
            echo.write(f"  {line}" if line.strip() else line)
            echo.flush()
            if line.strip():
                lines.append(line.strip())
        process.wait()
    except KeyboardInterrupt:
        os.killpg(process.pid, signal.SIGKILL)
        raise
    finally:
        if watchdog:
            watchdog.cancel()
    if timed_out.is_set():
        outcome.seconds = time.perf_counter() - began
        outcome.status, outcome.detail = "error", f"still running after {timeout:.0f} s: stopped"
        return outcome
    outcome.seconds = time.perf_counter() - began
    if plain:
        outcome.status = "unreported"
        outcome.detail = "not in the table (no --report yet)" + (
            f"; exited with {process.returncode}" if process.returncode else "")
        return outcome
    report, after = last_report(lines)
    if report is None:
        outcome.status = "error"
        outcome.detail = (f"exited with {process.returncode}, " if process.returncode else "") + (
            "no report on its last line" + (f" (it ends: {lines[-1][:120]!r})" if lines else " (it printed nothing)"))
        return outcome
    paths = report["paths"]
    if after:  # the contract wants it last; a line printed after it (a failure's message) is kept in the detail
        outcome.detail = f"printed after its report: {after[0][:120]!r}"
    outcome.paths = [{"script": script.stem, **entry} for entry in paths]
    outcome.load_average = report.get("load_average")
    differing = [entry["path"] for entry in paths if entry.get("answers_match") is not True]
    if differing:
        outcome.status, outcome.detail = "mismatch", "; ".join(["answers differ: " + ", ".join(differing),
                                                                 *([outcome.detail] if outcome.detail else [])])
    elif not paths:
        outcome.status, outcome.detail = "error", "reported no path"
    elif process.returncode != 0:
        outcome.status = "error"
        outcome.detail = "; ".join([f"exited with {process.returncode} though every answer agreed",
                                    *([outcome.detail] if outcome.detail else [])])
    return outcome


def last_report(lines: list[str]) -> tuple[dict[str, Any] | None, list[str]]:
    """The report a script printed — the JSON object with a list of paths nearest the end of its output — and the
    lines it printed after it (none, when it keeps the contract)."""
    for index in range(len(lines) - 1, -1, -1):
        if not lines[index].startswith("{"):
            continue
        try:
            report = json.loads(lines[index])
        except ValueError:
            continue
        paths = report.get("paths") if isinstance(report, dict) else None
        if isinstance(paths, list) and all(isinstance(entry, dict) and "path" in entry for entry in paths):
            return report, lines[index + 1:]
    return None, []


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def rows(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    """One row per path and size: the figures the table prints, with the ratios worked out."""
    table = []
    for outcome in outcomes:
        for entry in outcome.paths:
            product, floor, peer = entry.get("product") or {}, entry.get("floor") or {}, entry.get("peer") or {}
            table.append({
                "script": outcome.script, "path": entry["path"], "size": entry.get("size", ""),
                "scale": entry.get("scale", 1),
                "product_seconds": product.get("seconds"), "product_peak_mb": product.get("peak_mb"),
                "product_cpu_seconds": product.get("cpu_seconds"),
                "floor_what": floor.get("what"), "floor_seconds": floor.get("seconds"),
                "floor_peak_mb": floor.get("peak_mb"),
                "floor_cpu_seconds": floor.get("cpu_seconds"),
                "times_floor": ratio(product.get("seconds"), floor.get("seconds")),
                "times_floor_cpu": ratio(product.get("cpu_seconds"), floor.get("cpu_seconds")),
                "peer_what": peer.get("what"), "peer_seconds": peer.get("seconds"), "peer_peak_mb": peer.get("peak_mb"),
                "peer_cpu_seconds": peer.get("cpu_seconds"),
                "times_peer": ratio(product.get("seconds"), peer.get("seconds")),
                "answers_match": entry.get("answers_match") is True, "answer_note": entry.get("answer_note", ""),
            })
    return table


def flatness(table: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each path measured at 1× and 10× its data size: the product's peak memory at both."""
    by_path: dict[str, dict[int, dict[str, Any]]] = {}
    for row in table:
        by_path.setdefault(row["path"], {})[int(row["scale"])] = row
    memory = []
    for path, scales in by_path.items():
        if 1 in scales and 10 in scales:
            one, ten = scales[1], scales[10]
            memory.append({"path": path, "size_1x": one["size"], "peak_mb_1x": one["product_peak_mb"],
                           "size_10x": ten["size"], "peak_mb_10x": ten["product_peak_mb"],
                           "growth": ratio(ten["product_peak_mb"], one["product_peak_mb"])})
    return memory


def _number(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _times(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}×"


def print_table(outcomes: list[Outcome], skipped: dict[str, str], load: tuple[list[float], list[float]],
                out: TextIO = sys.stdout) -> None:
    table = rows(outcomes)
    head = ["path", "size", "product s", "product MB", "floor s", "×floor", "×floor CPU", "peer s", "×peer", "answers"]
    lines = [[row["path"], row["size"], _number(row["product_seconds"]), _number(row["product_peak_mb"], 0),
              _number(row["floor_seconds"]), _times(row["times_floor"]), _times(row["times_floor_cpu"]),
              _number(row["peer_seconds"]),
              _times(row["times_peer"]), "agree" if row["answers_match"] else "DIFFER"] for row in table]
    print("", file=out)
    print("=" * 100, file=out)
    print("Benchmark report: product vs its floor and its naive peer, measured in the same run on the same data",
          file=out)
    print(f"load average {' '.join(f'{x:.2f}' for x in load[0])} at the start, "
          f"{' '.join(f'{x:.2f}' for x in load[1])} at the end ({os.cpu_count()} cores)", file=out)
    _columns(head, lines, out, right_from=2)
    print("×floor, ×peer: the product's seconds divided by the floor's or the peer's (under 1: faster); ×floor CPU: "
          "the same with CPU seconds (all threads and processes), steadier when other work shares the machine.",
          file=out)
    legend: dict[str, tuple[str | None, str | None, str]] = {}
    for row in table:
        legend.setdefault(row["path"], (row["floor_what"], row["peer_what"], row["answer_note"]))
    for path, (floor_what, peer_what, note) in legend.items():
        print(f"- {path}: floor = {floor_what or '—'}; peer = {peer_what or 'none'}; compared: {note}", file=out)
    memory = flatness(table)
    if memory:
        print("", file=out)
        print("Memory with size (the product's peak resident MB):", file=out)
        _columns(["path", "size 1×", "MB 1×", "size 10×", "MB 10×", "10× / 1×"],
                 [[m["path"], m["size_1x"], _number(m["peak_mb_1x"], 0), m["size_10x"], _number(m["peak_mb_10x"], 0),
                   _times(m["growth"])] for m in memory], out, right_from=2)
    for outcome in outcomes:
        if outcome.status in ("error", "mismatch"):
            print(f"{outcome.script}: {outcome.status.upper()}: {outcome.detail}", file=out)
    if skipped:
        print("", file=out)
        print(f"skipped (not yet reporting, listed in report.py NOT_YET_REPORTING): {', '.join(skipped)}", file=out)
        for name, why in skipped.items():
            print(f"  {name}: {why}", file=out)
    print(f"scripts: {', '.join(f'{o.script} {o.seconds:.0f} s {o.status}' for o in outcomes)}", file=out)


def _columns(head: list[str], lines: list[list[str]], out: TextIO, right_from: int) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(head, *lines, strict=True)]

    def line(cells: list[str]) -> str:
        return " | ".join(str(cell).rjust(width) if index >= right_from else str(cell).ljust(width)
                          for index, (cell, width) in enumerate(zip(cells, widths, strict=True)))

    print(line(head), file=out)
    print("-+-".join("-" * width for width in widths), file=out)
    for cells in lines:
        print(line(cells), file=out)


def as_json(outcomes: list[Outcome], skipped: dict[str, str], load: tuple[list[float], list[float]],
            short: bool) -> dict[str, Any]:
    table = rows(outcomes)
    return {"short": short, "ok": all(o.status in ("ok", "unreported") for o in outcomes),
            "load_average_start": load[0], "load_average_end": load[1], "cores": os.cpu_count(),
            "paths": table, "memory": flatness(table),
            "scripts": [{"script": o.script, "status": o.status, "detail": o.detail, "seconds": round(o.seconds, 1)}
                        for o in outcomes],
            "skipped": skipped}


def resolve(names: list[str]) -> tuple[list[Path], dict[str, str]]:
    """The scripts to run, and the ones skipped because they do not report yet (only when none is named)."""
    if not names:
        chosen = [HERE / f"{name}.py" for name in SCRIPTS if name not in NOT_YET_REPORTING]
        return chosen, {name: why for name, why in NOT_YET_REPORTING.items() if name in SCRIPTS}
    chosen = []
    for name in names:
        path = Path(name)
        if not path.suffix:
            path = HERE / f"{name}.py"
        if not path.exists():
            raise SystemExit(f"no benchmark script {name} (known: {', '.join(SCRIPTS)})")
        chosen.append(path)
    return chosen, {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scripts", nargs="*", help="only these (a name in SCRIPTS, or a path to a script)")
    parser.add_argument("--short", action="store_true", help="small sizes: checks answers in seconds (CI)")
    parser.add_argument("--format", choices=["table", "json"], default="table")
    parser.add_argument("--python", default=sys.executable, help="the interpreter the scripts run with")
    parser.add_argument("--timeout", type=float, help=f"seconds per script (default: none; {SHORT_TIMEOUT} with "
                                                      "--short)")
    args = parser.parse_args(argv)
    scripts, skipped = resolve(args.scripts)
    echo = sys.stderr if args.format == "json" else sys.stdout
    timeout = args.timeout or (SHORT_TIMEOUT if args.short else None)
    load_start = [round(x, 2) for x in os.getloadavg()]
    for name, why in skipped.items():
        print(f"skipping {name}{' in the table' if not args.short else ''}: not yet reporting ({why})", file=echo)
    # Without --short, a script that does not report yet still runs as it is, so `make bench` keeps its figures.
    plain = set() if args.short else {HERE / f"{name}.py" for name in skipped}
    runs = [script for script in [HERE / f"{name}.py" for name in SCRIPTS] if script in scripts or script in plain]
    runs += [script for script in scripts if script not in runs]
    outcomes = []
    for index, script in enumerate(runs, 1):
        flags = "" if script in plain else f" --report{' --short' if args.short else ''}"
        print(f"[{index}/{len(runs)}] {script.name}{flags} (load average {os.getloadavg()[0]:.2f})", file=echo,
              flush=True)
        outcome = run_script(script, short=args.short, python=args.python, echo=echo, timeout=timeout,
                             plain=script in plain)
        outcomes.append(outcome)
        print(f"[{index}/{len(runs)}] {script.name}: {outcome.status} in {outcome.seconds:.1f} s"
              + (f" — {outcome.detail}" if outcome.detail else ""), file=echo, flush=True)
    load = (load_start, [round(x, 2) for x in os.getloadavg()])
    if args.format == "json":
        print(json.dumps(as_json(outcomes, skipped, load, args.short), indent=2))
    else:
        print_table(outcomes, skipped, load)
    return 0 if all(outcome.status in ("ok", "unreported") for outcome in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
