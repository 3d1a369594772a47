"""The linkage model: what is compared, how pairs are found, and the reviewed parameters HEART ships.

Comparisons (each a Splink comparison; the first level that holds decides):

- first name: exact (weighted by how common the name is) · a known name or alias of one is a known name of the
  other · nickname-equivalent through the nickname table (Jon/Jonathan) · Jaro-Winkler ≥ 0.92 · the same
  Soundex code · Jaro-Winkler ≥ 0.80 · otherwise;
- date of birth: exact (frequency-weighted: 1 January is typed for "unknown") · day and month swapped · one
  digit wrong or two transposed · same year and month · two digits wrong · same day and month · otherwise;
- surname and home, together (see ``_surname_and_home``): the surname with the phone and the address (an
  address is "nearly the same" at Jaro-Winkler ≥ 0.90 or on the same street and house number, or with the
  number left off one), first and last name swapped (exactly, or each spelt nearly alike), the surname alone —
  with another home, or with no home on one of the records to compare — the phone or the address alone ·
  otherwise; the swap is counted here only, once (version 2025.1 counted it in the first name too, and a
  namesake written "Lee John" became certain);
- postcode, when the addresses differ (frequency-weighted: one of forty ZIPs in a city says little, one of
  thousands in a country a lot) · otherwise; when the addresses are the same or nearly, it adds nothing;
- sex: equal · otherwise.

Pairs are scored only when a blocking rule brings them together (same date of birth and a first or last
initial; same phone; same first name, last initial and birth year; same address and first initial or last name;
same date of birth and postcode; both names sounding the same (Soundex: so the same first and last name); the same
house number and street; first and last name swapped; same date of birth and one's first initial the other's
last; same postcode, first three letters of the last name and first initial), so a million records need some
fourteen million comparisons, not half a trillion.

Parameters: m and u probabilities are *shipped* (``data/model.json``, versioned, fitted by
``heart.neighbors.linkage.train`` on generated records with known identities — m from the labels, u by random
sampling); at each run only the prior (the chance two random records are the same person, which depends on
how many records there are) and the term frequencies are taken from the data at hand. Why shipped, not
re-estimated each run: a program's own neighbor records are few and unlabelled, EM on them is unstable and
would move weights under a reviewer's feet from one run to the next; a versioned model changes only by a
reviewed commit, and its figures are in the benchmark. ``link_records(..., training="estimate")`` is there
for a data set unlike the generated records (FEBRL, another city's import): it keeps the shipped structure,
re-estimates u by random sampling and m by EM on the data at hand, starting from the shipped values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on
from splink.blocking_rule_library import CustomRule

from heart.neighbors.linkage.nicknames import data_dir

MODEL_VERSION = "2025.5"


def model_path() -> Path:
    return data_dir() / "model.json"


def _first_name() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="first_name",
        comparison_levels=[
            cll.NullLevel("first_name"),
            cll.ExactMatchLevel("first_name").configure(tf_adjustment_column="first_name"),
            cll.ArrayIntersectLevel("full_names", min_intersection=1).configure(
                label_for_charts="a known name or alias is shared"),
            cll.ArrayIntersectLevel("name_forms", min_intersection=1).configure(
                label_for_charts="nickname of the same name"),
            cll.JaroWinklerLevel("first_name", 0.92),
            cll.CustomLevel("first_sound_l = first_sound_r", label_for_charts="sounds the same (Soundex)"),
            cll.JaroWinklerLevel("first_name", 0.80),
            # First and last name swapped: counted once, in surname_home, so no weight here; kept apart so that
            # "all other" is a first name that really differs (a twin's), not a swap (version 2025.4).
            cll.CustomLevel("jaro_winkler_similarity(first_name_l, last_name_r) >= 0.88 or "
                            "jaro_winkler_similarity(last_name_l, first_name_r) >= 0.88",
                            base_dialect_str="duckdb").configure(
                is_null_level=True, label_for_charts="first name is the other's surname (a swap: see surname_home)"),
            cll.ElseLevel(),
        ],
    )


def _date_of_birth() -> cl.CustomComparison:
    swapped = ("substr(dob_l, 1, 4) = substr(dob_r, 1, 4) and substr(dob_l, 6, 2) = substr(dob_r, 9, 2) "
               "and substr(dob_l, 9, 2) = substr(dob_r, 6, 2)")  # fmt: skip
    return cl.CustomComparison(
        output_column_name="dob",
        comparison_levels=[
            cll.NullLevel("dob"),
            cll.ExactMatchLevel("dob").configure(tf_adjustment_column="dob"),
            cll.CustomLevel(swapped, label_for_charts="day and month swapped"),
            cll.DamerauLevenshteinLevel("dob", 1).configure(label_for_charts="one digit wrong or two swapped"),
            cll.CustomLevel("substr(dob_l, 1, 7) = substr(dob_r, 1, 7)", label_for_charts="same year and month"),
            cll.DamerauLevenshteinLevel("dob", 2).configure(label_for_charts="two digits wrong"),
            cll.CustomLevel("substr(dob_l, 6, 5) = substr(dob_r, 6, 5)", label_for_charts="same day and month"),
            cll.ElseLevel(),
        ],
    )


def _same_street() -> cll.CustomLevel:
    """The same street and house number, or one of them left the number off ("leven st", "202 leven st")."""
    return cll.CustomLevel("street_l = street_r and (house_number_l = house_number_r or house_number_l is null "
                           "or house_number_r is null)")  # fmt: skip


def _surname_and_home() -> cl.CustomComparison:
    """Last name, phone and address in one comparison.

    A household shares a surname, an address and often a phone; scored apart, a father and his junior would
    collect the evidence of one home three times over and outweigh two different dates of birth.
    """
    last_exact, last_close = cll.ExactMatchLevel("last_name"), cll.JaroWinklerLevel("last_name", 0.92)
    phone_exact, address_exact = cll.ExactMatchLevel("phone"), cll.ExactMatchLevel("address")
    phone_close = cll.Or(cll.DamerauLevenshteinLevel("phone", 1),
                         cll.CustomLevel("substr(phone_l, -7) = substr(phone_r, -7)"))  # fmt: skip
    address_close = cll.Or(cll.JaroWinklerLevel("address", 0.90), _same_street())
    same_home = cll.Or(phone_exact, address_exact)
    # Both records give a phone, or both an address (and, further up, neither matched): a home to tell them apart.
    known_home = cll.CustomLevel("(phone_l is not null and phone_r is not null) "
                                 "or (address_l is not null and address_r is not null)")
    near_home = cll.Or(phone_close, address_close)
    return cl.CustomComparison(
        output_column_name="surname_home",
        comparison_levels=[
            cll.And(cll.NullLevel("last_name"), cll.NullLevel("phone"), cll.NullLevel("address")),
            cll.And(last_exact, phone_exact, address_exact).configure(
                label_for_charts="same surname, phone and address"),
            cll.And(last_exact, same_home).configure(label_for_charts="same surname and phone or address"),
            cll.And(last_exact, near_home).configure(label_for_charts="same surname, phone or address nearly the same"),
            cll.ColumnsReversedLevel("first_name", "last_name", symmetrical=True).configure(
                label_for_charts="first and last name swapped"),
            cll.CustomLevel("jaro_winkler_similarity(first_name_l, last_name_r) >= 0.88 and "
                            "jaro_winkler_similarity(last_name_l, first_name_r) >= 0.88",
                            label_for_charts="first and last name swapped, spelt nearly alike",
                            base_dialect_str="duckdb"),
            cll.And(last_close, cll.Or(same_home, near_home)).configure(
                label_for_charts="surname nearly the same, phone or address the same or nearly"),
            cll.And(last_exact, known_home).configure(tf_adjustment_column="last_name",
                                                      label_for_charts="same surname, another home"),
            last_exact.configure(tf_adjustment_column="last_name", label_for_charts="same surname, no home to compare"),
            last_close.configure(label_for_charts="surname nearly the same, another home"),
            phone_exact.configure(tf_adjustment_column="phone", label_for_charts="same phone, another surname"),
            address_exact.configure(tf_adjustment_column="address", label_for_charts="same address, another surname"),
            cll.Or(near_home, cll.JaroWinklerLevel("last_name", 0.80)).configure(
                label_for_charts="surname, phone or address somewhat alike"),
            cll.ElseLevel(),
        ],
    )


def _postcode() -> cl.CustomComparison:
    """The postcode, weighed by how common it is here: one of forty ZIPs in a city, one of thousands in a country.

    When the addresses are the same or nearly (the same street) the postcode adds nothing — the address was
    counted already, and a street lies in one postcode — so that level has no weight.
    """
    return cl.CustomComparison(
        output_column_name="postcode",
        comparison_levels=[
            cll.Or(cll.NullLevel("postcode"), cll.JaroWinklerLevel("address", 0.90), _same_street()).configure(
                is_null_level=True, label_for_charts="no postcode, or the same address or nearly"),
            cll.ExactMatchLevel("postcode").configure(tf_adjustment_column="postcode",
                                                      label_for_charts="same postcode, another address"),
            cll.ElseLevel(),
        ],
    )


def _sex() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="sex",
        comparison_levels=[cll.NullLevel("sex"), cll.ExactMatchLevel("sex"), cll.ElseLevel()],
    )


BLOCKING_RULES = (
    block_on("dob", "last_initial"),
    block_on("dob", "first_initial"),
    block_on("phone"),
    block_on("first_name", "last_initial", "substr(dob, 1, 4)"),
    block_on("address", "first_initial"),
    block_on("address", "last_name"),  # Liz for Elizabeth at the same home, birthday mistyped
    block_on("dob", "postcode"),  # a whole name replaced or misheard, same birthday and area
    # Both names misspelt, sounding the same; or spelt the same: a rule on the same first and last name would find
    # no pair this one does not (a name's Soundex is never missing), and cost a join: removed, the weights untouched.
    block_on("first_sound", "last_sound"),
    block_on("house_number", "substr(street, 1, 4)"),  # the same home, names and birthday mistyped or replaced
    CustomRule("l.first_name = r.last_name and l.last_name = r.first_name"),  # first and last name swapped
    CustomRule("l.dob = r.dob and l.first_initial = r.last_initial"),  # swapped, and one of them misspelt
    # Same area, a name mistyped and the birth date wrong or missing: the surname's first letters and the first
    # initial (2.3 M pairs no other rule finds at a million records, 1,481 of them true). The same postcode, first
    # name's sound and last initial was dropped: 3.0 M pairs of its own there, 155 of them true (of 601,857), and
    # once u on another source is rid of its true pairs, four of FEBRL 3's and two of FEBRL 2's.
    block_on("postcode", "substr(last_name, 1, 3)", "first_initial"),
)

# For each term-frequency column whose bare exact level is a narrow one, the levels that imply the column agrees
# (their u add up to the chance two different people agree on it; see engine._tf_bases).
TF_AGREEMENT_LEVELS = {
    "last_name": ("same surname, phone and address", "same surname and phone or address",
                  "same surname, phone or address nearly the same", "same surname, another home",
                  "same surname, no home to compare"),
    "phone": ("same surname, phone and address", "same phone, another surname"),
    "address": ("same surname, phone and address", "same address, another surname"),
}

# Rules for expectation maximisation on the data at hand (each leaves the compared fields of the other free).
EM_BLOCKING_RULES = (block_on("dob"), block_on("first_name", "last_name"), block_on("postcode"))

# Rules that admit almost no false pairs, to count sure matches and so estimate the prior at each run.
DETERMINISTIC_RULES = (block_on("first_name", "last_name", "dob"), block_on("first_name", "last_name", "phone"))
DETERMINISTIC_RECALL = 0.6  # the share of true pairs they find on generated records (measured by train.py)
U_FLOOR = 1e-7  # the u of a level random pairs never reach: about one in ten million (train.py, engine.py)


def settings_creator(*, probability_two_random_records_match: float = 1e-4) -> SettingsCreator:
    """The model's structure, without fitted parameters (for training)."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[_first_name(), _date_of_birth(), _surname_and_home(), _postcode(), _sex()],
        blocking_rules_to_generate_predictions=list(BLOCKING_RULES),
        probability_two_random_records_match=probability_two_random_records_match,
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=False,
    )


def load_model(path: Path | None = None) -> dict[str, Any]:
    """The shipped model settings (a Splink settings dictionary with m and u probabilities)."""
    with (path or model_path()).open(encoding="utf-8") as handle:
        settings: dict[str, Any] = json.load(handle)
    return settings


def with_link_type(settings: dict[str, Any], link_type: str) -> dict[str, Any]:
    """The same model for another link type (``link_only`` between two files, as FEBRL 4)."""
    return {**settings, "link_type": link_type}
