"""Realistic person records with known identities, to measure linkage and to seed demo histories.

People live in households (sharing a surname, an address and often a phone), some in shelters (hundreds
of strangers at one address), some have no address; twins share a surname, a date of birth and a home; a
junior shares his father's full name and address; namesakes share a full name and nothing else. Each
person is recorded one or more times, and each record may carry what clerks and callers really produce:
a nickname (Bill for William), a typo, the day and month of birth swapped, a wrong digit in a phone, a new
phone or address, first and last name swapped, a field left blank, and formatting noise ("(919) 555-0101",
upper case, accents dropped). Names come from Faker's locale tables (en_US weighted by frequency, es_MX and
several others for the long tail), so surnames follow a realistic, uneven spread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from faker.providers.person import de_DE, en_GB, en_IE, en_IN, en_US, es_MX, fr_FR, it_IT

from heart.neighbors.linkage.nicknames import nicknames_of
from heart.neighbors.linkage.records import INPUT_COLUMNS


@dataclass(frozen=True, slots=True)
class RecordErrors:
    """How often each kind of error lands on a record (each drawn independently)."""

    nickname: float = 0.10
    first_name_typo: float = 0.05
    last_name_typo: float = 0.05
    names_swapped: float = 0.01
    first_name_missing: float = 0.02
    last_name_missing: float = 0.03
    dob_missing: float = 0.10
    dob_day_month_swapped: float = 0.03
    dob_digit_typo: float = 0.03
    phone_missing: float = 0.30
    phone_digit_error: float = 0.05
    phone_changed: float = 0.10
    address_missing: float = 0.15
    address_changed: float = 0.10
    address_variant: float = 0.10  # "Street" for "St", the unit left off
    sex_missing: float = 0.20
    alias_used: float = 0.30  # of a person's records, when the person has an alias


@dataclass(frozen=True, slots=True)
class GeneratedRecords:
    """Records (``INPUT_COLUMNS``) and, kept apart as a linker never sees it, who each record really is."""

    records: pd.DataFrame
    person_of_record: pd.Series  # index: record_id, value: person id


def _name_pool(weighted: dict[str, float], rest: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Names with sampling probabilities: a weighted head (70%) and a uniform long tail (30%)."""
    head = np.array(list(weighted), dtype=object)
    head_p = np.array(list(weighted.values()), dtype=float)
    tail = np.array(sorted(set(rest) - set(weighted)), dtype=object)
    probabilities = np.concatenate([0.7 * head_p / head_p.sum(), np.full(len(tail), 0.3 / len(tail))])
    return np.concatenate([head, tail]), probabilities


def _pools() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    others = (es_MX, en_GB, de_DE, fr_FR, it_IT, en_IN, en_IE)
    return {
        "last": _name_pool(dict(en_US.Provider.last_names), [n for m in others for n in m.Provider.last_names]),
        "f": _name_pool(dict(en_US.Provider.first_names_female),
                        [n for m in others for n in m.Provider.first_names_female]),
        "m": _name_pool(dict(en_US.Provider.first_names_male),
                        [n for m in others for n in m.Provider.first_names_male]),
    }


def _choice(rng: np.random.Generator, pool: tuple[np.ndarray, np.ndarray], size: int) -> np.ndarray:
    names, probabilities = pool
    return names[rng.choice(len(names), size=size, p=probabilities)]


def _phones(rng: np.random.Generator, size: int) -> np.ndarray:
    area = rng.integers(201, 990, size=size)
    exchange = rng.integers(200, 1000, size=size)
    line = rng.integers(0, 10000, size=size)
    return np.array([f"{a:03d}{e:03d}{n:04d}" for a, e, n in zip(area, exchange, line, strict=True)], dtype=object)


