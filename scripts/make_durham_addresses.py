"""Generate the demo's Durham address points and map layers (run again to remake them; same seed, same files).

    python scripts/make_durham_addresses.py

Writes, under cities/durham/:
- addresses/demo.csv: address, lat, lon, beat — about 7,000 addresses on Durham's real street names, laid
  out on straight generated streets (not surveyed positions: a demo set for trying the geocoder and the map);
- map/outline.geojson: an outline around them, drawn under the map;
- map/beats.geojson: 5 districts (72° sectors around downtown) × 4 rings (2.5 km apart), named like the demo
  history's beats (district, ring, 1).
House numbers run 100 to a block (about 130 m), odd on the left, even on the right; streets with a direction
prefix (E/W Main St) run both ways from a crossing, each half numbered from it, as Durham's are.
"""

from __future__ import annotations

import csv
import json
import math
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "cities" / "durham"
CENTER = (35.9940, -78.8986)
KM_LAT = 111.0
KM_LON = 111.0 * math.cos(math.radians(CENTER[0]))
SEED = 15
BLOCK_M = 130.0
SIDE_M = 12.0

# (name, axis, split): axis "ew" runs east-west, "ns" north-south; split: a direction-prefixed pair (E/W, N/S)
STREETS = [
    ("Main St", "ew", True), ("Chapel Hill St", "ew", True), ("Mangum St", "ns", True), ("Roxboro St", "ns", True),
    ("Duke St", "ns", True), ("Alston Ave", "ns", True), ("Club Blvd", "ew", True), ("Geer St", "ew", True),
    ("Lakewood Ave", "ew", False), ("Markham Ave", "ew", True), ("Trinity Ave", "ew", True),
    ("Knox St", "ew", True), ("Cornwallis Rd", "ew", True), ("Umstead St", "ew", True), ("Pettigrew St", "ew", True),
    ("Fayetteville St", "ns", False), ("Holloway St", "ew", False), ("Angier Ave", "ew", False),
    ("Guess Rd", "ns", False), ("Hillandale Rd", "ns", False), ("University Dr", "ew", False),
    ("Miami Blvd", "ns", False), ("Broad St", "ns", False), ("Morehead Ave", "ew", False), ("Riddle Rd", "ew", False),
    ("Liberty St", "ew", False), ("Hardee St", "ns", False), ("Ninth St", "ns", False), ("Old Oxford Rd", "ns", False),
    ("Driver St", "ns", False), ("Gregson St", "ns", False), ("Buchanan Blvd", "ns", False),
    ("Morreene Rd", "ew", False), ("Erwin Rd", "ew", False), ("Hillsborough Rd", "ew", False),
    ("Roxboro Rd", "ns", False), ("Dearborn Dr", "ew", False), ("Cheek Rd", "ew", False),
    ("Junction Rd", "ns", False), ("Lumley Rd", "ew", False), ("Ellis Rd", "ew", False),
    ("Carpenter Fletcher Rd", "ew", False),
    ("Martin Luther King Jr Pkwy", "ew", False), ("Hope Valley Rd", "ns", False), ("Garrett Rd", "ns", False),
    ("Old Chapel Hill Rd", "ew", False), ("Cole Mill Rd", "ns", False), ("Rose of Sharon Rd", "ew", False),
    ("Horton Rd", "ew", False), ("Carver St", "ew", False), ("Sherwood Dr", "ns", False), ("Murray Ave", "ew", False),
    ("Braggtown Rd", "ns", False), ("Birchwood Cir", "ew", False), ("Shannon Rd", "ns", False),
    ("McDougald Ter", "ns", False), ("Dowd St", "ns", False), ("Lawson St", "ew", False), ("Cecil St", "ns", False),
    ("Cook Rd", "ew", False), ("Pilot St", "ns", False), ("Wabash St", "ew", False), ("Bacon St", "ns", False),
    ("Elizabeth St", "ns", False), ("Burch Ave", "ns", False), ("Swift Ave", "ns", False), ("Oakwood Ave", "ew", False),
    ("Sedgefield St", "ew", False), ("Glendale Ave", "ns", False), ("Rigsbee Ave", "ns", False),
    ("Foster St", "ns", False),
    ("Ramseur St", "ew", False), ("Vickers Ave", "ns", False), ("Wilkerson Ave", "ew", False),
    ("Apex Hwy", "ns", False),
    ("Neal Rd", "ew", False), ("Stadium Dr", "ew", False), ("Mineral Springs Rd", "ns", False),
    ("Fayetteville Rd", "ns", False),
]
DIRECTION_WORDS = {"ew": ("E", "W"), "ns": ("N", "S")}


