"""The nickname table: which given names can stand for the same person (Jon/Jonathan, Bill/William, Liz/Elizabeth).

A name's *forms* are the name itself and every full name it is a nickname of. Two first names are
nickname-equivalent when their forms share a name: "jon" → {jon, john, jonathan} meets "jonathan" → {jonathan};
"liz" and "beth" meet at "elizabeth". The linkage model compares these forms as arrays (one comparison level).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from functools import cache
from importlib.resources import files
from pathlib import Path

NICKNAME_FILES = ("nicknames.csv", "nicknames_es.csv")  # in heart/neighbors/linkage/data/, see its README


def data_dir() -> Path:
    """Where the linkage data files (nickname tables, the shipped model) live."""
    return Path(str(files("heart.neighbors.linkage").joinpath("data")))


def read_nickname_table(path: Path) -> list[tuple[str, str]]:
    """(full name, nickname) pairs from one CSV of ``name1,relationship,name2`` rows; a bad row names its line."""
    pairs: list[tuple[str, str]] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != ["name1", "relationship", "name2"]:
            raise ValueError(f"{path.name}: header must be name1,relationship,name2, not {reader.fieldnames}")
        for line, row in enumerate(reader, start=2):
            if row["relationship"] != "has_nickname" or not row["name1"].strip() or not row["name2"].strip():
                raise ValueError(f"{path.name} line {line}: expected '<name>,has_nickname,<nickname>'")
            pairs.append((row["name1"].strip().lower(), row["name2"].strip().lower()))
    return pairs


@cache
def nickname_forms() -> dict[str, frozenset[str]]:
    """For every name in the shipped tables, the full names it may stand for (itself included)."""
    stands_for: defaultdict[str, set[str]] = defaultdict(set)
    for name in NICKNAME_FILES:
        for full, nickname in read_nickname_table(data_dir() / name):
            stands_for[full].add(full)
            stands_for[nickname].update({nickname, full})
    return {name: frozenset(forms) for name, forms in stands_for.items()}


def nicknames_of(full_name: str) -> list[str]:
    """The nicknames the tables list for a full name (used by the generator), sorted."""
    full = full_name.lower()
    return sorted(name for name, forms in nickname_forms().items() if full in forms and name != full)


def forms_of(first_name: str) -> list[str]:
    """A normalised first name's forms, sorted (a name missing from the tables stands only for itself)."""
    return sorted(nickname_forms().get(first_name, frozenset({first_name})))
