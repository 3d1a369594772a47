"""HEART's needs vocabulary → the HSDS taxonomy terms that say a service meets each need.

The mapping is the city's data (``needs.yaml`` in the resources folder of the city's configuration), not code:
a service meets a need when an HSDS attribute links it to a matching taxonomy term, or to a narrower term under
one (``parent_id``). A term matches by ``code`` (optionally within a named taxonomy) or by ``name`` in any
taxonomy, ignoring case.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from heart.navigation.resources.models import Taxonomy, TaxonomyTerm
from heart.yamlfile import read_yaml

NEEDS_FILE = "needs.yaml"


class TermMatch(BaseModel):
    """One way a taxonomy term can say "this need": a code (in a taxonomy, or any) or a term name."""

    model_config = ConfigDict(extra="forbid")
    taxonomy: str | None = None
    code: str | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _code_or_name(self) -> TermMatch:
        if not self.code and not self.name:
            raise ValueError("give a code or a name")
        return self


class Need(BaseModel):
    """A need as HEART records it on encounters and follow-ups, with the terms that meet it."""

    model_config = ConfigDict(extra="forbid")
    label: str
    also_called: list[str] = Field(default_factory=list)
    terms: list[TermMatch] = Field(min_length=1)


class NeedsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    needs: dict[str, Need] = Field(min_length=1)


@dataclass(frozen=True)
class NeedsMap:
    """The needs vocabulary and how each need is found in an HSDS directory."""

    needs: dict[str, Need]

    def resolve(self, name: str) -> str | None:
        """The need ``name`` stands for (its key or one of its other names, any case), or None."""
        wanted = name.strip().casefold()
        for key, need in self.needs.items():
            if wanted == key.casefold() or wanted in (alias.casefold() for alias in need.also_called):
                return key
        return None

    def terms_by_need(self, session: Session) -> dict[str, set[str]]:
        """For each need, the ids of the directory's taxonomy terms that meet it (narrower terms included)."""
        taxonomy_names = {row.id: row.name.casefold() for row in session.execute(select(Taxonomy.id, Taxonomy.name))}
        terms = list(session.execute(select(TaxonomyTerm.id, TaxonomyTerm.code, TaxonomyTerm.name,
                                            TaxonomyTerm.taxonomy, TaxonomyTerm.taxonomy_id, TaxonomyTerm.parent_id)))
        children: dict[str, list[str]] = {}
        for term in terms:
            if term.parent_id:
                children.setdefault(term.parent_id, []).append(term.id)
        found: dict[str, set[str]] = {}
        for key, need in self.needs.items():
            direct = {term.id for term in terms for match in need.terms
                      if _matches(match, term.code, term.name, {(term.taxonomy or "").casefold(),
                                                                taxonomy_names.get(term.taxonomy_id or "", "")})}
            found[key] = _with_narrower(direct, children)
        return found


def _matches(match: TermMatch, code: str | None, name: str, taxonomies: set[str]) -> bool:
    if match.taxonomy and match.taxonomy.casefold() not in taxonomies:
        return False
    if match.code and (code or "").casefold() != match.code.casefold():
        return False
    return not match.name or name.casefold() == match.name.casefold()


def _with_narrower(terms: Iterable[str], children: dict[str, list[str]]) -> set[str]:
    found, waiting = set(), list(terms)
    while waiting:
        term = waiting.pop()
        if term not in found:
            found.add(term)
            waiting.extend(children.get(term, ()))
    return found


def city_needs(folder: Path) -> NeedsMap:
    """The needs map in the city's resources folder (re-read when the file changes); none when there is no file."""
    path = folder / NEEDS_FILE
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return NeedsMap(needs={})
    return _cached_needs(path, stamp)


@lru_cache(maxsize=8)
def _cached_needs(path: Path, stamp: int) -> NeedsMap:
    return load_needs(path)


def load_needs(path: Path) -> NeedsMap:
    """Read and check a needs file; a mistake names the file, the line and the field."""
    document = read_yaml(path)
    try:
        parsed = NeedsFile.model_validate(document.data or {})
    except ValidationError as error:
        first = error.errors()[0]
        location = tuple(first["loc"])
        raise document.error(location, f"{'.'.join(str(p) for p in location)}: {first['msg']}") from None
    return NeedsMap(needs=parsed.needs)
