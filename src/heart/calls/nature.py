"""From a CAD's nature code to HEART's incident type and category, for imported history and live intake.

The order of evidence, first that answers wins:
1. a reviewed crosswalk file (``policies/crosswalks/<name>.csv``) when the profile or caller names one;
2. the crosswalk suggester (`heart.triage.crosswalk`), which learns from every reviewed crosswalk and never
   gives an unarmed-team incident type to a call type that names danger;
3. the triage policy's own keyword table, when the suggester has nothing better than "other" and did not
   hold back for safety.
A nature code nothing recognises keeps no incident type: unknown stays unknown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from heart.triage.taxonomy import INCIDENT_TYPES, OTHER

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NatureMapping:
    """What a nature code means in HEART's taxonomy, and where that came from."""

    incident_type: str | None
    category: str | None
    source: str  # "crosswalk:<name>", "suggested", "policy:<id>" or "unknown"


UNKNOWN = NatureMapping(None, None, "unknown")
Suggest = Callable[[str], tuple[str, str, bool]]  # raw -> (category, incident_type, held back for safety)


class NatureCodeMapper:
    """Callable: nature code -> NatureMapping, remembered per distinct code (a CAD has a few hundred)."""

    def __init__(
        self,
        *,
        crosswalk: Callable[[str], tuple[str | None, str] | None] | None = None,
        crosswalk_name: str | None = None,
        suggest: Suggest | None = None,
        policy_resolver: Callable[[str], str | None] | None = None,
        policy_id: str = "policy",
    ) -> None:
        self._crosswalk, self._crosswalk_name = crosswalk, crosswalk_name
        self._suggest, self._policy, self._policy_id = suggest, policy_resolver, policy_id
        self._cache: dict[str, NatureMapping] = {}

    def __call__(self, nature_code: str | None) -> NatureMapping:
        if not nature_code:
            return UNKNOWN
        found = self._cache.get(nature_code)
        if found is None:
            found = self._map(nature_code)
            if len(self._cache) < 100_000:  # stop growing on garbage input
                self._cache[nature_code] = found
        return found

    def _map(self, code: str) -> NatureMapping:
        if self._crosswalk is not None:
            entry = self._crosswalk(code)
            if entry is not None:
                category, incident_type = entry
                return NatureMapping(incident_type, category or _category_of(incident_type),
                                     f"crosswalk:{self._crosswalk_name}")
        if self._suggest is not None:
            category, incident_type, held_back = self._suggest(code)
            if incident_type != OTHER or held_back:
                return NatureMapping(incident_type, category, "suggested")
            from_policy = self._policy(code) if self._policy else None
            if from_policy:
                return NatureMapping(from_policy, _category_of(from_policy), f"policy:{self._policy_id}")
            return NatureMapping(incident_type, category, "suggested")
        from_policy = self._policy(code) if self._policy else None
        if from_policy:
            return NatureMapping(from_policy, _category_of(from_policy), f"policy:{self._policy_id}")
        return UNKNOWN


def _category_of(incident_type: str | None) -> str | None:
    known = INCIDENT_TYPES.get(incident_type or "")
    return known.category if known else None


def nature_mapper(*, crosswalk: str | None = None, policy: str = "durham") -> NatureCodeMapper:
    """The mapper for a CAD: its reviewed crosswalk (if named), the suggester, then the policy's keywords."""
    return NatureCodeMapper(crosswalk=_reviewed_crosswalk(crosswalk) if crosswalk else None,
                            crosswalk_name=crosswalk, suggest=_suggester(), policy_resolver=_policy_resolver(policy),
                            policy_id=policy)


class CrosswalkNotFound(LookupError):
    """A profile names a crosswalk file that does not exist."""


def _reviewed_crosswalk(name: str) -> Callable[[str], tuple[str | None, str] | None]:
    from heart.triage.crosswalk_files import available_crosswalks, default_crosswalk_dir, read_crosswalk

    known = available_crosswalks()
    if name not in known:  # chosen from the reviewed set, never read as a path
        raise CrosswalkNotFound(f"there is no reviewed crosswalk named {name!r} in {default_crosswalk_dir()} "
                                f"(known: {', '.join(known) or 'none'})")
    crosswalk = read_crosswalk(default_crosswalk_dir() / f"{name}.csv")

    def lookup(code: str) -> tuple[str | None, str] | None:
        entry = crosswalk.lookup(code)
        return (entry.category, entry.incident_type) if entry else None

    return lookup


@lru_cache(maxsize=1)
def _suggester() -> Suggest | None:
    """The crosswalk suggester trained on every reviewed crosswalk, or None while that module is unavailable."""
    try:
        from heart.triage.crosswalk import CrosswalkSuggester, read_examples
    except ImportError:  # pragma: no cover - the crosswalk module is optional for intake
        return None
    try:
        suggester = CrosswalkSuggester(read_examples())
    except (OSError, ValueError) as error:  # a broken crosswalk file must not stop intake
        log.warning("crosswalk suggestions unavailable: %s", error)
        return None

    def suggest(code: str) -> tuple[str, str, bool]:
        found = suggester.suggest(code)
        held_back = any(line.startswith("safety:") for line in found.evidence)
        return found.category, found.incident_type, held_back

    return suggest


def _policy_resolver(name: str) -> Callable[[str], str | None] | None:
    from heart.triage.policy import PolicyError, load_policy_by_name

    try:
        return load_policy_by_name(name).resolve_nature_code
    except PolicyError as error:
        log.warning("policy %s unavailable for nature codes: %s", name, error)
        return None
