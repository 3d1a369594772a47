"""Crosswalk benchmark: leave-one-city-out quality on the Vera call types, and suggestion time.

    .venv/bin/python benchmarks/crosswalk.py [--vera PATH] [--json]

For each of Charleston, Dallas and Seattle, suggestions are learnt from the two other cities only and
scored against the Vera coders' categories: count-weighted category accuracy, Behavioral Health recall
(count-weighted), and unsafe calls (Violent Crime / Domestic Violence / Officer Needs Help, or a call type
naming a weapon or violence, mapped to an incident type an unarmed team is sent to; the goal is 0).
"Neighbours only" switches the keyword rules off, to show what the n-gram neighbours learn by themselves.
Then: the time to suggest every row of the Vera table (2,490 call types) with an index of the three
cities' shipped crosswalks.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from heart.crosswalk.suggester import (
    CrosswalkSuggester,
    default_crosswalk_dir,
    evaluate_leave_one_city_out,
    read_examples,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HEART_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
VERA = SHARED / "taxonomy" / "vera" / "call_types_charleston_dallas_seattle.csv"


# --- the benchmark report (issue 16): "crosswalk suggestions", each measured thing in a child process -------

PATH = "crosswalk suggestions"


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM: ru_maxrss would include the parent's, inherited at fork)."""
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def _call_types(vera: Path) -> list[tuple[str, int]]:
    with vera.open(newline="", encoding="utf-8") as handle:  # every row, as a CAD export would list them
        return [(row["Field 1"], int(row["Count"])) for row in csv.DictReader(handle)]


def run_child(role: str, vera: Path, runs: int, sample: int) -> dict[str, object]:
    """One measured thing in this (child) process: seconds (best of ``runs``), peak memory, each row's category."""
    examples = read_examples(default_crosswalk_dir())
    call_types = _call_types(vera)
    if role == "product":  # the suggester: index the reviewed crosswalks, then suggest every row
        def work() -> list[str]:
            suggester = CrosswalkSuggester(examples)
            return [suggester.suggest(raw, count).category for raw, count in call_types]
    elif role == "floor":  # an exact-match dictionary lookup of every row
        def work() -> list[str]:
            exact: dict[str, str] = {}
            for example in examples:
                exact.setdefault(example.raw, example.category or "")
            return [exact.get(raw, "") for raw, _ in call_types]
    else:  # the peer: a naive scan, Jaro-Winkler of each row against every example, on ``sample`` rows
        import jellyfish

        call_types = call_types[:sample]
        lowered = [(example.raw.lower(), example.category or "") for example in examples]

        def work() -> list[str]:
            found = []
            for raw, _ in call_types:
                text = raw.lower()
                found.append(max(lowered, key=lambda pair: jellyfish.jaro_winkler_similarity(text, pair[0]))[1])
            return found
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = work()
        times.append(time.perf_counter() - started)
    return {"seconds": min(times), "peak_mb": _peak_mb(), "rows": len(call_types), "categories": answer}


