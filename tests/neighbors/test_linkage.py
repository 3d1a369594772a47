"""Linking neighbor records: who becomes one neighbor, what a reviewer sees, and decisions that later runs keep."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from heart.errors import Conflict, InvalidInput
from heart.neighbors.linkage.constraints import ReviewDecisions
from heart.neighbors.linkage.engine import link_records, model_settings
from heart.neighbors.linkage.records import PersonRecord, records_frame
from heart.neighbors.linkage.synthetic import generate_records

# A small town: the people to link, and others who look like them but are not them.
TOWN = [
    PersonRecord("a1", "Jon", "Smith", date_of_birth="1980-03-04", phone="(919) 555-0101", address="12 Oak Street"),
    PersonRecord("a2", "Jonathan", "Smith", date_of_birth="1980-03-04"),
    PersonRecord("b1", "Keisha", "Mabry", date_of_birth="1991-07-22", phone="919-555-0178", postcode="27701"),
    PersonRecord("b2", "Keisha", "Mabry", phone="919-555-0187", postcode="27701"),  # two digits transposed
    PersonRecord("c1", "Elizabeth", "Ortiz", date_of_birth="1975-04-09", address="400 Elm Ave Apt 3"),
    PersonRecord("c2", "Liz", "Ortiz", date_of_birth="1975-09-04", address="400 ELM AVENUE APT 3"),  # day/month
    PersonRecord("d1", "William", "Brown", date_of_birth="1962-11-30", phone="9195550144"),
    PersonRecord("d2", "Bill", "Brown", date_of_birth="1962-11-30", phone="+1 919 555 0144"),
    # look-alikes: a father and his junior; a namesake across town
    PersonRecord("e1", "Marcus", "Reed", date_of_birth="1958-02-14", address="77 Pine Rd", phone="9195550199"),
    PersonRecord("e2", "Marcus", "Reed", date_of_birth="1986-08-01", address="77 Pine Rd", phone="9195550199"),
    PersonRecord("f1", "Maria", "Garcia", date_of_birth="1990-01-02", address="5 Lake Dr", phone="9195550111"),
    PersonRecord("f2", "Maria", "Garcia", date_of_birth="1971-06-19", address="88 Hill Ct", phone="9195550222"),
]


def with_background(records: list[PersonRecord]) -> pd.DataFrame:
    """The town among a few thousand other records, as a program's whole record set is linked in practice."""
    background = generate_records(3000, seed=5).records
    return pd.concat([records_frame(records), background], ignore_index=True)


@pytest.fixture(scope="module")
def town() -> object:
    return link_records(with_background(TOWN))


def _together(result: object, a: str, b: str) -> bool:
    return result.neighbor_of(a) == result.neighbor_of(b)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("a", "b"), [("a1", "a2"), ("b1", "b2"), ("c1", "c2"), ("d1", "d2")])
def test_a_nickname_a_phone_typo_or_a_swapped_birthday_is_still_one_neighbor(town: object, a: str, b: str) -> None:
    assert _together(town, a, b)


JUNIOR_WITH_FATHERS_PHONE = pytest.param("e1", "e2", marks=pytest.mark.xfail(strict=True, reason=(
    "known limit: a junior sharing his father's full name, address and phone outweighs a birth 28 years apart; "
    "a reviewer splits them")))  # fmt: skip


@pytest.mark.parametrize(("a", "b"), [JUNIOR_WITH_FATHERS_PHONE, ("f1", "f2"), ("a1", "d1")])
def test_a_junior_a_namesake_or_a_stranger_stays_a_different_neighbor(town: object, a: str, b: str) -> None:
    assert not _together(town, a, b)


def test_a_reviewer_sees_what_each_comparison_contributed(town: object) -> None:
    explanation = town.explain("a1", "a2")  # type: ignore[attr-defined]
    by_comparison = {step.comparison: step for step in explanation.steps}
    assert by_comparison["first_name"].level == "nickname of the same name"
    assert by_comparison["first_name"].match_weight > 0
    assert by_comparison["dob"].level == "Exact match on dob"
    assert by_comparison["Prior"].match_weight < 0
    contributions = sum(s.match_weight for s in explanation.steps if s.comparison not in {"Final score"})
    assert math.isclose(contributions, explanation.match_weight, abs_tol=1e-6)
    assert explanation.match_probability >= town.threshold  # type: ignore[attr-defined]


def test_explaining_a_pair_no_blocking_rule_met_still_scores_it(town: object) -> None:
    explanation = town.explain("a1", "f2")  # type: ignore[attr-defined]
    assert explanation.match_probability < 0.01


def test_pairs_list_each_pair_once_strongest_first(town: object) -> None:
    pairs = town.pairs  # type: ignore[attr-defined]
    assert (pairs["unique_id_l"] < pairs["unique_id_r"]).all()
    assert not pairs.duplicated(["unique_id_l", "unique_id_r"]).any()
    assert pairs["match_weight"].is_monotonic_decreasing


