"""How well the geocoder finds addresses as call-takers type them: a fixed sample of the city's addresses, each
typed with mistakes — a letter dropped, doubled, swapped or wrong in the street name, the suffix or direction
spelt out, abbreviated, misspelt or left out, lower case, stray punctuation, "block of", an apartment, the city
and ZIP code — and the share whose right address comes first. Used by the tests and ``benchmarks/geocode.py``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

from heart.places.geocoder import Geocoder
from heart.places.normalise import DIRECTIONS, SUFFIXES

SPELLED = {short: long for long, short in SUFFIXES.items() if len(long) > len(short) and long.isalpha()
           and long not in ("STR", "STRT", "AVEN", "AVN", "BOUL", "BLV", "DRV", "PKY", "AV")}
SPELLED_DIRECTIONS = {short: long for long, short in DIRECTIONS.items() if len(long) > 2}
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class Typed:
    truth: str
    text: str


def _typo(rng: random.Random, word: str) -> str:
    """One keyboard mistake in a word of at least four letters."""
    if len(word) < 4:
        return word
    at = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("drop", "double", "swap", "wrong"))
    if kind == "drop":
        return word[:at] + word[at + 1:]
    if kind == "double":
        return word[:at] + word[at] + word[at:]
    if kind == "swap":
        return word[:at] + word[at + 1] + word[at] + word[at + 2:]
    return word[:at] + rng.choice(_LETTERS) + word[at + 1:]


def mistype(rng: random.Random, address: str) -> str:
    """The address as a hurried call-taker might type it (one to three mistakes, always at least one)."""
    words = address.split()
    number, rest = words[0], words[1:]
    changes = rng.sample(["typo", "typo2", "suffix", "direction", "case", "extra", "punctuation"], k=rng.randint(1, 3))
    if "typo" in changes or "typo2" in changes:
        long_words = [i for i, w in enumerate(rest) if len(w) >= 4 and w.upper() not in SUFFIXES]
        if long_words:
            index = rng.choice(long_words)
            rest[index] = _typo(rng, rest[index])
    if "suffix" in changes and rest and rest[-1].upper() in SPELLED:
        choice = rng.random()
        full = SPELLED[rest[-1].upper()].title()
        rest[-1] = full if choice < 0.4 else (_typo(rng, full) if choice < 0.7 else "")
    if "direction" in changes and rest and rest[0].upper() in SPELLED_DIRECTIONS:
        choice = rng.random()
        rest[0] = (SPELLED_DIRECTIONS[rest[0].upper()].title() if choice < 0.5
                   else rest[0] + "." if choice < 0.8 else "")  # or left out
    text = " ".join(w for w in [number, *rest] if w)
    if "case" in changes:
        text = text.lower() if rng.random() < 0.5 else text.upper()
    if "extra" in changes:
        text = rng.choice([f"{text}, Durham NC", f"{text} apt {rng.randint(1, 30)}", f"{text}, Durham, NC 27701",
                           f"{text} #{rng.randint(1, 9)}"])
    if "punctuation" in changes:
        text = text.replace(" ", "  ", 1) + rng.choice([".", ",", ""])
    return text


def misspelled_sample(addresses: Sequence[str], size: int, seed: int = 15) -> list[Typed]:
    """A fixed sample (same seed, same sample) of ``size`` addresses, each mistyped."""
    rng = random.Random(seed)
    chosen = rng.sample(list(addresses), k=min(size, len(addresses)))
    return [Typed(address, mistype(rng, address)) for address in chosen]


@dataclass(frozen=True, slots=True)
class Accuracy:
    total: int
    first: int
    top_five: int
    seconds: float
    misses: list[tuple[str, str, str | None]]  # truth, typed, what came first

    @property
    def share_first(self) -> float:
        return self.first / self.total if self.total else 0.0


def measure(geocoder: Geocoder, sample: Sequence[Typed]) -> Accuracy:
    """Look every typed address up: how often the right one comes first, and in the first five."""
    first = top_five = 0
    misses = []
    started = time.perf_counter()
    for typed in sample:
        matches = geocoder.lookup(typed.text, 5)
        found = [m.address for m in matches]
        if found[:1] == [typed.truth]:
            first += 1
        else:
            misses.append((typed.truth, typed.text, found[0] if found else None))
        if typed.truth in found:
            top_five += 1
    return Accuracy(len(sample), first, top_five, time.perf_counter() - started, misses)
