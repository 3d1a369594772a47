"""Precision and recall of a linkage run against known identities, pairwise and by cluster.

Two views, both reported:

- **pairwise links**: the scored pairs at or above the threshold, against every pair of records that are the
  same person (a true pair no blocking rule brought together counts as missed);
- **clusters** (what a navigator sees as one neighbor): every pair of records in the same cluster, against
  every true pair — pair-counting precision and recall of the clustering — and, stricter, the share of
  people whose records form exactly one cluster (``exact_clusters``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True, slots=True)
class Accuracy:
    precision: float
    recall: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def _pairs_within(groups: pd.Series) -> int:
    sizes = groups.value_counts().to_numpy().astype("int64")
    return int((sizes * (sizes - 1) // 2).sum())


def _score(correct: int, predicted: int, true: int) -> Accuracy:
    return Accuracy(precision=correct / predicted if predicted else 1.0, recall=correct / true if true else 1.0,
                    true_pairs=true, predicted_pairs=predicted, correct_pairs=correct)  # fmt: skip


def pairwise_accuracy(pairs: pd.DataFrame, identity: pd.Series, *, threshold: float) -> Accuracy:
    """Links (unique_id_l, unique_id_r, match_probability) at or above the threshold against identities."""
    links = pairs[pairs["match_probability"] >= threshold]
    same = identity.loc[links["unique_id_l"]].to_numpy() == identity.loc[links["unique_id_r"]].to_numpy()
    return _score(int(same.sum()), len(links), _pairs_within(identity))


def cluster_accuracy(clusters: pd.DataFrame, identity: pd.Series) -> Accuracy:
    """Pair-counting precision and recall of clusters (record_id, neighbor_key) against identities."""
    person = identity.loc[clusters["record_id"]].to_numpy()
    both = clusters["neighbor_key"].astype(str) + "\x1f" + pd.Series(person, index=clusters.index).astype(str)
    return _score(_pairs_within(both), _pairs_within(clusters["neighbor_key"]), _pairs_within(identity))


def exact_clusters(clusters: pd.DataFrame, identity: pd.Series) -> float:
    """The share of people whose records are exactly one cluster, nothing missing and nobody else in it."""
    frame = pd.DataFrame({"key": clusters["neighbor_key"].to_numpy(),
                          "person": identity.loc[clusters["record_id"]].to_numpy()})  # fmt: skip
    keys_per_person = frame.groupby("person")["key"].nunique()
    people_per_key = frame.groupby("key")["person"].nunique()
    whole = frame[frame["person"].map(keys_per_person) == 1]
    whole = whole[whole["key"].map(people_per_key) == 1]
    return whole["person"].nunique() / frame["person"].nunique() if len(frame) else 1.0
