"""The safety guard every mapping shares: which incident types can send an unarmed team, read from the policies.

A call type whose words name danger (a weapon, violence, an overdose, a threat to life) never gets an incident type
an unarmed team is sent to. Which types those are is the policy's to say, not a list in Python: a type counts when a
rule of any loaded policy (the city's ``policies/*.yaml``) sends it to a program the city marks ``unarmed``
(``programs.yaml``). Reading every
policy of the folder, not only the default one, keeps the guard on the safe side when a city keeps several.
"""

from __future__ import annotations

from functools import lru_cache

from heart.crosswalk.taxonomy import INCIDENT_TYPES
from heart.triage.policy import load_policy_by_name, policies_dir, policy_stamps, programs_stamp

CRISIS_TYPES = frozenset({"mental_health_crisis", "suicide_threat"})
"""Crisis types: with danger words they become ``CRISIS_WITH_VIOLENCE`` rather than losing their type."""
CRISIS_WITH_VIOLENCE = "crisis_with_violence" if "crisis_with_violence" in INCIDENT_TYPES else "person_with_weapon"


def unarmed_team_types() -> frozenset[str]:
    """The incident types a rule of any loaded policy may send an unarmed team to (re-read when a policy changes)."""
    return _unarmed_types(str(policies_dir()), policy_stamps(), programs_stamp())


@lru_cache(maxsize=8)
def _unarmed_types(folder: str, stamps: tuple[tuple[str, int], ...], _programs: tuple[str, int]) -> frozenset[str]:
    found: set[str] = set()
    for name, _ in stamps:
        policy = load_policy_by_name(name)
        for rule in policy.rules:
            if policy.unarmed(rule.send):
                found |= rule.types if rule.types is not None else set(INCIDENT_TYPES)
    return frozenset(found)


def refused_for_danger(incident_type: str) -> str | None:
    """What a type becomes when the call type's words name danger: itself (allowed), the crisis-with-violence type
    (a crisis type an unarmed team would get), or None (any other type an unarmed team would get)."""
    if incident_type not in unarmed_team_types():
        return incident_type
    return CRISIS_WITH_VIOLENCE if incident_type in CRISIS_TYPES else None