def test_an_accepted_link_and_a_split_are_kept_by_the_next_run_with_new_records() -> None:
    decisions = ReviewDecisions.of(must_link=[("f1", "f2")], splits=[[["c1"], ["c2"]]])
    later = [*TOWN, PersonRecord("c3", "Beth", "Ortiz", date_of_birth="1975-04-09", address="400 Elm Ave Apt 3")]
    for records in (TOWN, later):
        result = link_records(with_background(records), decisions=decisions)
        assert _together(result, "f1", "f2")
        assert not _together(result, "c1", "c2")
    assert _together(result, "c1", "c3")  # the new record joins one side of the split, by its own evidence


def test_splitting_a_chain_keeps_each_side_together() -> None:
    records = [PersonRecord(f"r{i}", "Dana", "Whitfield", date_of_birth="1984-05-06", phone="9195550300")
               for i in range(4)]  # fmt: skip
    result = link_records(records, decisions=ReviewDecisions.of(splits=[[["r0", "r1"], ["r2", "r3"]]]))
    assert _together(result, "r0", "r1") and _together(result, "r2", "r3")
    assert not _together(result, "r0", "r2")


def test_contradictory_decisions_are_refused_naming_the_records() -> None:
    decisions = ReviewDecisions.of(must_link=[("a1", "b1"), ("b1", "c1")], cannot_link=[("a1", "c1")])
    with pytest.raises(Conflict, match="a1 and c1"):
        link_records(TOWN, decisions=decisions)


def test_decisions_about_records_not_in_the_run_are_ignored() -> None:
    result = link_records(TOWN, decisions=ReviewDecisions.of(must_link=[("a1", "zz9")]))
    assert result.neighbor_of("a1") == result.neighbor_of("a2")


def test_every_record_gets_a_neighbor_key_that_is_its_smallest_record_id(town: object) -> None:
    clusters = town.clusters  # type: ignore[attr-defined]
    assert set(r.record_id for r in TOWN) <= set(clusters["record_id"])
    assert len(clusters) == len(set(clusters["record_id"])) == 3000 + len(TOWN)
    for key, members in clusters.groupby("neighbor_key")["record_id"]:
        assert key == min(members)


@pytest.mark.parametrize(("frame", "message"), [
    (pd.DataFrame({"first_name": ["Ann"]}), "record_id column"),
    (pd.DataFrame({"record_id": ["x", None]}), "position 1 has no record_id"),
    (pd.DataFrame({"record_id": ["x", "y", "x"]}), "record_id x appears more than once"),
])  # fmt: skip
def test_bad_input_is_refused_with_where_and_why(frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        link_records(frame)


@pytest.mark.parametrize("kwargs", [{"threshold": 1.5}, {"backend": "oracle"}, {"backend": "spark"},
                                    {"training": "guess"}])  # fmt: skip
def test_bad_options_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        link_records(TOWN, **kwargs)  # type: ignore[arg-type]


def test_the_shipped_model_matches_the_code_and_has_every_weight() -> None:
    settings, version = model_settings("duckdb")
    assert version != "unversioned"
    for comparison in settings["comparisons"]:
        for level in comparison["comparison_levels"]:
            if not level.get("is_null_level"):
                assert 0 < level["m_probability"] <= 1 and 0 < level["u_probability"] <= 1, level["label_for_charts"]


def test_the_cheaper_damerau_levenshtein_condition_answers_as_duckdb_does() -> None:
    import random

    import duckdb

    from heart.neighbors.linkage.engine import cheap_damerau

    rng = random.Random(12)
    alphabet = "0123456789-aé"

    def near(text: str) -> str:  # a few typist's edits: swap, substitute, insert, delete
        chars = list(text)
        for _ in range(rng.randint(0, 4)):
            at = rng.randrange(max(1, len(chars)))
            edit = rng.choice("sidt")
            if edit == "s" and chars:
                chars[at] = rng.choice(alphabet)
            elif edit == "i":
                chars.insert(at, rng.choice(alphabet))
            elif edit == "d" and chars:
                del chars[at]
            elif edit == "t" and at + 1 < len(chars):
                chars[at], chars[at + 1] = chars[at + 1], chars[at]
        return "".join(chars)

    lefts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 11))) for _ in range(3000)]
    pairs = pd.DataFrame({"dob_l": lefts, "dob_r": [near(text) for text in lefts]})
    pairs.loc[::97, "dob_l"] = None
    connection = duckdb.connect()
    connection.register("pairs", pairs)
    for k in (1, 2, 3):
        condition = f'damerau_levenshtein("dob_l", "dob_r") <= {k}'
        assert cheap_damerau(condition) != condition
        rows = connection.execute(f"select ({condition}) is not distinct from ({cheap_damerau(condition)}), "
                                  f"coalesce({condition}, false) from pairs").fetchall()  # fmt: skip
        assert all(same for same, _ in rows)
        assert 0 < sum(within for _, within in rows) < len(rows)  # both answers occur


def test_a_run_gives_the_same_neighbors_each_time() -> None:
    records = generate_records(3000, seed=8).records
    first, second = link_records(records), link_records(records)
    assert first.clusters.equals(second.clusters)
    assert first.pairs[["unique_id_l", "unique_id_r"]].equals(second.pairs[["unique_id_l", "unique_id_r"]])
