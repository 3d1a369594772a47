"""Linkage benchmark: time, peak memory, precision and recall on generated records and on FEBRL.

    .venv/bin/python benchmarks/linkage.py [--sizes 100000 1000000] [--no-febrl] [--json]

Each size runs in its own process, so "peak RSS" is that run's own high-water mark (generation included,
since the records are made in the same process; its time is printed apart). Beside each run: a naive peer
that calls two records one person when normalised first name, last name and date of birth are all equal,
to show what probabilistic linkage buys. FEBRL runs twice: names, date of birth and address only
(``febrlN``), then with the set's identity number in the phone slot (``febrlN+number``), each with
``training="estimate"`` (the shipped model's structure, u and m re-estimated on the set without its labels; see
heart.neighbors.linkage.febrl). Precision and recall are given pairwise (links at the threshold) and by cluster
(pair-counting over clusters), see heart.neighbors.linkage.accuracy. The machine is shared:
the load average before and after each run is printed, read the times with it, and the CPU seconds the link
took (all of its threads: on a busy machine the wall time grows, the CPU time much less).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import time
from typing import Any

from heart.neighbors.linkage import febrl
from heart.neighbors.linkage.accuracy import cluster_accuracy, exact_clusters, pairwise_accuracy
from heart.neighbors.linkage.engine import DEFAULT_THRESHOLD, link_records
from heart.neighbors.linkage.records import prepare
from heart.neighbors.linkage.synthetic import generate_records


def _naive(records: Any, identity: Any) -> dict[str, float]:
    prepared = prepare(records)
    key = prepared["first_name"] + "|" + prepared["last_name"] + "|" + prepared["dob"]
    import pandas as pd

    keys = key.where(key.notna(), prepared["unique_id"])  # a record missing a part is alone
    clusters = pd.DataFrame({"record_id": prepared["unique_id"], "neighbor_key": keys})
    score = cluster_accuracy(clusters, identity)
    return {"precision": score.precision, "recall": score.recall}


def _run(kind: str, size: int, queue: Any) -> None:
    started = time.perf_counter()
    if kind == "generated":
        data = generate_records(size, seed=2024)
        records, identity, name = data.records, data.person_of_record, f"generated {len(data.records):,}"
    else:
        febrl_set = febrl.load(kind.removesuffix("+number"), number_as_phone=kind.endswith("+number"))
        records, identity, name = febrl_set.records, febrl_set.person_of_record, kind
    generated, cpu_before = time.perf_counter(), time.process_time()
    # HEART's own records link with the shipped model; another source's with its m and u estimated on the data at
    # hand (EM, no labels), as heart.neighbors.linkage.febrl says why
    result = link_records(records, training="shipped" if kind == "generated" else "estimate")
    linked, cpu_after = time.perf_counter(), time.process_time()
    pairwise = pairwise_accuracy(result.pairs, identity, threshold=DEFAULT_THRESHOLD)
    clusters = cluster_accuracy(result.clusters, identity)
    queue.put({
        "data": name, "records": len(records), "prepare_seconds": generated - started,
        "link_seconds": linked - generated, "link_cpu_seconds": cpu_after - cpu_before,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "scored_pairs": len(result.pairs), "pairwise_precision": pairwise.precision, "pairwise_recall": pairwise.recall,
        "cluster_precision": clusters.precision, "cluster_recall": clusters.recall,
        "exact_clusters": exact_clusters(result.clusters, identity), "naive": _naive(records, identity),
    })  # fmt: skip


def _measure(kind: str, size: int) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    queue: Any = multiprocessing.get_context("spawn").Queue()
    process = multiprocessing.get_context("spawn").Process(target=_run, args=(kind, size, queue))
    process.start()
    figures: dict[str, Any] = queue.get()
    process.join()
    figures["load_before"], figures["load_after"] = load_before, os.getloadavg()[0]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--no-febrl", action="store_true", help="generated records only")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    runs = [("generated", size) for size in args.sizes]
    if not args.no_febrl:
        # each FEBRL set twice: as a neighbor record would hold it, then with its identity number as the phone
        runs += [(name + number, 0) for number in ("", "+number") for name in ("febrl1", "febrl2", "febrl3", "febrl4")]
    print(f"linkage benchmark on {os.cpu_count()} cores, threshold {DEFAULT_THRESHOLD}; load average now "
          f"{os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    header = (f"{'data':<20} {'records':>9} {'prep s':>7} {'link s':>7} {'peak MB':>8} {'pairs':>10} "
              f"{'pair P':>7} {'pair R':>7} {'clus P':>7} {'clus R':>7} {'exact':>6} {'naive P':>8} "
              f"{'naive R':>8} {'load':>9}")  # fmt: skip
    if not args.json:
        print(header, flush=True)
    results = []
    for kind, size in runs:
        f = _measure(kind, size)
        results.append(f)
        if not args.json:
            print(f"{f['data']:<20} {f['records']:>9,} {f['prepare_seconds']:>7.1f} {f['link_seconds']:>7.1f} "
                  f"{f['link_cpu_seconds']:>6.1f} {f['peak_rss_mb']:>8.0f} {f['scored_pairs']:>10,} "
                  f"{f['pairwise_precision']:>7.2%} "
                  f"{f['pairwise_recall']:>7.2%} {f['cluster_precision']:>7.2%} {f['cluster_recall']:>7.2%} "
                  f"{f['exact_clusters']:>6.1%} {f['naive']['precision']:>8.2%} {f['naive']['recall']:>8.2%} "
                  f"{f['load_before']:>4.1f}→{f['load_after']:<4.1f}", flush=True)  # fmt: skip
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
