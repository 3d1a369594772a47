"""Normalisation, the nickname table, the record generator, Durham's service counts and accuracy on fixed samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from heart.neighbors.linkage import febrl
from heart.neighbors.linkage.accuracy import cluster_accuracy, exact_clusters, pairwise_accuracy
from heart.neighbors.linkage.engine import link_records
from heart.neighbors.linkage.nicknames import forms_of, nicknames_of, read_nickname_table
from heart.neighbors.linkage.records import normalise_address, normalise_dob, normalise_phone, prepare
from heart.neighbors.linkage.service_counts import concentration, draw_yearly_service_counts
from heart.neighbors.linkage.synthetic import generate_records


@pytest.mark.parametrize(("raw", "expected"), [("(919) 555-0101", "9195550101"), ("+1 919 555 0101", "9195550101"),
                                               ("000-000-0000", None), ("911", None), (None, None)])  # fmt: skip
def test_phones_normalise_to_ten_digits_and_placeholders_are_missing(raw: str | None, expected: str | None) -> None:
    assert normalise_phone(raw) == expected


def test_addresses_and_dates_that_say_nothing_are_missing() -> None:
    assert normalise_address("HOMELESS") is None
    assert normalise_address("123 North Main Street, Apt. 4") == "123 n main st apt 4"
    assert normalise_dob("1900-01-01") is None and normalise_dob("2090-01-01") is None
    assert normalise_dob("1972-95-18") is None and normalise_dob("1972-05-18") == "1972-05-18"


def test_names_lose_case_accents_and_punctuation() -> None:
    prepared = prepare(pd.DataFrame({"record_id": ["1"], "first_name": ["José"], "last_name": ["O'Brien-Núñez"]}))
    assert prepared.loc[0, "first_name"] == "jose" and prepared.loc[0, "last_name"] == "obrien nunez"
    assert "pepe" not in prepared.loc[0, "name_forms"] and "jose" in prepared.loc[0, "name_forms"]


def test_nicknames_meet_at_the_full_name() -> None:
    assert set(forms_of("jon")) & set(forms_of("jonathan"))
    assert set(forms_of("bill")) & set(forms_of("william"))
    assert set(forms_of("liz")) & set(forms_of("beth"))
    assert set(forms_of("pepe")) & set(forms_of("jose"))  # the Spanish table
    assert not set(forms_of("mary")) & set(forms_of("john"))
    assert "liz" in nicknames_of("Elizabeth")


def test_a_bad_nickname_row_names_its_file_and_line(tmp_path: Path) -> None:
    table = tmp_path / "extra.csv"
    table.write_text("name1,relationship,name2\nann,has_nickname,annie\nbob,is,robert\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"extra\.csv line 3"):
        read_nickname_table(table)


def test_generated_records_carry_the_errors_they_promise() -> None:
    data = generate_records(4000, seed=3)
    records = data.records
    assert len(records) == 4000 and records["record_id"].is_unique
    assert records["date_of_birth"].isna().mean() > 0.05 and records["phone"].isna().mean() > 0.2
    assert records["phone"].dropna().str.contains(r"[()\-+ ]").mean() > 0.5  # formatting noise
    people = data.person_of_record.value_counts()
    assert (people > 1).any() and people.max() < 41
    addresses = records.groupby("address")["record_id"].count()
    shared = records.dropna(subset=["address"]).assign(person=data.person_of_record.to_numpy()[
        records["address"].notna().to_numpy()]).groupby("address")["person"].nunique()  # fmt: skip
    assert addresses.max() > 5 and (shared > 1).sum() > 50  # shelters and households: strangers share addresses


def test_generation_is_reproducible() -> None:
    a, b = generate_records(500, seed=9), generate_records(500, seed=9)
    pd.testing.assert_frame_equal(a.records, b.records)


def test_a_year_of_service_counts_lands_on_durhams_published_figures() -> None:
    """Durham, Dec 2022 – Dec 2023: 0.5% of neighbors take 12% of responses; 74 seen 5+, 19 10+, 8 20+, 4 40+.

    Tolerance: each count within 2 of Durham's, the share within 12% ± 1.5 points, for every one of 10 seeds.
    """
    for seed in range(10):
        figures = concentration(draw_yearly_service_counts(seed=seed))
        assert abs(figures.seen_5_plus - 74) <= 2 and abs(figures.seen_10_plus - 19) <= 2
        assert abs(figures.seen_20_plus - 8) <= 2 and abs(figures.seen_40_plus - 4) <= 2
        assert abs(figures.top_half_percent_share - 0.12) <= 0.015, figures


def test_service_counts_scale_with_the_number_of_neighbors() -> None:
    counts = draw_yearly_service_counts(n_neighbors=35_000, seed=1)
    assert counts.min() == 1 and abs((counts >= 5).sum() - 740) <= 10
    assert np.array_equal(counts, draw_yearly_service_counts(n_neighbors=35_000, seed=1))


def test_accuracy_measures_on_a_hand_made_case() -> None:
    identity = pd.Series([1, 1, 1, 2], index=["a", "b", "c", "d"])
    pairs = pd.DataFrame({"unique_id_l": ["a", "a", "c"], "unique_id_r": ["b", "d", "d"],
                          "match_probability": [0.9, 0.8, 0.1]})  # fmt: skip
    links = pairwise_accuracy(pairs, identity, threshold=0.5)
    assert (links.correct_pairs, links.predicted_pairs, links.true_pairs) == (1, 2, 3)
    clusters = pd.DataFrame({"record_id": ["a", "b", "c", "d"], "neighbor_key": ["a", "a", "c", "a"]})
    grouped = cluster_accuracy(clusters, identity)
    assert (grouped.correct_pairs, grouped.predicted_pairs) == (1, 3)
    assert exact_clusters(clusters, identity) == 0.0


def test_generated_sample_reaches_the_goal() -> None:
    """Goal of issue 12: precision and recall above 95%, pairwise and by cluster, on a fixed sample of 5,000.
    Model 2025.5 reaches 96.7% / 98.0% pairwise and 96.6% / 99.1% by cluster, as 2025.4 did (2025.3: 0.9501 cluster
    precision): every figure 1.6 points or more above the goal, so the assertion is the goal itself, and a change
    that costs a point and a half anywhere fails it."""
    data = generate_records(5000, seed=21)
    result = link_records(data.records)
    for score in (pairwise_accuracy(result.pairs, data.person_of_record, threshold=result.threshold),
                  cluster_accuracy(result.clusters, data.person_of_record)):  # fmt: skip
        assert score.precision > 0.95 and score.recall > 0.95, score


@pytest.mark.parametrize(("name", "number_as_phone"),
                         [("febrl1", False), ("febrl1", True), ("febrl3", False), ("febrl3", True)])  # fmt: skip
def test_febrl_reaches_the_goal(name: str, number_as_phone: bool) -> None:
    """Goal of issue 12 on FEBRL (1,000 and 5,000 records), linked as another source is (``training="estimate"``:
    m by EM and u by sampling on the set, never from its identities): precision and recall above 95%, links and
    neighbors, on names, date of birth and address alone and with the set's identity number in the phone slot.
    FEBRL 3 on names, date of birth and address is the hardest (pairwise recall 96.3%; 94.7% before u was rid of
    the true pairs among random ones, ``engine._discount_true_pairs``)."""
    data = febrl.load(name, number_as_phone=number_as_phone)
    result = link_records(data.records, training="estimate")
    for score in (pairwise_accuracy(result.pairs, data.person_of_record, threshold=result.threshold),
                  cluster_accuracy(result.clusters, data.person_of_record)):  # fmt: skip
        assert score.precision > 0.95 and score.recall > 0.95, score
