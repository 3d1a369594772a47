"""Link person records into neighbors: scored pairs a reviewer can inspect, clusters at a threshold, decisions kept.

    result = link_records(records, decisions=ReviewDecisions(must_link=[("r1", "r7")]))
    result.pairs           # unique_id_l, unique_id_r, match_weight, match_probability (candidates ≥ review_floor)
    result.clusters        # record_id → neighbor_key (the smallest record id of its cluster)
    result.explain("r1", "r7")   # what each comparison contributed (Splink's waterfall data)

    link_records(records, explain=True).pairs["contributions"]   # the same for every pair kept, in one pass

The backend is a parameter: DuckDB in process by default; Spark (``backend="spark"``, a ``spark`` session)
for histories that outgrow one machine. The model's SQL is generated for the backend's dialect from
``model.py``; only the fitted numbers come from ``data/model.json``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from splink import DuckDBAPI, Linker

from heart.errors import InvalidInput
from heart.neighbors.linkage.constraints import ReviewDecisions, apply_decisions
from heart.neighbors.linkage.model import (
    DETERMINISTIC_RECALL,
    DETERMINISTIC_RULES,
    EM_BLOCKING_RULES,
    TF_AGREEMENT_LEVELS,
    U_FLOOR,
    load_model,
    settings_creator,
)
from heart.neighbors.linkage.records import PersonRecord, prepare

Backend = Literal["duckdb", "spark"]
Training = Literal["shipped", "estimate"]
DEFAULT_THRESHOLD = 0.5  # match probability at or above which a pair is a link (more likely one person than not)
REVIEW_FLOOR = 0.05  # pairs from here up are kept for review (the "maybe" list below the threshold)


@dataclass(frozen=True, slots=True)
class WaterfallStep:
    """One bar of the waterfall: how one comparison moved the match weight (log2 of the Bayes factor)."""

    comparison: str  # "Prior", a comparison's name, "tf_<name>" for its term-frequency adjustment, "Final score"
    level: str  # the level that held, in words ("nickname of the same name")
    match_weight: float
    m_probability: float | None
    u_probability: float | None
    value_left: str
    value_right: str


@dataclass(frozen=True, slots=True)
class PairExplanation:
    left_id: str
    right_id: str
    match_weight: float
    match_probability: float
    steps: tuple[WaterfallStep, ...]


@dataclass
class LinkageResult:
    """What one run found. Keeps the run's linker so that any pair can be explained afterwards."""

    pairs: pd.DataFrame
    clusters: pd.DataFrame
    threshold: float  # a pair at or above it is a link
    cluster_threshold: float  # links at or above it make neighbors (clusters); the link threshold unless asked
    prior: float
    model_version: str
    _linker: Linker = field(repr=False)
    _prepared: pd.DataFrame = field(repr=False)

    def neighbor_of(self, record_id: str) -> str:
        """The neighbor key (cluster id) a record belongs to."""
        found = self.clusters.loc[self.clusters["record_id"] == record_id, "neighbor_key"]
        if found.empty:
            raise InvalidInput(f"record_id {record_id} was not in this run", field="record_id")
        return str(found.iloc[0])

    def explain(self, left_id: str, right_id: str) -> PairExplanation:
        """Score one pair and say what each comparison contributed (works for pairs no blocking rule met, too)."""
        rows = self._prepared.set_index("unique_id", drop=False)
        for record_id in (left_id, right_id):
            if record_id not in rows.index:
                raise InvalidInput(f"record_id {record_id} was not in this run", field="record_id")
        left, right = (_as_splink_record(rows.loc[record_id]) for record_id in (left_id, right_id))
        scored = self._linker.inference.score_pair(left, right).as_record_list()[0]
        from splink.internals.waterfall_chart import record_to_waterfall_data

        bars = record_to_waterfall_data(scored, self._linker._settings_obj, hide_details=False)
        steps = tuple(
            WaterfallStep(
                comparison=bar["column_name"],
                level=str(bar["label_for_charts"]),
                match_weight=float(bar["log2_bayes_factor"]),
                m_probability=bar["m_probability"],
                u_probability=bar["u_probability"],
                value_left=str(bar["value_l"]),
                value_right=str(bar["value_r"]),
            )
            for bar in bars
        )
        return PairExplanation(left_id=left_id, right_id=right_id, match_weight=float(scored["match_weight"]),
                               match_probability=float(scored["match_probability"]), steps=steps)  # fmt: skip


