"""Person records as the linkage engine takes them, and their normalisation into the columns the model compares.

Every field but the record id is optional: a CCD contact may give a first name and a phone, an encounter a
full name and a date of birth. Normalisation is vectorised (pandas) and runs a Python function once per
*distinct* value, so a million records with a few hundred thousand distinct addresses normalise in seconds.
Placeholders that clerks type for "unknown" (a phone of zeros, an address "HOMELESS", a DOB of 1900-01-01)
become missing: they say nothing about who a person is, and matching on them would merge strangers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from heart.errors import InvalidInput
from heart.neighbors.linkage.nicknames import forms_of

INPUT_COLUMNS = ("record_id", "first_name", "last_name", "aliases", "date_of_birth", "phone", "address",
                 "postcode", "sex")  # fmt: skip
MODEL_COLUMNS = ("unique_id", "first_name", "last_name", "name_forms", "full_names", "dob", "phone", "address",
                 "postcode", "sex", "first_initial", "last_initial", "first_sound", "last_sound", "house_number",
                 "street")  # fmt: skip


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """One record of a person as an encounter, a CCD contact or an import wrote it."""

    record_id: str
    first_name: str | None = None
    last_name: str | None = None
    aliases: Sequence[str] = field(default_factory=tuple)  # other names they go by ("Big Mike", a maiden name)
    date_of_birth: date | str | None = None  # a date, or an ISO 'YYYY-MM-DD' string
    phone: str | None = None
    address: str | None = None  # street line, with unit
    postcode: str | None = None
    sex: str | None = None


_PLACEHOLDER_PHONES = {"0" * 10, "1" * 10, "9" * 10, "1234567890", "0123456789", "5555555555"}
_PLACEHOLDER_ADDRESSES = {"", "homeless", "unhoused", "unsheltered", "unknown", "none", "na", "n a", "no address",
                          "refused", "declined", "no fixed address", "nfa", "transient",
                          "general delivery"}  # fmt: skip
_PLACEHOLDER_NAMES = {"", "unknown", "unk", "none", "na", "n a", "refused", "declined", "john doe", "jane doe",
                      "doe", "fnu", "lnu", "nfn", "nln"}  # fmt: skip
_PLACEHOLDER_DOBS = {"1900-01-01", "1901-01-01", "1800-01-01", "1970-01-01"}
_STREET_WORDS = {"street": "st", "avenue": "ave", "av": "ave", "road": "rd", "drive": "dr", "lane": "ln",
                 "boulevard": "blvd", "court": "ct", "circle": "cir", "place": "pl", "highway": "hwy",
                 "parkway": "pkwy", "terrace": "ter", "trail": "trl", "apartment": "apt", "suite": "ste",
                 "unit": "apt", "north": "n", "south": "s", "east": "e", "west": "w", "#": "apt"}  # fmt: skip
_NOT_A_LETTER = re.compile(r"[^a-z ]+")
_NOT_ALNUM = re.compile(r"[^a-z0-9# ]+")
_SPACES = re.compile(r"\s+")
_DIGITS = re.compile(r"\D+")


def _ascii_lower(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()


def normalise_name(value: object) -> str | None:
    """Lower case, accents and punctuation gone ("O'Brien" → "obrien", "Núñez-Paz" → "nunez paz")."""
    if not isinstance(value, str):
        return None
    text = _ascii_lower(value).replace("'", "").replace("-", " ")
    text = _SPACES.sub(" ", _NOT_A_LETTER.sub(" ", text)).strip()
    return None if text in _PLACEHOLDER_NAMES else text


def normalise_phone(value: object) -> str | None:
    """The last ten digits (a leading country code 1 dropped); fewer than seven digits or a placeholder → None."""
    if not isinstance(value, str):
        return None
    digits = _DIGITS.sub("", value)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    digits = digits[-10:]
    if len(digits) < 7 or digits in _PLACEHOLDER_PHONES or len(set(digits)) == 1:
        return None
    return digits


def normalise_address(value: object) -> str | None:
    """Lower case, punctuation gone, common street words abbreviated ("123 North Main Street" → "123 n main st")."""
    if not isinstance(value, str):
        return None
    text = _SPACES.sub(" ", _NOT_ALNUM.sub(" ", _ascii_lower(value).replace("#", " # "))).strip()
    if text in _PLACEHOLDER_ADDRESSES:
        return None
    return " ".join(_STREET_WORDS.get(word, word) for word in text.split(" "))


def normalise_postcode(value: object) -> str | None:
    """The first five digits of a ZIP (or the digits of another country's postcode)."""
    if not isinstance(value, str | int):
        return None
    digits = _DIGITS.sub("", str(value))[:5]
    return digits if len(digits) >= 4 else None


def normalise_sex(value: object) -> str | None:
    """'f', 'm' or 'x' (another sex recorded); unknown or refused → None."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    if text in {"f", "female", "woman", "w"}:
        return "f"
    if text in {"m", "male", "man"}:
        return "m"
    return "x" if text in {"x", "other", "intersex", "nonbinary", "non-binary"} else None


def normalise_dob(value: object) -> str | None:
    """An ISO date string; an impossible, future or placeholder date → None."""
    if isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, str):
        text = value.strip()[:10]
    else:
        return None
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        return None
    if text in _PLACEHOLDER_DOBS or parsed.year < 1900 or parsed > date.today():
        return None
    return parsed.isoformat()


_SOUNDEX_CODES = {**dict.fromkeys("bfpv", "1"), **dict.fromkeys("cgjkqsxz", "2"), **dict.fromkeys("dt", "3"),
                  "l": "4", **dict.fromkeys("mn", "5"), "r": "6"}  # fmt: skip


def soundex(name: object) -> str | None:
    """American Soundex of a normalised name ("smith" and "smyth" → "s530"; spaces ignored: "braid en" → "b635").

    Blocking on it brings together names a typo made unequal in both first and last name at once.
    """
    if not isinstance(name, str):
        return None
    letters = name.replace(" ", "")
    if not letters:
        return None
    code, previous = letters[0], _SOUNDEX_CODES.get(letters[0], "")
    for letter in letters[1:]:
        digit = _SOUNDEX_CODES.get(letter, "")
        if digit and digit != previous:
            code += digit
        if letter not in "hw":
            previous = digit
    return (code + "000")[:4]


_HOUSE_NUMBER = re.compile(r"^(\d+)\s*(.*)$")
_UNIT = re.compile(r"\s*\b(apt|ste|lot|rm|flat)\b.*$")


def house_and_street(address: object) -> tuple[str | None, str | None]:
    """A normalised address split into its house number and its street ("12 oak st apt 3" → "12", "oak st").

    Either may be missing ("oak st", "12"); the street has no unit and no spaces ("poyntonstreet" and "poynton st"
    differ only by the street word then), for blocking and for partial agreement between two addresses.
    """
    if not isinstance(address, str):
        return None, None
    found = _HOUSE_NUMBER.match(address)
    number, rest = (found.group(1), found.group(2)) if found else (None, address)
    street = _UNIT.sub("", rest).replace(" ", "")
    return number, street or None


def _per_distinct(column: pd.Series, function: Callable[[object], object]) -> pd.Series:
    """Apply a Python function once per distinct value (names and addresses repeat a lot)."""
    if column.empty:
        return column.astype(object)
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    mapped = np.empty(len(uniques) + 1, dtype=object)  # one slot per distinct value; the last for a missing one
    for index, value in enumerate(uniques):
        mapped[index] = function(value)
    # a missing input value goes through the function too (it decides what missing means); code -1 takes the last
    mapped[-1] = function(None) if (codes == -1).any() else None
    return pd.Series(mapped[codes], index=column.index, dtype=object)


def _name_forms(first_name: object) -> list[str] | None:
    if not isinstance(first_name, str):
        return None
    forms = set(forms_of(first_name))
    first_token = first_name.split(" ")[0]
    forms.update(forms_of(first_token))  # "mary ann" also stands for "mary"
    return sorted(forms)


def _full_names(first: object, last: object, aliases: object) -> list[str] | None:
    names = set()
    if isinstance(first, str) and isinstance(last, str):
        names.add(f"{first} {last}")
    if isinstance(aliases, list | tuple):
        for alias in aliases:
            normalised = normalise_name(alias)
            if normalised:
                names.add(normalised)
    return sorted(names) or None


def records_frame(records: Iterable[PersonRecord]) -> pd.DataFrame:
    """The input columns of a list of records, as a DataFrame ``prepare`` takes."""
    rows = [asdict(record) for record in records]
    return pd.DataFrame(rows, columns=list(INPUT_COLUMNS))


def prepare(records: pd.DataFrame | Iterable[PersonRecord]) -> pd.DataFrame:
    """Normalise records into the model's columns (``MODEL_COLUMNS``); refuses missing or repeated record ids.

    ``records`` is a list of ``PersonRecord`` or a DataFrame with the ``INPUT_COLUMNS`` (any but ``record_id``
    may be absent). Errors name the row position, never a value: ids are not personal, values are.
    """
    frame = records if isinstance(records, pd.DataFrame) else records_frame(records)
    if "record_id" not in frame.columns:
        raise InvalidInput("records need a record_id column", field="record_id")
    ids = frame["record_id"]
    if ids.isna().any():
        raise InvalidInput(f"record at position {int(ids.isna().to_numpy().argmax())} has no record_id",
                           field="record_id")  # fmt: skip
    ids = ids.astype(str)
    repeated = ids.duplicated()
    if repeated.any():
        position = int(repeated.to_numpy().argmax())
        raise InvalidInput(f"record_id {ids.iloc[position]} appears more than once", field="record_id")

    def column(name: str) -> pd.Series:
        return frame[name] if name in frame.columns else pd.Series([None] * len(frame), index=frame.index)

    out = pd.DataFrame({"unique_id": ids.to_numpy()})
    first = _per_distinct(column("first_name"), normalise_name).to_numpy()
    last = _per_distinct(column("last_name"), normalise_name).to_numpy()
    out["first_name"] = first
    out["last_name"] = last
    out["name_forms"] = _per_distinct(pd.Series(first), _name_forms).to_numpy()
    aliases = column("aliases").to_numpy()
    both = pd.Series(first, dtype=object) + " " + pd.Series(last, dtype=object)  # missing where either is
    out["full_names"] = [_full_names(f, la, a) if isinstance(a, list | tuple) and len(a) else
                         ([name] if isinstance(name, str) else None)
                         for f, la, a, name in zip(first, last, aliases, both, strict=True)]  # fmt: skip
    out["dob"] = _per_distinct(column("date_of_birth"), normalise_dob).to_numpy()
    out["phone"] = _per_distinct(column("phone"), normalise_phone).to_numpy()
    out["address"] = _per_distinct(column("address"), normalise_address).to_numpy()
    out["postcode"] = _per_distinct(column("postcode"), normalise_postcode).to_numpy()
    out["sex"] = _per_distinct(column("sex"), normalise_sex).to_numpy()
    out["first_initial"] = out["first_name"].str[:1]
    out["last_initial"] = out["last_name"].str[:1]
    out["first_sound"] = _per_distinct(out["first_name"], soundex).to_numpy()
    out["last_sound"] = _per_distinct(out["last_name"], soundex).to_numpy()
    house_street = _per_distinct(out["address"], house_and_street).to_numpy()
    out["house_number"] = [number for number, _ in house_street]
    out["street"] = [street for _, street in house_street]
    return out[list(MODEL_COLUMNS)]