def _addresses(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    streets = [f"{name} {suffix}" for name in list(en_US.Provider.last_names)[:400]
               for suffix in ("Street", "Avenue", "Road", "Drive", "Lane", "Court")]
    numbers = rng.integers(1, 9999, size=size)
    street = rng.integers(0, len(streets), size=size)
    unit = rng.random(size) < 0.25
    unit_number = rng.integers(1, 400, size=size)
    addresses = np.array(
        [f"{n} {streets[s]}" + (f" Apt {u}" if has_unit else "")
         for n, s, has_unit, u in zip(numbers, street, unit, unit_number, strict=True)], dtype=object)  # fmt: skip
    zips = np.array([f"{z:05d}" for z in 27000 + (street % 40) * 7], dtype=object)  # a street lies in one ZIP
    return addresses, zips


def _dates_of_birth(rng: np.random.Generator, size: int) -> np.ndarray:
    days = rng.integers(0, 365 * 75, size=size)  # ages 0..75 at 2025-01-01
    return (np.datetime64("2025-01-01") - days.astype("timedelta64[D]")).astype("datetime64[D]")


def generate_people(n_people: int, *, seed: int = 0) -> pd.DataFrame:
    """True identities: person_id, first/last name, sex, dob, phone, address, postcode, alias (mostly None)."""
    rng = np.random.default_rng(seed)
    pools = _pools()
    sizes = rng.choice([1, 2, 3, 4, 5], size=n_people, p=[0.45, 0.25, 0.15, 0.1, 0.05])
    household = np.repeat(np.arange(len(sizes)), sizes)[:n_people]
    n_households = int(household.max()) + 1
    sex = np.where(rng.random(n_people) < 0.5, "f", "m").astype(object)
    first = np.where(sex == "f", _choice(rng, pools["f"], n_people), _choice(rng, pools["m"], n_people))
    house_last = _choice(rng, pools["last"], n_households)
    last = house_last[household]
    own_last = rng.random(n_people) < 0.15  # partners and lodgers keep their own surname
    last[own_last] = _choice(rng, pools["last"], int(own_last.sum()))
    house_address, house_zip = _addresses(rng, n_households)
    address, postcode = house_address[household].copy(), house_zip[household].copy()
    phone = _phones(rng, n_people)
    house_phone = _phones(rng, n_households)
    shares_phone = rng.random(n_people) < 0.3
    phone[shares_phone] = house_phone[household[shares_phone]]
    dob = _dates_of_birth(rng, n_people)
    # shelters: 2% of people give a shelter's address (one of a few dozen), 5% have none at all
    shelter_address, shelter_zip = _addresses(rng, max(3, n_people // 2000))
    in_shelter = rng.random(n_people) < 0.02
    which = rng.integers(0, len(shelter_address), size=int(in_shelter.sum()))
    address[in_shelter], postcode[in_shelter] = shelter_address[which], shelter_zip[which]
    no_address = rng.random(n_people) < 0.05
    address[no_address] = postcode[no_address] = None
    people = pd.DataFrame({"person_id": np.arange(n_people), "household": household, "first_name": first,
                           "last_name": last, "sex": sex, "dob": dob, "phone": phone, "address": address,
                           "postcode": postcode})  # fmt: skip
    _add_look_alikes(people, rng)
    people["dob"] = people["dob"].dt.strftime("%Y-%m-%d")
    has_alias = rng.random(n_people) < 0.05
    people["alias"] = None
    people.loc[has_alias, "alias"] = _choice(rng, pools["m"], int(has_alias.sum()))
    return people


LOOK_ALIKE_HOUSEHOLDS = 0.02  # of households of two or more: twins in 2%, a junior and his father in another 2%


NAME = ["first_name", "last_name", "sex"]


def _add_look_alikes(people: pd.DataFrame, rng: np.random.Generator) -> None:
    """Twins, juniors and namesakes: different people a careless linker would merge."""
    n = len(people)
    households = people.groupby("household").indices
    pairs = [rows for rows in households.values() if len(rows) >= 2]
    picked = rng.permutation(len(pairs))
    share = round(len(pairs) * LOOK_ALIKE_HOUSEHOLDS)
    twins, juniors = picked[:share], picked[share : 2 * share]
    for index in twins:  # same surname, date of birth and home; a sibling's first name
        a, b = pairs[index][:2]
        shared = ["last_name", "dob", "address", "postcode"]
        people.loc[b, shared] = people.loc[a, shared].to_numpy()
    for index in juniors:  # father and son: the same full name and address, 20-35 years apart
        a, b = pairs[index][:2]
        people.loc[b, NAME] = people.loc[a, NAME].to_numpy()
        people.loc[b, "dob"] = people.loc[a, "dob"] + np.timedelta64(int(rng.integers(20 * 365, 35 * 365)), "D")
    namesakes = rng.choice(n, size=(max(1, n // 100), 2), replace=True)
    for a, b in namesakes:  # the same full name, nothing else in common
        if a != b:
            people.loc[b, NAME] = people.loc[a, NAME].to_numpy()


_KEYBOARD_NEIGHBORS = dict(zip("abcdefghijklmnopqrstuvwxyz", "svxsrdhjokklnmpowtayibecux", strict=True))


def _typo(rng: np.random.Generator, text: str) -> str:
    if len(text) < 3:
        return text
    position = int(rng.integers(1, len(text)))  # the first letter is usually right
    kind = rng.integers(0, 4)
    if kind == 0:  # deletion
        return text[:position] + text[position + 1 :]
    if kind == 1:  # transposition
        if position >= len(text) - 1:
            position -= 1
        return text[:position] + text[position + 1] + text[position] + text[position + 2 :]
    if kind == 2:  # a neighboring key
        char = text[position].lower()
        return text[:position] + _KEYBOARD_NEIGHBORS.get(char, char) + text[position + 1 :]
    return text[:position] + text[position] + text[position:]  # a doubled letter


def _phone_digit_error(rng: np.random.Generator, phone: str) -> str:
    if rng.random() < 0.1:  # an overlay area code: the same line under another area code
        return str(int(rng.integers(201, 990))) + phone[3:]
    position = int(rng.integers(0, 10))
    if rng.random() < 0.5 and position < 9:
        return phone[:position] + phone[position + 1] + phone[position] + phone[position + 2 :]
    return phone[:position] + str((int(phone[position]) + int(rng.integers(1, 10))) % 10) + phone[position + 1 :]


def _format_phone(rng: np.random.Generator, phone: str) -> str:
    style = rng.integers(0, 4)
    if style == 0:
        return f"({phone[:3]}) {phone[3:6]}-{phone[6:]}"
    if style == 1:
        return f"{phone[:3]}-{phone[3:6]}-{phone[6:]}"
    return f"+1 {phone[:3]} {phone[3:6]} {phone[6:]}" if style == 2 else phone


def _address_variant(rng: np.random.Generator, address: str) -> str:
    text = address.split(" Apt ")[0] if " Apt " in address and rng.random() < 0.5 else address
    for long, short in (("Street", "St"), ("Avenue", "Ave."), ("Road", "Rd"), ("Drive", "Dr"), ("Lane", "Ln")):
        text = text.replace(long, short)
    return text.upper() if rng.random() < 0.5 else text


def _swap_day_month(dob: str) -> str | None:
    year, month, day = dob[:4], dob[5:7], dob[8:10]
    if day == month or int(day) > 12:
        return None
    return f"{year}-{day}-{month}"


def _dob_digit_typo(rng: np.random.Generator, dob: str) -> str:
    for _ in range(5):
        text = list(dob)
        position = int(rng.choice([2, 3, 6, 8, 9]))
        text[position] = str((int(text[position]) + int(rng.integers(1, 10))) % 10)
        candidate = "".join(text)
        try:
            if date.fromisoformat(candidate) < date(2025, 1, 1):
                return candidate
        except ValueError:
            continue
    return dob


def _corrupt(rng: np.random.Generator, person: dict, errors: RecordErrors, spares: dict) -> dict:
    """One record of a person, with the errors this draw gives it."""
    roll = rng.random(17)
    first, last = person["first_name"], person["last_name"]
    nicknames = nicknames_of(first) if roll[0] < errors.nickname else []
    if nicknames:
        first = str(rng.choice(nicknames)).title()
    if roll[1] < errors.first_name_typo:
        first = _typo(rng, first)
    if roll[2] < errors.last_name_typo:
        last = _typo(rng, last)
    if roll[3] < errors.names_swapped:
        first, last = last, first
    dob = person["dob"]
    if roll[4] < errors.dob_day_month_swapped:
        dob = _swap_day_month(dob) or dob
    elif roll[5] < errors.dob_digit_typo:
        dob = _dob_digit_typo(rng, dob)
    phone = person["phone"]
    if roll[6] < errors.phone_changed:
        phone = spares["phone"]
    elif roll[7] < errors.phone_digit_error:
        phone = _phone_digit_error(rng, phone)
    address, postcode = person["address"], person["postcode"]
    if address is not None and roll[8] < errors.address_changed:
        address, postcode = spares["address"], spares["postcode"]
    elif address is not None and roll[9] < errors.address_variant:
        address = _address_variant(rng, address)
    record = {
        "first_name": None if roll[10] < errors.first_name_missing else (first.upper() if roll[16] < 0.2 else first),
        "last_name": None if roll[11] < errors.last_name_missing else (last.upper() if roll[16] < 0.2 else last),
        "aliases": [person["alias"]] if person["alias"] and roll[15] < errors.alias_used else [],
        "date_of_birth": None if roll[12] < errors.dob_missing else dob,
        "phone": None if roll[13] < errors.phone_missing else _format_phone(rng, phone),
        "address": None if roll[14] < errors.address_missing else address,
        "postcode": postcode if address is not None else None,
        "sex": None if rng.random() < errors.sex_missing else person["sex"],
    }
    return record


def one_record(rng: np.random.Generator, person: dict, errors: RecordErrors | None = None) -> dict:
    """One more record of ``person`` (a row of ``generate_people``), with the errors this draw gives it: as a
    responder would write it at one more encounter (the demo's neighbors are made this way)."""
    phone = _phones(rng, 1)[0]
    address, postcode = _addresses(rng, 1)
    return _corrupt(rng, person, errors or RecordErrors(), {"phone": phone, "address": address[0],
                                                            "postcode": postcode[0]})


def generate_records(
    n_records: int,
    *,
    seed: int = 0,
    mean_records_per_person: float = 1.6,
    errors: RecordErrors | None = None,
) -> GeneratedRecords:
    """About ``n_records`` records of people recorded a geometric number of times (mean as given), with errors."""
    rng = np.random.default_rng(seed + 1)
    errors = errors or RecordErrors()
    n_people = max(1, round(n_records / mean_records_per_person))
    people = generate_people(n_people, seed=seed)
    times = rng.geometric(1 / mean_records_per_person, size=n_people)
    times = np.minimum(times, 40)
    spare_phones = _phones(rng, int(times.sum()))
    spare_addresses, spare_zips = _addresses(rng, int(times.sum()))
    rows: list[dict] = []
    owners: list[int] = []
    columns = people.to_dict(orient="list")
    for index in range(n_people):
        person = {key: values[index] for key, values in columns.items()}
        for _ in range(int(times[index])):
            spare = len(rows)
            spares = {"phone": spare_phones[spare], "address": spare_addresses[spare], "postcode": spare_zips[spare]}
            rows.append(_corrupt(rng, person, errors, spares))
            owners.append(index)
            if len(rows) >= n_records:
                break
        if len(rows) >= n_records:
            break
    order = rng.permutation(len(rows))  # records arrive in no particular order
    frame = pd.DataFrame([rows[i] for i in order])
    frame.insert(0, "record_id", [f"r{i:07d}" for i in range(len(rows))])
    person_of_record = pd.Series([owners[i] for i in order], index=frame["record_id"], name="person_id")
    return GeneratedRecords(records=frame[list(INPUT_COLUMNS)], person_of_record=person_of_record)
