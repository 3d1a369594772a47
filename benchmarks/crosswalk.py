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
import time
from dataclasses import asdict
from pathlib import Path

from heart.crosswalk.suggester import (
    CrosswalkSuggester,
    default_crosswalk_dir,
    evaluate_leave_one_city_out,
    read_examples,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HEART_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
VERA = SHARED / "taxonomy" / "vera" / "call_types_charleston_dallas_seattle.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vera", type=Path, default=VERA, help="the Vera call-type table")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    figures: dict[str, object] = {}
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
        for score in figures[label]:  # type: ignore[attr-defined]
            print(
                f"{score['city']:<11} {score['call_types']:>6} {score['labelled_calls']:>10,} "
                f"{score['accuracy']:>9.1%} {score['behavioral_health_recall']:>10.1%} {score['unsafe_calls']:>7} "
                f"{score['confident_share']:>10.1%} {score['confident_accuracy']:>9.1%} {score['seconds']:>8.3f}"
            )
    timing = figures["suggest all"]
    print(
        f"\nsuggest all {timing['call_types']} Vera call types: index {timing['index_seconds']:.3f} s, "  # type: ignore[index]
        f"suggestions {timing['suggest_seconds']:.3f} s ({timing['per_call_type_ms']:.3f} ms each)"  # type: ignore[index]
    )


if __name__ == "__main__":
    main()
