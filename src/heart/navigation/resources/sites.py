"""Where and when a service is offered: its sites (service at a location), their opening hours, their distance.

Which schedules say when a site is open: the schedules of that service at that location (``service_at_location_id``,
or the service's and the location's ids together), else the service's own schedules, else the location's. A
service offered nowhere in particular (a phone line) is open when its own schedules say so. Opening states are
worked out when first asked for, so a search pays for them only on the services it filters or shows.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import cached_property
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from heart.navigation.resources.models import Address, Location, Schedule, ServiceAtLocation
from heart.navigation.resources.schedules import OpenState, open_state, sort_key

EARTH_RADIUS_KM = 6371.0088
CHUNK = 500


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in kilometres between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))


def position(location: Location) -> tuple[float, float] | None:
    """A location's point, when it has a usable one (both coordinates, on the globe)."""
    lat, lon = location.latitude, location.longitude
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


@dataclass(frozen=True, slots=True)
class Clock:
    """The moment and the city's time zone that opening states are worked out for."""

    now: datetime
    zone: tzinfo


@dataclass
class Site:
    """One service at one location, with its hours and, when asked, its distance."""

    link: ServiceAtLocation
    location: Location
    addresses: list[Address]
    schedules: list[Schedule]
    clock: Clock
    distance_km: float | None = None

    @cached_property
    def open(self) -> OpenState:
        return open_state(self.schedules, self.clock.now, self.clock.zone)

    def open_now(self) -> bool:
        return bool(open_state(self.schedules, self.clock.now, self.clock.zone, look_ahead=False).open)

    @property
    def address_line(self) -> str:
        """The physical address (else the first one) on one line."""
        chosen = next((a for a in self.addresses if a.address_type == "physical"), None) or (
            self.addresses[0] if self.addresses else None)
        if chosen is None:
            return ""
        parts = [chosen.address_1, chosen.address_2, chosen.city, f"{chosen.state_province} {chosen.postal_code}"]
        return ", ".join(part for part in parts if part)


@dataclass
class Offer:
    """Every site of one service, and the service's own schedules (for a service offered nowhere in particular)."""

    service_id: str
    clock: Clock
    sites: list[Site] = field(default_factory=list)
    own_schedules: list[Schedule] = field(default_factory=list)

    @cached_property
    def open(self) -> OpenState:
        """Open if any site is open (until the latest), else closed if any is known to be, else unknown."""
        if not self.sites:
            return open_state(self.own_schedules, self.clock.now, self.clock.zone)
        states = [site.open for site in self.sites]
        opened = [state for state in states if state.open]
        if opened:
            return OpenState(open=True, until=max((s.until for s in opened if s.until), default=None))
        if any(state.open is False for state in states):
            return OpenState(open=False, next_opens=min((s.next_opens for s in states if s.next_opens), default=None))
        return OpenState(open=None)

    def open_now(self) -> bool:
        if not self.sites:
            return bool(open_state(self.own_schedules, self.clock.now, self.clock.zone, look_ahead=False).open)
        return any(site.open_now() for site in self.sites)

    @property
    def nearest(self) -> Site | None:
        located = [site for site in self.sites if site.distance_km is not None]
        return min(located, key=lambda site: site.distance_km or 0.0) if located else None


def offers(*, session: Session, service_ids: Iterable[str], now: datetime, zone: tzinfo,
           near: tuple[float, float] | None = None, hours: bool = True, addresses: bool = True) -> dict[str, Offer]:
    """The sites of each service, in a handful of queries whatever the number of services; ``hours`` and
    ``addresses`` can be left out when a search only filters by distance."""
    ids = list(dict.fromkeys(service_ids))
    clock = Clock(now, zone)
    links: list[ServiceAtLocation] = _chunked(session, ids, lambda chunk: select(ServiceAtLocation).where(
        ServiceAtLocation.service_id.in_(chunk)))
    location_ids = list({link.location_id for link in links})
    locations = {row.id: row for row in _chunked(session, location_ids, lambda chunk: select(Location).where(
        Location.id.in_(chunk)))}
    at_location: dict[str, list[Address]] = defaultdict(list)
    if addresses:
        for address in _chunked(session, location_ids, lambda chunk: select(Address).where(
                Address.location_id.in_(chunk))):
            at_location[address.location_id or ""].append(address)
    found = {ident: Offer(ident, clock) for ident in ids}
    of_link, of_pair, of_location = _schedules(session, ids, links, location_ids, found) if hours else ({}, {}, {})
    for link in links:
        location = locations.get(link.location_id)
        if location is None:  # a link to a location the directory does not hold
            continue
        chosen = sorted(of_link.get(link.id, []) + of_pair.get((link.service_id, link.location_id), [])
                        or found[link.service_id].own_schedules or of_location.get(link.location_id, []), key=sort_key)
        point = position(location)
        distance = haversine_km(near, point) if near is not None and point is not None else None
        found[link.service_id].sites.append(Site(link, location, at_location.get(location.id, []), chosen, clock,
                                                 distance))
    for offer in found.values():
        offer.own_schedules.sort(key=sort_key)
    return found


Keyed = dict[Any, list[Schedule]]


def _schedules(session: Session, ids: list[str], links: list[ServiceAtLocation], location_ids: list[str],
               found: dict[str, Offer]) -> tuple[Keyed, Keyed, Keyed]:
    """Schedules by service at location, by (service, location), by location; the service's own go on its offer."""
    link_ids = [link.id for link in links]
    schedules = {schedule.id: schedule for schedule in [
        *_chunked(session, ids, lambda chunk: select(Schedule).where(Schedule.service_id.in_(chunk))),
        *_chunked(session, link_ids, lambda chunk: select(Schedule).where(Schedule.service_at_location_id.in_(chunk))),
        *_chunked(session, location_ids, lambda chunk: select(Schedule).where(Schedule.location_id.in_(chunk)))]}
    of_link: Keyed = defaultdict(list)
    of_pair: Keyed = defaultdict(list)
    of_location: Keyed = defaultdict(list)
    for schedule in schedules.values():
        if schedule.service_at_location_id:
            of_link[schedule.service_at_location_id].append(schedule)
        elif schedule.service_id and schedule.location_id:
            of_pair[(schedule.service_id, schedule.location_id)].append(schedule)
        elif schedule.service_id in found:
            found[schedule.service_id].own_schedules.append(schedule)
        elif schedule.location_id and not schedule.service_id:
            of_location[schedule.location_id].append(schedule)
    return of_link, of_pair, of_location


def _chunked(session: Session, ids: list[str], query: Callable[[list[str]], Select[Any]]) -> list[Any]:
    rows: list[Any] = []
    for start in range(0, len(ids), CHUNK):
        rows.extend(session.scalars(query(ids[start:start + CHUNK])))
    return rows