def to_point(north_km: float, east_km: float) -> tuple[float, float]:
    return round(CENTER[0] + north_km / KM_LAT, 6), round(CENTER[1] + east_km / KM_LON, 6)


def beat_code(lat: float, lon: float) -> str:
    north, east = (lat - CENTER[0]) * KM_LAT, (lon - CENTER[1]) * KM_LON
    district = int(((math.degrees(math.atan2(north, east)) + 360) % 360) // 72) + 1
    ring = min(int(math.hypot(north, east) // 2.5), 3) + 1
    return f"{district}{ring}1"


def half_street(rng: random.Random, name: str, start: tuple[float, float], bearing: float,
                blocks: int) -> list[tuple[str, float, float]]:
    """Addresses along one numbered run: ``start`` (km north, km east), ``bearing`` in degrees from north."""
    out = []
    forward = (math.cos(math.radians(bearing)), math.sin(math.radians(bearing)))
    left = (-forward[1], forward[0])
    for block in range(1, blocks + 1):
        for step in range(5):
            for odd in (True, False):
                number = block * 100 + step * 4 + (1 if odd else 2)
                along = ((block - 1) * BLOCK_M + (step * 4 + 1) / 20 * BLOCK_M) / 1000
                side = (SIDE_M if odd else -SIDE_M) / 1000
                north = start[0] + forward[0] * along + left[0] * side + rng.gauss(0, 0.002)
                east = start[1] + forward[1] * along + left[1] * side + rng.gauss(0, 0.002)
                lat, lon = to_point(north, east)
                out.append((f"{number} {name}", lat, lon))
    return out


def addresses(rng: random.Random) -> list[tuple[str, float, float, str]]:
    rows = []
    for name, axis, split in STREETS:
        radius = 1.0 if split else 7.5
        start = (rng.uniform(-radius, radius), rng.uniform(-radius, radius) * 1.2)
        bearing = (90.0 if axis == "ew" else 0.0) + rng.uniform(-20, 20)
        blocks = rng.randint(8, 16) if split else rng.randint(5, 14)
        if split:
            plus, minus = DIRECTION_WORDS[axis]
            rows += half_street(rng, f"{plus} {name}", start, bearing, blocks)
            rows += half_street(rng, f"{minus} {name}", start, bearing + 180, blocks)
        else:
            rows += half_street(rng, name, start, bearing + (180 if rng.random() < 0.5 else 0), blocks)
    return [(address, lat, lon, beat_code(lat, lon)) for address, lat, lon in rows]


def ring_sector(district: int, ring: int) -> list[list[float]]:
    inner, outer = (ring - 1) * 2.5, (2.5 * ring if ring < 4 else 14.0)
    start, end = (district - 1) * 72, district * 72
    angles = [start + (end - start) * i / 12 for i in range(13)]

    def at(radius: float, angle: float) -> list[float]:
        lat, lon = to_point(radius * math.sin(math.radians(angle)), radius * math.cos(math.radians(angle)))
        return [lon, lat]

    ring_points = [at(outer, a) for a in angles] + [at(inner, a) for a in reversed(angles)] if inner else \
        [at(outer, a) for a in angles] + [at(0.0, 0.0)]
    return [*ring_points, ring_points[0]]


def outline(rng: random.Random) -> list[list[float]]:
    points = []
    for i in range(36):
        angle = i * 10
        radius = 12.5 + rng.uniform(-1.2, 1.2)
        lat, lon = to_point(radius * math.sin(math.radians(angle)), radius * math.cos(math.radians(angle)))
        points.append([lon, lat])
    return [*points, points[0]]


def main() -> None:
    rng = random.Random(SEED)
    rows = addresses(rng)
    (ROOT / "addresses").mkdir(parents=True, exist_ok=True)
    (ROOT / "map").mkdir(parents=True, exist_ok=True)
    with (ROOT / "addresses" / "demo.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["address", "lat", "lon", "beat"])
        writer.writerows(rows)
    beats = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"beat": f"{d}{r}1", "district": d},
         "geometry": {"type": "Polygon", "coordinates": [ring_sector(d, r)]}}
        for d in range(1, 6) for r in range(1, 5)]}
    (ROOT / "map" / "beats.geojson").write_text(json.dumps(beats, separators=(",", ":")) + "\n", encoding="utf-8")
    city = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Durham (demo outline)"},
         "geometry": {"type": "Polygon", "coordinates": [outline(rng)]}}]}
    (ROOT / "map" / "outline.geojson").write_text(json.dumps(city, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{len(rows):,} addresses on {len(STREETS)} streets; 20 beats; outline")


if __name__ == "__main__":
    main()
