"""Linkage benchmark: time, peak memory, precision and recall on generated records and on FEBRL.

    .venv/bin/python benchmarks/linkage.py [--sizes 100000 1000000] [--no-febrl] [--json]
    .venv/bin/python benchmarks/linkage.py --report [--short]

``--report`` (issue 16's contract) links 100,000 generated records (scale 1) and 1,000,000 (scale 10) —
``--short``: 10,000 — each in a fresh process reading the same records from a Parquet file written first, beside a
floor and a peer measured in the same run on the same records, and ends with one JSON line. The floor is what
any run of this model must do before scoring: normalise the records (``prepare``) and count, in DuckDB, the
distinct candidate pairs the blocking rules bring together (a self-join per rule, unioned). The peer (up to
100,000 records) is the ``recordlinkage`` package's own pipeline on the normalised records: block on date of
birth, phone, full name, and postcode with the surname's Soundex; compare names (Jaro-Winkler ≥ 0.85), date of
birth, phone, address (≥ 0.85) and postcode; classify with its unsupervised ECM. ``answers_match`` is the goal:
precision and recall above 95%, pairwise and by cluster, and every pair HEART scored is one of the floor's
candidates.

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
import sys
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


GOAL = 0.95  # issue 12: precision and recall above 95%


def _peak_mb() -> float:
    """This process's resident high-water mark (VmHWM: unlike ru_maxrss, not inherited from a forking parent)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _child(function_name: str, path: str, queue: Any) -> None:
    import pandas as pd

    import heart.neighbors.linkage.engine  # noqa: F401  (imports are not the speed of linking)

    records = pd.read_parquet(path)
    records["aliases"] = [list(a) if a is not None else [] for a in records["aliases"]]
    started, cpu = time.perf_counter(), _cpu()
    answer = globals()[function_name](records)
    queue.put({"seconds": time.perf_counter() - started, "cpu_seconds": _cpu() - cpu, "peak_mb": _peak_mb(),
               "answer": answer})  # fmt: skip


def _in_child(function_name: str, path: str) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue: Any = context.Queue()
    process = context.Process(target=_child, args=(function_name, path, queue))
    process.start()
    figures: dict[str, Any] = queue.get()
    process.join()
    return figures


def product_link(records: Any) -> dict[str, Any]:
    result = link_records(records)
    return {"pairs": result.pairs[["unique_id_l", "unique_id_r", "match_probability"]], "clusters": result.clusters}


def _candidate_sql(table: str) -> str:
    from heart.neighbors.linkage.model import BLOCKING_RULES

    joins = [f"select l.unique_id as a, r.unique_id as b from {table} l join {table} r on l.unique_id < r.unique_id "
             f"and ({rule.get_blocking_rule('duckdb').blocking_rule_sql})" for rule in BLOCKING_RULES]  # fmt: skip
    return " union ".join(joins)


def floor_candidates(records: Any) -> dict[str, Any]:
    import duckdb

    prepared = prepare(records).drop(columns=["name_forms", "full_names"])
    connection = duckdb.connect()
    connection.execute("set enable_progress_bar = false")
    connection.register("r_in", prepared)
    (count,) = connection.execute(f"select count(*) from ({_candidate_sql('r_in')})").fetchall()[0]
    return {"candidates": int(count)}


def _outside_candidates(records: Any, pairs: Any) -> int:
    """How many scored pairs no blocking rule brings together (none should): an unmeasured check, in DuckDB."""
    import duckdb

    prepared = prepare(records).drop(columns=["name_forms", "full_names"])
    connection = duckdb.connect()
    connection.execute("set enable_progress_bar = false")
    connection.register("r_in", prepared)
    connection.register("scored", pairs[["unique_id_l", "unique_id_r"]])
    (outside,) = connection.execute(
        f"select count(*) from scored s anti join ({_candidate_sql('r_in')}) c "
        "on s.unique_id_l = c.a and s.unique_id_r = c.b").fetchall()[0]
    return int(outside)


def peer_recordlinkage(records: Any) -> dict[str, Any]:
    import recordlinkage

    prepared = prepare(records).drop(columns=["name_forms", "full_names"]).set_index("unique_id")
    indexer = recordlinkage.Index()
    for keys in (["dob"], ["phone"], ["first_name", "last_name"], ["postcode", "last_sound"]):
        indexer.block(keys)
    candidates = indexer.index(prepared)
    compare = recordlinkage.Compare()
    compare.string("first_name", "first_name", method="jarowinkler", threshold=0.85, label="first_name")
    compare.string("last_name", "last_name", method="jarowinkler", threshold=0.85, label="last_name")
    compare.exact("dob", "dob", label="dob")
    compare.exact("phone", "phone", label="phone")
    compare.string("address", "address", method="jarowinkler", threshold=0.85, label="address")
    compare.exact("postcode", "postcode", label="postcode")
    features = compare.compute(candidates, prepared)
    links = recordlinkage.ECMClassifier(binarize=None).fit_predict(features)
    left = links.get_level_values(0).astype(str)
    right = links.get_level_values(1).astype(str)
    import pandas as pd

    pairs = pd.DataFrame({"unique_id_l": left, "unique_id_r": right, "match_probability": 1.0})
    return {"pairs": pairs, "candidates": len(candidates)}