def _as_splink_record(row: pd.Series) -> dict[str, Any]:
    record = row.to_dict()
    for key in ("name_forms", "full_names"):
        value = record.get(key)
        record[key] = list(value) if value is not None else None
    return record


def model_settings(dialect: str, *, model_path: Path | None = None) -> tuple[dict[str, Any], str]:
    """The model for a SQL dialect: structure from model.py, numbers from model.json (refused if they disagree)."""
    shipped = load_model(model_path)
    settings = settings_creator().create_settings_dict(dialect)
    if len(shipped["comparisons"]) != len(settings["comparisons"]):
        raise InvalidInput("model.json does not match model.py; refit with heart.neighbors.linkage.train")
    for ours, fitted in zip(settings["comparisons"], shipped["comparisons"], strict=True):
        labels = [level.get("label_for_charts") for level in ours["comparison_levels"]]
        fitted_labels = [level.get("label_for_charts") for level in fitted["comparison_levels"]]
        if ours["output_column_name"] != fitted["output_column_name"] or labels != fitted_labels:
            raise InvalidInput(f"model.json comparison {fitted['output_column_name']} does not match model.py; "
                               "refit with heart.neighbors.linkage.train")  # fmt: skip
        for level, fitted_level in zip(ours["comparison_levels"], fitted["comparison_levels"], strict=True):
            for key in ("m_probability", "u_probability"):
                if key in fitted_level:
                    level[key] = fitted_level[key]
    settings["probability_two_random_records_match"] = shipped["probability_two_random_records_match"]
    if dialect == "duckdb":
        for comparison in settings["comparisons"]:
            for level in comparison["comparison_levels"]:
                level["sql_condition"] = cheap_damerau(level["sql_condition"])
    return settings, str(shipped.get("heart_model", {}).get("version", "unversioned"))


_DAMERAU_AT_MOST = re.compile(r'damerau_levenshtein\(("?\w+"?), ("?\w+"?)\) <= (\d+)')


def cheap_damerau(sql: str) -> str:
    """The same condition, with ``damerau_levenshtein(a, b) <= k`` computed only where a cheaper distance leaves
    it open (DuckDB's Damerau-Levenshtein costs five times its Levenshtein; it was half the cost of scoring).

    Levenshtein bounds it on both sides: Damerau-Levenshtein ≤ Levenshtein (it allows one more kind of edit), and
    Levenshtein ≤ 2 × Damerau-Levenshtein (a swap of two neighbours is two Levenshtein edits). So a pair more than
    2k apart is not within k, one within k is, and only the rest needs Damerau-Levenshtein. A missing value stays
    missing (unknown) as before. Every level's answer is the same: only the work to reach it changes.
    """

    def guarded(found: re.Match[str]) -> str:
        left, right, k = found[1], found[2], int(found[3])
        return (f"(CASE WHEN levenshtein({left}, {right}) > {2 * k} THEN false "
                f"WHEN levenshtein({left}, {right}) <= {k} THEN true "
                f"ELSE damerau_levenshtein({left}, {right}) <= {k} END)")  # fmt: skip

    return _DAMERAU_AT_MOST.sub(guarded, sql)


