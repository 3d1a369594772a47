"""The canonical call taxonomy: incident types (APCO-like) grouped into Vera consolidated categories.

Every CAD's nature codes map to one of these incident types (through a crosswalk); the triage policy
and the metrics speak only in these ids. Categories are the consolidated categories of the Vera
Institute / TSDataClinic five-city 911 dataset (`taxonomy/vera/call_types_charleston_dallas_seattle.csv`,
column `Category`), so calls can be compared across cities. The file writes two of them with a
trailing space ("Property Crime ", "Assisting the Public "); we keep the words and drop the space.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

NatureCodeResolver = Callable[[str], str | None]
"""Maps a CAD's nature code as written ("922 DRUNK SUBJECT") to an incident type id, or None."""

VERA_CATEGORIES: tuple[str, ...] = (
    "Accidents/Traffic Safety",
    "Alarms",
    "Assisting the Public",
    "Behavioral Health",
    "Call Related Issues",
    "Complaints/Environmental Conditions",
    "Domestic Violence",
    "Drugs",
    "Fire",
    "Liquor Violations",
    "Medical Emergencies",
    "Missing Persons",
    "Officer Needs Help",
    "Other (Not Crime)",
    "Other Crimes",
    "Property Crime",
    "Sex Offenses",
    "Statuses",
    "Suspicion",
    "Traffic",
    "Violent Crime",
    "Warrants",
)

OTHER = "other"
"""The incident type of a call whose nature code maps to nothing known."""


@dataclass(frozen=True, slots=True)
class IncidentType:
    """One canonical incident type: a stable id, a label for people, and its Vera category."""

    id: str
    label: str
    category: str


def _types(*rows: tuple[str, str, str]) -> dict[str, IncidentType]:
    return {row[0]: IncidentType(*row) for row in rows}


INCIDENT_TYPES: dict[str, IncidentType] = _types(
    # behavioral health
    ("mental_health_crisis", "Mental health crisis", "Behavioral Health"),
    ("suicide_threat", "Suicide threat", "Behavioral Health"),
    ("suicide_attempt", "Suicide attempt", "Behavioral Health"),
    ("ivc_order", "Involuntary commitment order", "Behavioral Health"),
    ("overdose", "Overdose", "Behavioral Health"),
    # a crisis call whose call type itself names a weapon or violence: never for an unarmed team alone
    ("crisis_with_violence", "Crisis with a weapon or violence", "Behavioral Health"),
    # needs and quality-of-life calls
    ("welfare_check", "Welfare check", "Assisting the Public"),
    ("assist_person", "Assist person", "Assisting the Public"),
    ("keep_the_peace", "Keep the peace / civil standby", "Assisting the Public"),
    ("lockout", "Lock-in / lock-out", "Assisting the Public"),
    ("assist_motorist", "Assist motorist", "Assisting the Public"),
    ("intoxicated_person", "Intoxicated person", "Complaints/Environmental Conditions"),
    ("panhandling", "Panhandling / solicitation", "Complaints/Environmental Conditions"),
    ("verbal_disturbance", "Verbal disturbance", "Complaints/Environmental Conditions"),
    ("disturbance", "Disturbance", "Complaints/Environmental Conditions"),
    ("noise_complaint", "Noise complaint", "Complaints/Environmental Conditions"),
    ("harassment", "Harassment / threats", "Complaints/Environmental Conditions"),
    ("animal", "Animal call", "Complaints/Environmental Conditions"),
    ("sleeping_in_public", "Person sleeping in public", "Complaints/Environmental Conditions"),
    ("encampment", "Encampment", "Complaints/Environmental Conditions"),
    ("trespass_unwanted", "Trespass / unwanted person", "Other Crimes"),
    ("indecency", "Indecency / lewdness", "Sex Offenses"),
    ("loitering", "Loitering", "Suspicion"),
    ("follow_up", "Follow-up", "Statuses"),
    # suspicion, status and administrative
    ("suspicious_person", "Suspicious person", "Suspicion"),
    ("suspicious_vehicle", "Suspicious vehicle", "Suspicion"),
    ("suspicious_circumstances", "Suspicious circumstances", "Suspicion"),
    ("missing_person", "Missing person", "Missing Persons"),
    ("found_property", "Found / lost property", "Complaints/Environmental Conditions"),
    ("assist_agency", "Assist another agency", "Statuses"),
    ("deceased_person", "Deceased person", "Statuses"),
    ("administrative", "Administrative", "Statuses"),
    ("hang_up_911", "911 hang-up / open line", "Call Related Issues"),
    ("warrant_service", "Warrant service", "Warrants"),
    # crime
    ("person_with_weapon", "Person with a weapon", "Other Crimes"),
    ("shots_fired", "Shots fired / heard", "Other Crimes"),
    ("dui", "Impaired driving", "Other Crimes"),
    ("fraud", "Fraud / forgery", "Other Crimes"),
    ("child_abuse_neglect", "Abuse / neglect", "Other Crimes"),
    ("assault", "Assault", "Violent Crime"),
    ("shooting", "Shooting", "Violent Crime"),
    ("stabbing", "Stabbing", "Violent Crime"),
    ("robbery", "Robbery", "Violent Crime"),
    ("caller_in_danger", "Caller in imminent danger", "Violent Crime"),
    ("domestic_violence", "Domestic violence", "Domestic Violence"),
    ("sexual_assault", "Sexual assault", "Sex Offenses"),
    ("prostitution", "Prostitution", "Sex Offenses"),
    ("burglary", "Burglary", "Property Crime"),
    ("theft", "Theft", "Property Crime"),
    ("vehicle_theft", "Vehicle theft", "Property Crime"),
    ("property_damage", "Property damage / vandalism", "Property Crime"),
    ("drug_use", "Drug use / possession", "Drugs"),
    ("drug_sale", "Drug sale", "Drugs"),
    ("liquor_violation", "Liquor law violation", "Liquor Violations"),
    ("officer_needs_help", "Officer needs help", "Officer Needs Help"),
    # traffic, medical, fire, alarms
    ("traffic_accident", "Traffic accident", "Accidents/Traffic Safety"),
    ("traffic_stop", "Traffic stop", "Traffic"),
    ("traffic_hazard", "Traffic violation / hazard", "Traffic"),
    ("medical_emergency", "Medical emergency", "Medical Emergencies"),
    ("injured_person", "Injured person", "Medical Emergencies"),
    ("fire", "Fire", "Fire"),
    ("alarm", "Alarm", "Alarms"),
    (OTHER, "Other / not classified", "Other (Not Crime)"),
)