def _report_path(size: int, scale: int, workdir: str) -> dict[str, Any]:
    import pandas as pd

    data = generate_records(size, seed=2024)
    path = os.path.join(workdir, f"records-{size}.parquet")
    data.records.to_parquet(path)
    identity = data.person_of_record
    product = _in_child("product_link", path)
    floor = _in_child("floor_candidates", path)
    peer = _in_child("peer_recordlinkage", path) if size <= 100_000 else None
    pairs, clusters = product["answer"]["pairs"], product["answer"]["clusters"]
    scores = {"pairwise": pairwise_accuracy(pairs, identity, threshold=DEFAULT_THRESHOLD),
              "cluster": cluster_accuracy(clusters, identity)}  # fmt: skip
    outside = _outside_candidates(data.records, pairs)
    goal = all(score.precision > GOAL and score.recall > GOAL for score in scores.values())
    note = (f"{len(data.records):,} generated records; pairwise precision {scores['pairwise'].precision:.2%} recall "
            f"{scores['pairwise'].recall:.2%}, by cluster {scores['cluster'].precision:.2%} / "
            f"{scores['cluster'].recall:.2%} (goal > 95% each); {len(pairs):,} pairs scored ≥ review floor, "
            f"{outside} outside the floor's {floor['answer']['candidates']:,} candidate pairs")  # fmt: skip
    if peer is not None:
        peer_score = pairwise_accuracy(peer["answer"]["pairs"], identity, threshold=DEFAULT_THRESHOLD)
        note += (f"; recordlinkage peer pairwise precision {peer_score.precision:.2%} recall "
                 f"{peer_score.recall:.2%} on {peer['answer']['candidates']:,} candidates")  # fmt: skip
    print(f"  {size:,}: linked in {product['seconds']:.1f} s ({product['cpu_seconds']:.1f} CPU s, "
          f"{product['peak_mb']:.0f} MB); floor {floor['seconds']:.1f} s; {note}", flush=True)  # fmt: skip
    del pd
    return {
        "path": "linkage", "size": f"{len(data.records):,} generated person records", "scale": scale,
        "product": {k: round(product[k], 3) for k in ("seconds", "peak_mb", "cpu_seconds")},
        "floor": {"what": "prepare() + DuckDB self-join per blocking rule, unioned: the distinct candidate pairs "
                          "(no scoring)", **{k: round(floor[k], 3) for k in ("seconds", "peak_mb", "cpu_seconds")}},
        "peer": None if peer is None else {
            "what": "recordlinkage: 4 blocks, Jaro-Winkler/exact compare, ECM classifier (normalised records)",
            **{k: round(peer[k], 3) for k in ("seconds", "peak_mb", "cpu_seconds")}},
        "answers_match": goal and outside == 0, "answer_note": note,
    }  # fmt: skip


def report(short: bool) -> None:
    import tempfile

    sizes = [(10_000, 1)] if short else [(100_000, 1), (1_000_000, 10)]
    print(f"linkage report ({'short' if short else 'full'}); load average {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory() as workdir:
        paths = [_report_path(size, scale, workdir) for size, scale in sizes]
    print("\n" + json.dumps({"paths": paths, "load_average": [round(x, 2) for x in os.getloadavg()]}))
    failed = [p["size"] for p in paths if not p["answers_match"]]
    if failed:
        print(f"goal not met on: {', '.join(failed)}", file=sys.stderr)
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--no-febrl", action="store_true", help="generated records only")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--no-number", action="store_true", help="FEBRL without the identity number as phone")
    parser.add_argument("--report", action="store_true", help="issue 16's report: one JSON line at the end")
    parser.add_argument("--short", action="store_true", help="with --report: 10,000 records (CI)")
    args = parser.parse_args()
    if args.report:
        report(args.short)
        return
    runs = [("generated", size) for size in args.sizes]
    if not args.no_febrl:
        # each FEBRL set twice: as a neighbor record would hold it, then with its identity number as the phone
        numbers = ("",) if args.no_number else ("", "+number")
        runs += [(name + number, 0) for number in numbers for name in ("febrl1", "febrl2", "febrl3", "febrl4")]
    print(f"linkage benchmark on {os.cpu_count()} cores, threshold {DEFAULT_THRESHOLD}; load average now "
          f"{os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    header = (f"{'data':<20} {'records':>9} {'prep s':>7} {'link s':>7} {'CPU s':>6} {'peak MB':>8} {'pairs':>10} "
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