def _child(role: str, vera: Path, runs: int, sample: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", role, "--vera", str(vera), "--runs", str(runs),
               "--sample", str(sample)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{role} failed: {done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def report_path(vera: Path, *, short: bool) -> dict[str, Any]:
    """The "crosswalk suggestions" path: product, floor and peer in the same run on the Vera table."""
    runs, sample = (1, 50) if short else (3, 400)
    product, floor, peer = (_child(role, vera, runs, sample) for role in ("product", "floor", "peer"))
    rows = int(product["rows"])
    exact = [(i, category) for i, category in enumerate(floor["categories"]) if category]
    suggested = product["categories"]
    agree = sum(1 for i, category in exact if suggested[i] == category)
    peer_rows = int(peer["rows"])
    peer_agree = sum(1 for i, category in exact if i < peer_rows and peer["categories"][i] == category)
    peer_exact = sum(1 for i, _ in exact if i < peer_rows)
    peer_seconds = float(peer["seconds"]) * rows / peer_rows
    return {
        "path": PATH, "size": f"{rows:,} Vera call types (Charleston, Dallas, Seattle); one size only, the table is "
                              "small", "scale": 1,
        "product": {"seconds": round(float(product["seconds"]), 4),
                    "peak_mb": round(float(product["peak_mb"]), 1)},
        "floor": {"what": "an exact-match dictionary lookup of every row in the reviewed crosswalks (cad/crosswalks)",
                  "seconds": round(float(floor["seconds"]), 5),
                  "peak_mb": round(float(floor["peak_mb"]), 1)},
        "peer": {"what": f"a naive scan: Jaro-Winkler (jellyfish) of each row against every reviewed example, the "
                         f"best one's category; {peer_rows:,} rows in {float(peer['seconds']):.2f} s"
                         + ("" if peer_rows == rows else f", extrapolated to {rows:,}"),
                 "seconds": round(peer_seconds, 3), "peak_mb": round(float(peer["peak_mb"]), 1)},
        "answers_match": agree == len(exact),
        "answer_note": (f"{len(exact):,} of {rows:,} rows are written exactly as in a reviewed crosswalk: the "
                        f"suggester's category equals the exact match's for {agree:,}; the peer's for {peer_agree:,} "
                        f"of the {peer_exact:,} it ran on"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vera", type=Path, default=VERA, help="the Vera call-type table")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--report", action="store_true", help="the benchmark report's path, last line JSON")
    parser.add_argument("--short", action="store_true", help="with --report: one run each, the peer on 50 rows")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--sample", type=int, default=2_490, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, args.vera, args.runs, args.sample)))
        return
    if args.report:
        item = report_path(args.vera, short=args.short)
        product, floor, peer = item["product"], item["floor"], item["peer"]
        print(f"{PATH}: {item['size']}")
        print(f"  product {product['seconds']:.3f} s ({product['peak_mb']:.0f} MB) · floor {floor['seconds']:.4f} s "
              f"({floor['peak_mb']:.0f} MB) · peer {peer['seconds']:.2f} s ({peer['peak_mb']:.0f} MB)")
        print(f"  {item['answer_note']}")
        print(json.dumps({"paths": [item], "load_average": [round(x, 2) for x in os.getloadavg()]}))
        if not item["answers_match"]:
            print(f"answers differ: {PATH}", file=sys.stderr)
            sys.exit(1)
        return

    figures: dict[str, Any] = {}
    for label, use_rules in (("rules + neighbours", True), ("neighbours only", False)):
        figures[label] = [asdict(score) for score in evaluate_leave_one_city_out(args.vera, use_rules=use_rules)]

    with args.vera.open(newline="", encoding="utf-8") as handle:  # every row, as a CAD export would list them
        call_types = [(row["Field 1"], int(row["Count"])) for row in csv.DictReader(handle)]
    started = time.perf_counter()
    suggester = CrosswalkSuggester(read_examples(default_crosswalk_dir()))
    built = time.perf_counter()
    suggester.suggest_all(call_types)
    done = time.perf_counter()
    figures["suggest all"] = {
        "call_types": len(call_types),
        "index_seconds": built - started,
        "suggest_seconds": done - built,
        "per_call_type_ms": 1000 * (done - built) / len(call_types),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for label in ("rules + neighbours", "neighbours only"):
        print(f"\nleave one city out, {label}")
        print(f"{'city':<11} {'types':>6} {'calls':>10} {'accuracy':>9} {'BH recall':>10} {'unsafe':>7} "
              f"{'conf>=0.9':>10} {'its acc.':>9} {'seconds':>8}")  # fmt: skip
        for score in figures[label]:
            print(
                f"{score['city']:<11} {score['call_types']:>6} {score['labelled_calls']:>10,} "
                f"{score['accuracy']:>9.1%} {score['behavioral_health_recall']:>10.1%} {score['unsafe_calls']:>7} "
                f"{score['confident_share']:>10.1%} {score['confident_accuracy']:>9.1%} {score['seconds']:>8.3f}"
            )
    timing = figures["suggest all"]
    print(
        f"\nsuggest all {timing['call_types']} Vera call types: index {timing['index_seconds']:.3f} s, "
        f"suggestions {timing['suggest_seconds']:.3f} s ({timing['per_call_type_ms']:.3f} ms each)"
    )


if __name__ == "__main__":
    main()