def _db_api(backend: Backend, spark: Any) -> Any:
    if backend == "duckdb":
        import duckdb

        connection = duckdb.connect()
        connection.execute("set enable_progress_bar = false")  # a long query would draw bars on the caller's stdout
        return DuckDBAPI(connection=connection)
    if backend == "spark":
        if spark is None:
            raise InvalidInput("the Spark backend needs a SparkSession (spark=...)", field="spark")
        from splink import SparkAPI

        return SparkAPI(spark_session=spark)
    raise InvalidInput(f"unknown linkage backend {backend!r}; use 'duckdb' or 'spark'", field="backend")


def _estimate_prior(linker: Linker, n_records: int) -> float:
    """The chance two random records are one person, from sure matches; a floor when there are none."""
    n_pairs = max(1, n_records * (n_records - 1) // 2)
    try:
        linker.training.estimate_probability_two_random_records_match(
            list(DETERMINISTIC_RULES), recall=DETERMINISTIC_RECALL
        )
        prior = float(linker._settings_obj._probability_two_random_records_match)
    except ValueError:  # no sure match at all (a handful of records)
        prior = 0.0
    prior = min(max(prior, 1 / n_pairs), 0.5)
    linker._settings_obj._probability_two_random_records_match = prior
    return prior


TF_PSEUDO_RECORDS = 10_000  # term frequencies lean on the model's u until a run has tens of thousands of records
# A place has a few dozen postcodes where it has thousands of names: their shares settle after a few hundred records.
TF_PSEUDO_RECORDS_BY_COLUMN = {"postcode": 500}


def _tf_bases(linker: Linker) -> dict[str, tuple[float, float]]:
    """Per term-frequency column: (the u Splink divides a value's share into, the model's u of the column agreeing).

    Splink adjusts a level for a value's frequency by log2(u / share), taking u from the comparison's bare exact
    level of the column. In ``surname_home`` that level is a narrow one ("same surname, no home to compare"; "same
    phone, another surname"), whose u is a small part of all surname (phone) agreements, and every agreement on a
    surname or phone would lose bits for it (2 on generated records, 8 on FEBRL). The u of the column agreeing is
    the sum over the levels that imply it (``TF_AGREEMENT_LEVELS``): the registered shares are scaled by the ratio,
    so the adjustment is log2(u of agreeing / share), zero on average.
    """
    bases: dict[str, tuple[float, float]] = {}
    for comparison in linker._settings_obj.comparisons:
        levels = comparison.comparison_levels
        for level in levels:
            if not level._has_tf_adjustments or level.is_null_level:
                continue
            column = level._tf_adjustment_input_column_name
            if column in bases:
                continue
            u_base = float(level._u_probability_corresponding_to_exact_match(levels))
            labels = TF_AGREEMENT_LEVELS.get(column)
            u_agree = (sum(float(lv.u_probability) for lv in levels if lv.label_for_charts in labels
                           and lv.u_probability is not None) if labels else u_base)  # fmt: skip
            bases[column] = (u_base, max(u_agree, u_base))
    return bases


def _register_term_frequencies(linker: Linker, db_api: Any, prepared: pd.DataFrame) -> None:
    """Register smoothed term frequencies: a value's share of records, pulled towards the model's u.

    Raw shares are wild in a small run (in five records "smith" is 60% of surnames and would cost a true pair
    nine bits); with ``TF_PSEUDO_RECORDS`` records' worth of the model's average, a run of a handful of records
    keeps the model's weights and a run of a million uses its own frequencies. A value is counted once per
    distinct (first name, last name, date of birth): a familiar neighbor's forty records must not make their
    own name look common and so fail to link. Run after any re-estimation: the u it leans on is the run's own.
    """
    # a person as the records name them: distinct (first name, last name, date of birth), missing parts included
    identity = prepared.groupby(["first_name", "last_name", "dob"], dropna=False, sort=False).ngroup().to_numpy()
    n = int(identity.max()) + 1 if len(identity) else 0
    for column, (u_base, u_agree) in _tf_bases(linker).items():
        codes, values = pd.factorize(prepared[column])  # a missing value is -1 and not counted
        known = codes >= 0
        once = np.unique(identity[known].astype(np.int64) * len(values) + codes[known])  # each value once a person
        counts = pd.Series(np.bincount(once % len(values), minlength=len(values)), index=values) if len(values) \
            else pd.Series([], dtype="int64")  # fmt: skip
        counts = counts[counts > 0]
        pseudo = TF_PSEUDO_RECORDS_BY_COLUMN.get(column, TF_PSEUDO_RECORDS)
        if column in TF_AGREEMENT_LEVELS and n > 1:  # the run's own rate of agreement, leaning on the model's
            agreeing = float((counts.to_numpy() * (counts.to_numpy() - 1)).sum()) / (n * (n - 1))
            u_agree = max((n * agreeing + pseudo * u_agree) / (n + pseudo), u_base)
        shares = (counts.to_numpy() + pseudo * u_agree) / (n + pseudo) * (u_base / u_agree)
        table = pd.DataFrame({column: counts.index.astype(str), f"tf_{column}": shares})
        name = f"tf_lookup_{column}_{linker._settings_obj._cache_uid}"
        registered = db_api.register(table, dataset_display_name=name)
        linker.table_management.register_term_frequency_lookup(registered, column)


def _estimate_here(linker: Linker, n_records: int) -> None:
    """u by random sampling and m by EM on this data, from the shipped values (prior re-estimated by EM too), then
    u rid of the true pairs among the random ones (``_discount_true_pairs``)."""
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    for rule in EM_BLOCKING_RULES:
        linker.training.estimate_parameters_using_expectation_maximisation(rule, estimate_without_term_frequencies=True)
    _discount_true_pairs(linker, _expected_prior(linker, n_records))


def _discount_true_pairs(linker: Linker, prior: float) -> None:
    """Correct u for the true pairs that random sampling drew: among random pairs a level's share is
    prior · m + (1 − prior) · u, not u.

    Negligible on HEART's own records (a prior of 10⁻⁵), not on a source with many duplicates: in FEBRL 3 one random
    pair in two thousand is one person, so a level only true pairs reach (the same surname and address, a swapped
    name) measured a u of prior · m and weighed log2(1 / prior) ≈ 11 bits, no more than the prior takes away — one
    strong agreement never outweighed one wholly different field. ``prior`` is the data's own expected pair count
    (``_expected_prior``), m the run's EM estimate; a u that would go below zero is floored at ``U_FLOOR``.
    """
    for comparison in linker._settings_obj.comparisons:
        for level in comparison.comparison_levels:
            if level.is_null_level or level.m_probability is None or level.u_probability is None:
                continue
            corrected = (float(level.u_probability) - prior * float(level.m_probability)) / (1 - prior)
            level.u_probability = max(corrected, U_FLOOR)


PRIOR_ROUNDS = 4  # fixed-point rounds of the prior on data at hand (it settles to a few percent in three or four)


def _expected_prior(linker: Linker, n_records: int) -> float:
    """The prior as the data at hand says, without labels: the expected number of true pairs among the candidates
    (the sum of their match probabilities) over all pairs, recomputed until it settles.

    The sure-match rules' recall (``DETERMINISTIC_RECALL``) is measured on HEART's generated records; a source with
    more errors per record (FEBRL: up to five) meets those rules less often, and their estimate of the prior comes
    out low (half of FEBRL 3's). With m and u estimated on the data, the expected count is the consistent estimate.
    """
    n_pairs = max(1, n_records * (n_records - 1) // 2)
    prior = float(linker._settings_obj._probability_two_random_records_match)
    for _ in range(PRIOR_ROUNDS):
        scored = linker.inference.predict(threshold_match_probability=None, warning_mode="never")
        total = linker.misc.query_sql(f"select sum(match_probability) as s from {scored.physical_name}",
                                       output_type="pandas")
        expected = float(total["s"].fillna(0.0).iloc[0])
        scored.drop_table_from_database_and_remove_from_cache()
        prior = min(max(expected / n_pairs, 1 / n_pairs), 0.5)
        linker._settings_obj._probability_two_random_records_match = prior
    return prior


def link_records(
    records: pd.DataFrame | Iterable[PersonRecord],
    *,
    decisions: ReviewDecisions | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    cluster_threshold: float | None = None,
    review_floor: float = REVIEW_FLOOR,
    backend: Backend = "duckdb",
    spark: Any = None,
    model_path: Path | None = None,
    training: Training = "shipped",
    explain: bool = False,
) -> LinkageResult:
    """Link records into neighbors with the shipped model (or one re-estimated here), keeping reviewed decisions.

    Neighbors (``clusters``) are the records links at or above ``cluster_threshold`` (the link threshold unless
    asked) chain together, less the chains the model says cannot hold (``sure_apart``: two records not linked to
    each other whose dates of birth — and first names — wholly differ), which are rebuilt strongest link first
    as a reviewer's split is.

    With ``explain``, every pair kept also carries its ``contributions``: the prior and, per comparison, the level
    that held and its weight (term-frequency adjustment included), which add up to the pair's match weight — what
    a reviewer reads, without scoring each pair again.
    """
    if not 0 < threshold < 1 or not 0 < review_floor <= threshold:
        raise InvalidInput("need 0 < review_floor ≤ threshold < 1", field="threshold")
    cluster_threshold = threshold if cluster_threshold is None else cluster_threshold
    if not threshold <= cluster_threshold < 1:
        raise InvalidInput("need threshold ≤ cluster_threshold < 1", field="cluster_threshold")
    prepared = prepare(records)
    if training not in ("shipped", "estimate"):
        raise InvalidInput(f"unknown training {training!r}; use 'shipped' or 'estimate'", field="training")
    # With the shipped model the engine links record numbers, not record ids: numbered in the ids' own order (so
    # every "left id is the smaller" rule holds the same), they join and compare as integers, a fraction of the
    # work of strings. Estimating u samples records by a hash of their id, so that run keeps the ids.
    numbers, record_ids = pd.factorize(prepared["unique_id"], sort=True)
    record_ids = np.asarray(record_ids, dtype=object)
    db_api = _db_api(backend, spark)
    settings, version = model_settings(db_api.sql_dialect.sql_dialect_str, model_path=model_path)
    settings["retain_intermediate_calculation_columns"] = explain
    numbered = prepared.assign(unique_id=numbers.astype("int64")) if training == "shipped" else prepared
    linker = Linker(db_api.register(numbered, dataset_display_name="neighbor_records"), settings, log_level=None)
    prior = _estimate_prior(linker, len(prepared))
    if training == "estimate":
        _estimate_here(linker, len(prepared))
    _register_term_frequencies(linker, db_api, prepared)
    if training == "estimate":
        prior = _expected_prior(linker, len(prepared))
    scored = linker.inference.predict(threshold_match_probability=review_floor, warning_mode="never")
    pairs, numbered_pairs = _pairs_frame(linker, scored, record_ids, _contributions(linker, prior) if explain else None)
    scored.drop_table_from_database_and_remove_from_cache()
    linked = (pairs["match_probability"] >= cluster_threshold).to_numpy()
    links = pairs[linked]
    clusters = _connected(record_ids, numbered_pairs[:, linked])
    apart = sure_apart(prepared, clusters, links, _else_weights(linker))
    clusters = apply_decisions(clusters=clusters, pairs=pairs, decisions=decisions or ReviewDecisions(),
                               threshold=cluster_threshold, apart=apart)  # fmt: skip
    return LinkageResult(pairs=pairs, clusters=clusters, threshold=threshold, cluster_threshold=cluster_threshold,
                         prior=prior, model_version=version,
                         _linker=linker, _prepared=prepared)  # fmt: skip


def _wholly_different_dates(left: pd.Series, right: pd.Series) -> np.ndarray:
    """Both dates known and nothing a typist does explains the difference: not equal, not day and month swapped,
    more than two of the ten characters apart, neither year and month nor day and month in common."""
    a = left.to_numpy(dtype=object).astype("U10")
    b = right.to_numpy(dtype=object).astype("U10")
    chars_a, chars_b = a.view("U1").reshape(len(a), 10), b.view("U1").reshape(len(b), 10)
    equal = chars_a == chars_b
    apart = (~equal).sum(axis=1) > 2
    swapped = (equal[:, :4].all(axis=1) & (chars_a[:, 5:7] == chars_b[:, 8:10]).all(axis=1)
               & (chars_a[:, 8:10] == chars_b[:, 5:7]).all(axis=1))  # fmt: skip
    same_ym = equal[:, :7].all(axis=1)
    same_md = equal[:, 5:].all(axis=1)
    return apart & ~swapped & ~same_ym & ~same_md


APART_BITS = 9.0  # records chained into one neighbor are kept apart when what contradicts costs this many bits


def _else_weights(linker: Linker) -> dict[str, float]:
    """The weight (log2 m/u) the run's model gives a first name and a date of birth that wholly differ."""
    weights = {}
    for comparison in linker._settings_obj.comparisons:
        if comparison.output_column_name in ("first_name", "dob"):
            for level in comparison.comparison_levels:
                if level._is_else_level and level.m_probability and level.u_probability:
                    weights[comparison.output_column_name] = math.log2(level.m_probability / level.u_probability)
    return weights


def sure_apart(prepared: pd.DataFrame, clusters: pd.DataFrame, links: pd.DataFrame,
               else_weights: dict[str, float]) -> set[tuple[str, str]]:  # fmt: skip
    """Pairs of records that links chained into one cluster but that the model says are not one person: not linked
    to each other, and what wholly differs between them — the date of birth (``_wholly_different_dates``), the first
    name (not equal, no name form or first two letters in common) — weighs ``APART_BITS`` or more against them.

    The weights are the run's model's: with the shipped model a wholly different date of birth is enough (a true
    pair's records differ so once in a thousand; a twin, a junior and a namesake all do), with a model estimated on
    FEBRL, whose duplicates carry a replaced date of birth in one pair in twenty-five, it is not even with the first
    name. Typical case: a household's records chained through one record that gives a surname and an address only.
    """
    frame = prepared[["unique_id", "first_name", "name_forms", "dob"]].merge(
        clusters.rename(columns={"record_id": "unique_id"})[["unique_id", "cluster_id"]], on="unique_id")
    frame = frame[frame.groupby("cluster_id")["unique_id"].transform("size") > 2]
    frame = frame[frame["dob"].notna()]
    if frame.empty or "dob" not in else_weights:
        return set()
    pairs = frame.merge(frame, on="cluster_id", suffixes=("_l", "_r"))
    pairs = pairs[pairs["unique_id_l"] < pairs["unique_id_r"]]
    pairs = pairs[_wholly_different_dates(pairs["dob_l"], pairs["dob_r"])]
    if pairs.empty:
        return set()
    first_differs = (pairs["first_name_l"].notna() & pairs["first_name_r"].notna()
                     & (pairs["first_name_l"] != pairs["first_name_r"])
                     & (pairs["first_name_l"].str[:2] != pairs["first_name_r"].str[:2])).to_numpy()  # fmt: skip
    unrelated = np.array([not (set(a if a is not None else ()) & set(b if b is not None else ()))
                          for a, b in zip(pairs["name_forms_l"], pairs["name_forms_r"], strict=True)], dtype=bool)
    against = else_weights["dob"] + np.where(first_differs & unrelated, else_weights.get("first_name", 0.0), 0.0)
    pairs = pairs[against <= -APART_BITS]
    found = pairs[["unique_id_l", "unique_id_r"]].merge(links[["unique_id_l", "unique_id_r"]], how="left",
                                                        indicator=True)  # fmt: skip
    found = found[found["_merge"] == "left_only"]
    return set(zip(found["unique_id_l"], found["unique_id_r"], strict=True))


def _contributions(linker: Linker, prior: float) -> Any:
    """A function of one scored row (with Splink's intermediate columns) → its contributions, Prior first."""
    prior_weight = math.log2(prior / (1 - prior))
    levels = {c.output_column_name: {lv.comparison_vector_value: str(lv.label_for_charts) for lv in c.comparison_levels}
              for c in linker._settings_obj.comparisons}

    def of(row: Any) -> list[dict[str, Any]]:
        steps: list[dict[str, Any]] = [{"comparison": "Prior", "level": "chance two records are one person",
                                        "weight": round(prior_weight, 4)}]
        for name, labels in levels.items():
            weight = float(getattr(row, f"mw_{name}")) + float(getattr(row, f"mw_tf_adj_{name}", 0.0) or 0.0)
            steps.append({"comparison": name, "level": labels.get(int(getattr(row, f"gamma_{name}")), "?"),
                          "weight": round(weight, 4)})
        return steps

    return of


def _pairs_frame(linker: Linker, scored: Any, record_ids: np.ndarray,
                 contributions: Any = None) -> tuple[pd.DataFrame, np.ndarray]:  # fmt: skip
    """The scored pairs by record id, strongest first, and their record numbers (2 × pairs, in the same order).

    Only the four columns a caller reads leave the database (with ``contributions``, every column, to explain
    each pair)."""
    if contributions is None:
        everything = linker.misc.query_sql(
            f"select unique_id_l, unique_id_r, match_weight, match_probability from {scored.physical_name}",
            output_type="pandas")  # fmt: skip
        frame = everything
    else:
        everything = scored.as_pandas_dataframe()
        frame = everything[["unique_id_l", "unique_id_r", "match_weight", "match_probability"]].copy()
        frame["contributions"] = [contributions(row) for row in everything.itertuples(index=False)]
    left, right = (_numbers(frame[side], record_ids) for side in ("unique_id_l", "unique_id_r"))
    # the left id is always the smaller, so a pair has one spelling (numbers keep the ids' order)
    weight = frame["match_weight"].to_numpy(dtype=float)
    low, high = np.minimum(left, right), np.maximum(left, right)
    # Strongest first, equal weights by record ids: the database hands rows over in the order its threads finish,
    # and splitting a chained cluster takes links in this order, so the order is fixed here.
    order = np.lexsort((high, low, -weight))
    numbered = np.vstack([low[order], high[order]])
    frame = pd.DataFrame({"unique_id_l": record_ids[numbered[0]], "unique_id_r": record_ids[numbered[1]],
                          "match_weight": weight[order],
                          "match_probability": frame["match_probability"].to_numpy(dtype=float)[order].clip(0.0, 1.0),
                          **({"contributions": frame["contributions"].to_numpy()[order]}
                             if contributions is not None else {})})  # fmt: skip
    if np.isnan(weight).any():
        raise InvalidInput("the linkage model produced an undefined weight; check model.json")
    return frame, numbered


def _numbers(ids: pd.Series, record_ids: np.ndarray) -> np.ndarray:
    """Record numbers of a column of record numbers or of record ids (a run that kept its ids)."""
    if pd.api.types.is_integer_dtype(ids.dtype):
        return ids.to_numpy(dtype="int64")
    return pd.Index(record_ids).get_indexer(ids.astype(str)).astype("int64")


def _connected(record_ids: np.ndarray, links: np.ndarray) -> pd.DataFrame:
    """Clusters (record_id, cluster_id): the connected components of the links (record numbers, 2 × links),
    every record in one (alone if unlinked)."""
    left, right = links
    size = len(record_ids)
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(size, size))
    _, labels = connected_components(graph, directed=False)
    return pd.DataFrame({"record_id": record_ids, "cluster_id": labels})
