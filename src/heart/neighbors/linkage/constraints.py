"""A reviewer's decisions as constraints every later run keeps: must-link (accept a link) and cannot-link (split).

Accepting a link between two records puts them in one neighbor whatever their score. Splitting a cluster
into groups says no record of one group is the same person as any record of another; each such pair becomes
cannot-link. Clusters no decision touches are the links' connected components as they came. A cluster that
holds a cannot-link pair is rebuilt by constrained greedy merging: must-links first, then its links from the
strongest down, each merge made only if it would not join two records a reviewer said are different people.
Decisions that contradict each other (A = B and B = C accepted, A ≠ C) are refused, naming the record ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from heart.errors import Conflict


@dataclass(frozen=True, slots=True)
class ReviewDecisions:
    """Reviewed pairs by record id. Storage is the caller's; pass them in on every run."""

    must_link: tuple[tuple[str, str], ...] = ()
    cannot_link: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, *, must_link: Iterable[tuple[str, str]] = (), cannot_link: Iterable[tuple[str, str]] = (),
           splits: Iterable[Sequence[Sequence[str]]] = ()) -> ReviewDecisions:  # fmt: skip
        """Decisions from accepted links, rejected links and splits (each split a list of record-id groups)."""
        cannot = [tuple(pair) for pair in cannot_link]
        for groups in splits:
            for index, group in enumerate(groups):
                for other in groups[index + 1 :]:
                    cannot.extend((a, b) for a in group for b in other)
        return cls(must_link=tuple(_ordered(pair) for pair in must_link),
                   cannot_link=tuple(_ordered(pair) for pair in cannot))  # fmt: skip


def _ordered(pair: Sequence[str]) -> tuple[str, str]:
    a, b = str(pair[0]), str(pair[1])
    return (a, b) if a <= b else (b, a)


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        parent = self.parent.setdefault(item, item)
        if parent != item:
            parent = self.parent[item] = self.find(parent)
        return parent

    def union(self, a: str, b: str) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[max(root_a, root_b)] = min(root_a, root_b)


def apply_decisions(*, clusters: pd.DataFrame, pairs: pd.DataFrame, decisions: ReviewDecisions,
                    threshold: float, apart: set[tuple[str, str]] | None = None) -> pd.DataFrame:  # fmt: skip
    """Final clusters (record_id, neighbor_key) from the links' connected components (record_id, cluster_id)
    and the decisions.

    ``apart``: pairs the engine found cannot be one person (``engine.sure_apart``), kept apart like a reviewer's
    cannot-link unless a reviewer's accepted links join them.
    """
    known = set(clusters["record_id"])
    must = [pair for pair in decisions.must_link if pair[0] in known and pair[1] in known]
    cannot = {pair for pair in decisions.cannot_link if pair[0] in known and pair[1] in known}
    _refuse_contradictions(must, cannot)
    if apart:
        joined = _UnionFind()
        for a, b in must:
            joined.union(a, b)
        cannot |= {(a, b) for a, b in apart if joined.find(a) != joined.find(b)}
    cluster_of = dict(zip(clusters["record_id"], clusters["cluster_id"].astype(str), strict=True))
    merged = _UnionFind()
    for a, b in must:
        merged.union(cluster_of[a], cluster_of[b])
    group = {record: merged.find(cluster) for record, cluster in cluster_of.items()}
    broken = {group[a] for a, b in cannot if group[a] == group[b]}
    if broken:
        members = [record for record, g in group.items() if g in broken]
        _rebuild(members, group, pairs, must, cannot, threshold)
    records = np.array(sorted(group), dtype=object)
    group_codes, _ = pd.factorize(np.array([group[record] for record in records], dtype=object))
    first_rank = pd.Series(np.arange(len(records))).groupby(group_codes).transform("min").to_numpy()  # sorted ids
    return pd.DataFrame({"record_id": records, "neighbor_key": records[first_rank]})


def _refuse_contradictions(must: list[tuple[str, str]], cannot: set[tuple[str, str]]) -> None:
    same = _UnionFind()
    for a, b in must:
        same.union(a, b)
    for a, b in sorted(cannot):
        if same.find(a) == same.find(b):
            raise Conflict(f"reviewed decisions contradict each other: records {a} and {b} were marked different "
                           "people, and linked as the same person through accepted links")  # fmt: skip


def _rebuild(members: list[str], group: dict[str, str], pairs: pd.DataFrame, must: list[tuple[str, str]],
             cannot: set[tuple[str, str]], threshold: float) -> None:  # fmt: skip
    """Re-cluster the records of broken clusters in place, honouring every cannot-link."""
    inside = set(members)
    links = pairs[(pairs["match_probability"] >= threshold) & pairs["unique_id_l"].isin(inside)
                  & pairs["unique_id_r"].isin(inside)]  # fmt: skip
    ordered = [(a, b) for a, b in must if a in inside] + list(
        zip(links["unique_id_l"], links["unique_id_r"], strict=True))  # pairs come strongest first
    components = _UnionFind()
    apart: dict[str, set[str]] = {}  # component root → records it must never contain
    for a, b in cannot:
        if a in inside:
            apart.setdefault(a, set()).add(b)
            apart.setdefault(b, set()).add(a)
    content: dict[str, set[str]] = {record: {record} for record in members}
    for a, b in ordered:
        root_a, root_b = components.find(a), components.find(b)
        if root_a == root_b:
            continue
        if apart.get(root_a, set()) & content[root_b]:
            continue  # would join two records a reviewer said are different people
        components.union(root_a, root_b)
        root = components.find(root_a)
        other = root_b if root == root_a else root_a
        content[root] = content[root] | content.pop(other)
        apart[root] = apart.get(root, set()) | apart.pop(other, set())
    for record in members:
        group[record] = "split:" + components.find(record)
