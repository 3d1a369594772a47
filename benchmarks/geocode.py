"""Geocoding benchmark: how often the right address comes first, and how long a lookup takes.

    .venv/bin/python benchmarks/geocode.py [--sample 2000] [--seed 15] [--json]

The city's address points are the demo's Durham set (cities/durham/addresses/demo.csv, about 9,300
addresses); the sample is that many of them, each typed with one to three mistakes as a hurried call-taker might
(heart.places.accuracy: letters dropped, doubled, swapped or wrong; suffixes and directions spelt out, misspelt or
left out; case, punctuation, "apt", the city and ZIP code). Beside HEART's geocoder, a naive peer that looks the
typed text up by its exact normalised key (abbreviations and case made uniform, no fuzziness), to show what
matching typos buys. Lookup times are per address, one process, on a shared machine: the load average is printed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import time

from heart.config import Settings
from heart.places.accuracy import measure, misspelled_sample
from heart.places.geocoder import AddressIndex, Match, Point
from heart.places.normalise import parse
from heart.places.rules import load_place_rules


class ExactKey:
    """The naive peer: the typed address's normalised key must equal an address point's."""

    def __init__(self, points: list[Point], index: AddressIndex) -> None:
        self.words = index.words
        self.by_key = {parse(p.address, self.words).key: p for p in points}

    def lookup(self, text: str, limit: int = 5) -> list[Match]:
        point = self.by_key.get(parse(text, self.words).key)
        return [Match(point.address, point.lat, point.lon, point.beat, 1.0)] if point else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    settings = Settings(env="test")
    words = load_place_rules(settings.places_file).geocoding.words
    with settings.addresses_file.open(encoding="utf-8") as handle:
        points = [Point(row["address"], None, float(row["lat"]), float(row["lon"]), row["beat"])
                  for row in csv.DictReader(handle)]
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    index = AddressIndex(points, words)
    build_seconds = time.perf_counter() - started
    sample = misspelled_sample([p.address for p in points], args.sample, seed=args.seed)
    results = {}
    for name, geocoder in (("heart", index), ("exact key (naive)", ExactKey(points, index))):
        timings = []
        for typed in sample[:200]:
            begun = time.perf_counter()
            geocoder.lookup(typed.text, 5)
            timings.append((time.perf_counter() - begun) * 1000)
        result = measure(geocoder, sample)
        results[name] = {"first": result.share_first, "top5": result.top_five / result.total,
                         "ms_median": statistics.median(timings),
                         "ms_p95": statistics.quantiles(timings, n=20)[-1], "total": result.total}
    report = {"addresses": index.size, "streets": len(index.streets), "index_seconds": build_seconds,
              "sample": len(sample), "seed": args.seed, "load_before": load_before,
              "load_after": os.getloadavg()[0], "results": results}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"geocoding {len(sample):,} misspelt addresses among {index.size:,} address points on "
          f"{len(index.streets)} streets (index built in {build_seconds * 1000:.0f} ms; load "
          f"{load_before:.1f} -> {report['load_after']:.1f})")
    for name, row in results.items():
        print(f"  {name:18s} right address first {row['first']:6.1%}  in the first five {row['top5']:6.1%}  "
              f"lookup median {row['ms_median']:.2f} ms, p95 {row['ms_p95']:.2f} ms")


if __name__ == "__main__":
    main()
