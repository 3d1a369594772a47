"""Addresses read the same however they are typed: case, punctuation, abbreviations (USPS Publication 28's street
suffixes and directions), spelled-out ordinals, unit designators and the city's own words are made uniform.

``parse`` splits a typed address into its house number and street parts; ``street_key`` is the uniform name of a
street (``E MAIN ST``) and the key an address point is stored and matched under. A city adds its own abbreviations
and the words that close an address (its name, its state) in its ``places.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

SUFFIXES: dict[str, str] = {
    "STREET": "ST", "STR": "ST", "STRT": "ST", "ST": "ST", "AVENUE": "AVE", "AV": "AVE", "AVEN": "AVE",
    "AVN": "AVE", "AVE": "AVE", "ROAD": "RD", "RD": "RD", "BOULEVARD": "BLVD", "BOUL": "BLVD", "BLV": "BLVD",
    "BLVD": "BLVD", "DRIVE": "DR", "DRV": "DR", "DR": "DR", "LANE": "LN", "LN": "LN", "COURT": "CT", "CT": "CT",
    "PLACE": "PL", "PL": "PL", "PARKWAY": "PKWY", "PKY": "PKWY", "PKWY": "PKWY", "HIGHWAY": "HWY", "HWY": "HWY",
    "CIRCLE": "CIR", "CIR": "CIR", "TERRACE": "TER", "TER": "TER", "TRAIL": "TRL", "TRL": "TRL", "WAY": "WAY",
    "SQUARE": "SQ", "SQ": "SQ", "EXPRESSWAY": "EXPY", "EXPY": "EXPY", "FREEWAY": "FWY", "FWY": "FWY",
    "ALLEY": "ALY", "ALY": "ALY", "CROSSING": "XING", "XING": "XING", "LOOP": "LOOP", "PIKE": "PIKE",
    "EXTENSION": "EXT", "EXT": "EXT", "PLAZA": "PLZ", "PLZ": "PLZ",
}
"""USPS Publication 28 street suffixes (the common ones) -> their standard abbreviation."""
DIRECTIONS: dict[str, str] = {
    "NORTH": "N", "N": "N", "SOUTH": "S", "S": "S", "EAST": "E", "E": "E", "WEST": "W", "W": "W",
    "NORTHEAST": "NE", "NE": "NE", "NORTHWEST": "NW", "NW": "NW", "SOUTHEAST": "SE", "SE": "SE",
    "SOUTHWEST": "SW", "SW": "SW",
}
ORDINALS: dict[str, str] = {
    "1ST": "FIRST", "2ND": "SECOND", "3RD": "THIRD", "4TH": "FOURTH", "5TH": "FIFTH", "6TH": "SIXTH",
    "7TH": "SEVENTH", "8TH": "EIGHTH", "9TH": "NINTH", "10TH": "TENTH", "11TH": "ELEVENTH", "12TH": "TWELFTH",
}
"""Numbered streets are read as words ("9th St" is "NINTH ST"), so a typo in either form still finds them."""
UNIT_WORDS = frozenset({"APT", "APARTMENT", "UNIT", "STE", "SUITE", "RM", "ROOM", "LOT", "BLDG", "FL", "FLOOR"})
_NUMBER = re.compile(r"^(\d+)[A-Z]?$")
_NOT_WORD = re.compile(r"[^A-Z0-9#&/ ]+")


@dataclass(frozen=True, slots=True)
class Words:
    """The words a city adds: more abbreviations (word -> standard form) and the words that close an address."""

    abbreviations: Mapping[str, str]
    closing: frozenset[str]


NO_WORDS = Words({}, frozenset())


@dataclass(frozen=True, slots=True)
class Parsed:
    """A typed address, read: its house number (or block) and the street's parts, each in standard form."""

    number: int | None
    predir: str
    name: str
    suffix: str
    postdir: str

    @property
    def street(self) -> str:
        return " ".join(part for part in (self.predir, self.name, self.suffix, self.postdir) if part)

    @property
    def key(self) -> str:
        return f"{self.number} {self.street}" if self.number is not None else self.street


def tokens(text: str, words: Words = NO_WORDS) -> list[str]:
    """The address's words, upper case, without punctuation, the part after the first comma left out."""
    head = text.upper().split(",")[0]
    head = head.replace(".", "").replace("'", "")
    cleaned = _NOT_WORD.sub(" ", head)
    out: list[str] = []
    for word in cleaned.split():
        word = words.abbreviations.get(word, word)
        out.extend(word.split())
    # "1200 block of Main St", "1200 blk Main St": a block is read as its first number
    while len(out) > 2 and out[1] in ("BLOCK", "BLK") and _NUMBER.match(out[0]):
        out = [out[0], *out[3:]] if out[2] == "OF" else [out[0], *out[2:]]
    # unit designators and everything after them ("Apt 4", "# 12", "Unit B")
    for index, word in enumerate(out):
        if index > 1 and (word in UNIT_WORDS or word.startswith("#")):
            out = out[:index]
            break
    while len(out) > 2 and (out[-1] in words.closing or re.fullmatch(r"\d{5}", out[-1])):
        out.pop()
    return [word for word in out if word not in ("#", "&", "/")]


def parse(text: str, words: Words = NO_WORDS) -> Parsed:
    """Read a typed address (``"1200 n. mangum street apt 3"``) into its parts."""
    parts = tokens(text, words)
    number = None
    if parts and (match := _NUMBER.match(parts[0])):
        number = int(match.group(1))
        parts = parts[1:]
    predir = suffix = postdir = ""
    if len(parts) > 1 and parts[0] in DIRECTIONS:
        predir, parts = DIRECTIONS[parts[0]], parts[1:]
    if len(parts) > 1 and parts[-1] in DIRECTIONS:
        postdir, parts = DIRECTIONS[parts[-1]], parts[:-1]
    if len(parts) > 1 and parts[-1] in SUFFIXES:
        suffix, parts = SUFFIXES[parts[-1]], parts[:-1]
    name = " ".join(ORDINALS.get(word, word) for word in parts)
    return Parsed(number, predir, name, suffix, postdir)


def street_key(text: str, words: Words = NO_WORDS) -> str:
    """The uniform name of the street in ``text`` (its number left out)."""
    return parse(text, words).street
