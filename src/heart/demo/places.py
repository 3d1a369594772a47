"""The demo city's address points (cities/durham/addresses/demo.csv, made by
``scripts/make_durham_addresses.py``) and a few location safety notes on them, so that a call typed at one of
those places shows its note beside the screening question it concerns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.config import Settings
from heart.places.importer import ImportSummary, import_addresses
from heart.places.models import AddressPoint
from heart.places.rules import place_rules
from heart.places.service import add_note

# (address, kind, what was reported, days ago): kinds are the demo city's (places.yaml)
DEMO_NOTES = (
    ("214 Ninth St", "weapon", "A caller reported a man with a knife in the parking lot (no one hurt).", 40),
    ("1209 W Pettigrew St", "weapon", "Handgun seen inside the residence during an earlier visit.", 12),
    ("506 Angier Ave", "dog", "Large dog in the yard; ask the resident to secure it.", 90),
    ("118 Junction Rd", "access", "Entrance at the back of the building, up the outside stairs.", 200),
)


@dataclass(frozen=True, slots=True)
class PlacesSummary:
    addresses: ImportSummary
    notes: int


def load_places(*, session: Session, settings: Settings, now: datetime, author: User) -> PlacesSummary | None:
    """Import the demo's address points and write its notes; None when the city ships no address file."""
    if not settings.addresses_file.is_file():
        return None
    rules = place_rules(settings)
    summary = import_addresses(session=session, path=settings.addresses_file, words=rules.geocoding.words,
                               beats_file=settings.map_beats_file, now=now)
    notes = 0
    for address, kind, text, days_ago in DEMO_NOTES:
        point = session.scalar(select(AddressPoint).where(AddressPoint.address == address))
        if point is None or kind not in rules.safety_notes.kinds:
            continue
        add_note(session=session, lat=point.lat, lon=point.lon, address=point.address, kind=kind, text=text,
                 observed_on=(now - timedelta(days=days_ago)).date(), days=None, author=author,
                 now=now - timedelta(days=days_ago), rules=rules)
        notes += 1
    return PlacesSummary(summary, notes)