def category_of(incident_type: str) -> str:
    """The Vera category of an incident type id (unknown ids count as 'other')."""
    return INCIDENT_TYPES.get(incident_type, INCIDENT_TYPES[OTHER]).category


_WORD = re.compile(r"[A-Z0-9]+")


def words_of(text: str) -> tuple[str, ...]:
    """Upper-case words of a nature code: punctuation and slashes separate words."""
    return tuple(_WORD.findall(text.upper()))


class KeywordResolver:
    """Resolve a nature code by the longest keyword phrase it contains, word for word.

    "922 DRUNK SUBJECT" and "DIP - DRUNK/INTOX PERSON" both contain the phrase DRUNK; "DOMESTIC ASSAULT"
    prefers the two-word phrase over ASSAULT. On equal length, the phrase earlier in the code wins.
    """

    __slots__ = ("_cache", "_longest", "_phrases")

    def __init__(self, phrases: Mapping[str, str]) -> None:
        self._phrases: dict[tuple[str, ...], str] = {}
        for phrase, incident_type in phrases.items():
            self._phrases.setdefault(words_of(phrase), incident_type)
        self._longest = max((len(key) for key in self._phrases), default=0)
        self._cache: dict[str, str | None] = {}

    @classmethod
    def from_table(cls, table: Mapping[str, Iterable[str]]) -> KeywordResolver:
        """Build from {incident type: [phrase, ...]}, the shape a policy file writes it in."""
        return cls({phrase: type_id for type_id, phrases in table.items() for phrase in phrases})

    def __call__(self, nature_code: str) -> str | None:
        try:
            return self._cache[nature_code]
        except KeyError:
            pass
        found = self._resolve(words_of(nature_code))
        if len(self._cache) < 50_000:  # a CAD has a few hundred codes; stop growing on garbage input
            self._cache[nature_code] = found
        return found

    def _resolve(self, words: tuple[str, ...]) -> str | None:
        for size in range(min(self._longest, len(words)), 0, -1):
            for start in range(len(words) - size + 1):
                found = self._phrases.get(words[start : start + size])
                if found is not None:
                    return found
        return None
