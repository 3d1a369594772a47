"""The geocoder: addresses read the same however they are typed, the demo's Durham address set is found from
misspelt input (a fixed sample of 500: the right address first for at least 95%), the import reports bad rows
(file, line, field) and keeps the good ones, and the outside service is used only when configured."""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from heart.cli import app as cli
from heart.config import Settings
from heart.db import utcnow
from heart.places.accuracy import measure, misspelled_sample
from heart.places.geocoder import AddressIndex, ChainGeocoder, Point, UrlGeocoder
from heart.places.importer import import_addresses
from heart.places.models import AddressPoint
from heart.places.normalise import parse
from heart.places.rules import load_place_rules, place_rules
from heart.places.service import lookup
from heart.places.shapes import beat_at

SETTINGS = Settings(env="test")
RULES = load_place_rules(SETTINGS.places_file)
WORDS = RULES.geocoding.words


def demo_points() -> list[Point]:
    with SETTINGS.addresses_file.open(encoding="utf-8") as handle:
        return [Point(row["address"], None, float(row["lat"]), float(row["lon"]), row["beat"])
                for row in csv.DictReader(handle)]


@pytest.mark.parametrize(("typed", "key"), [
    ("1200 N. Mangum Street", "1200 N MANGUM ST"),
    ("1200 north mangum st apt 4", "1200 N MANGUM ST"),
    ("1200 block of N Mangum St, Durham, NC 27701", "1200 N MANGUM ST"),
    ("214 9th St", "214 NINTH ST"),
    ("214 Ninth Street #2", "214 NINTH ST"),
    ("  714 MLK Pkwy ", "714 MARTIN LUTHER KING JR PKWY"),
    ("500 Main", "500 MAIN"),
])
def test_addresses_read_the_same_however_they_are_typed(typed: str, key: str) -> None:
    assert parse(typed, WORDS).key == key


def test_the_right_address_comes_first_for_at_least_95_percent_of_misspelt_demo_addresses() -> None:
    points = demo_points()
    index = AddressIndex(points, WORDS)
    sample = misspelled_sample([p.address for p in points], 500, seed=15)
    assert len(sample) == 500 and sum(s.text != s.truth for s in sample) >= 450  # nearly all typed differently
    result = measure(index, sample)
    print(f"\ngeocoding: right address first {result.share_first:.1%}, in the first five "
          f"{result.top_five / result.total:.1%} of {result.total} misspelt demo addresses")
    assert result.share_first >= 0.95, result.misses[:10]


def test_a_typo_in_the_number_or_an_unknown_number_finds_the_nearest_on_that_street_with_less_confidence() -> None:
    index = AddressIndex(demo_points(), WORDS)
    exact = index.lookup("1209 W Pettigrew St")[0]
    assert (exact.address, exact.confidence, exact.exact) == ("1209 W Pettigrew St", 1.0, True)
    near = index.lookup("1211 W Pettigrew St")[0]  # no such number: its neighbours on the street
    assert near.address in ("1209 W Pettigrew St", "1213 W Pettigrew St") and near.confidence < exact.confidence
    assert index.lookup("99 Nowhere Lane") == [] or index.lookup("99 Nowhere Lane")[0].confidence < 0.75


def test_the_beat_of_a_point_is_the_polygon_that_holds_it() -> None:
    point = next(p for p in demo_points() if p.address == "1209 W Pettigrew St")
    assert beat_at(SETTINGS.map_beats_file, point.lat, point.lon) == point.beat
    assert beat_at(SETTINGS.map_beats_file, 40.0, -70.0) is None


def test_the_import_reports_each_bad_row_and_keeps_the_good_ones(db: Session, tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_text("address,lat,lon,beat\n"
                    "101 E Main St,36.0,-78.9,211\n"
                    "102 E Main St,north,-78.9,211\n"
                    ",36.0,-78.9,\n"
                    "103 E Main St,36.0,-191,\n"
                    "101 East Main Street,36.1,-78.8,\n"
                    "104 E Main St,36.002,-78.91,\n", encoding="utf-8")
    summary = import_addresses(session=db, path=path, words=WORDS, beats_file=SETTINGS.map_beats_file, now=utcnow())
    assert [str(r) for r in summary.rejects] == [
        "points.csv, line 3, lat: is not a number",
        "points.csv, line 4, address: is missing",
        "points.csv, line 5, lon: is outside -180..180",
        "points.csv, line 6, address: is the same address as line 2 (kept that one)",
    ]
    assert summary.added == 2
    kept = {p.key: p for p in db.scalars(select(AddressPoint))}
    assert set(kept) == {"101 E MAIN ST", "104 E MAIN ST"}
    assert kept["104 E MAIN ST"].beat == beat_at(SETTINGS.map_beats_file, 36.002, -78.91)  # filled from the beats
    again = import_addresses(session=db, path=path, words=WORDS, beats_file=SETTINGS.map_beats_file, now=utcnow())
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)  # idempotent


def test_a_geojson_file_imports_too(db: Session, tmp_path: Path) -> None:
    path = tmp_path / "points.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"address": "5 Oak St", "beat": "X1"},
         "geometry": {"type": "Point", "coordinates": [-78.9, 36.0]}},
        {"type": "Feature", "properties": {"address": "6 Oak St"}, "geometry": {"type": "LineString",
                                                                               "coordinates": [[0, 0], [1, 1]]}},
    ]}), encoding="utf-8")
    summary = import_addresses(session=db, path=path, words=WORDS, beats_file=None, now=utcnow())
    assert summary.added == 1 and [str(r) for r in summary.rejects] == ["points.geojson, line 2, lat: is missing"]


def test_the_command_line_imports_and_looks_up(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEART_DATABASE_URL", database_url)
    monkeypatch.setenv("HEART_ENV", "development")
    from heart.config import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    try:
        imported = runner.invoke(cli, ["addresses", "import", str(SETTINGS.addresses_file)])
        assert imported.exit_code == 0, imported.output
        assert "9,290 added" in imported.output
        found = runner.invoke(cli, ["addresses", "lookup", "1209 w petigrew stret", "--json"])
        assert found.exit_code == 0, found.output
        assert json.loads(found.output)[0]["address"] == "1209 W Pettigrew St"
        missing = runner.invoke(cli, ["addresses", "import", "/nonexistent.csv"])
        assert missing.exit_code == 1 and "no such file" in missing.output
    finally:
        get_settings.cache_clear()


class _Service(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps([{"lat": "36.01", "lon": "-78.92", "display_name": "Somewhere, Durham",
                            "importance": 0.9}]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def outside_service() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Service)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/search?format=json&q={{query}}"
    server.shutdown()


def test_the_outside_service_is_asked_only_when_the_citys_points_are_not_sure(outside_service: str) -> None:
    index = AddressIndex(demo_points(), WORDS)
    chain = ChainGeocoder([index, UrlGeocoder(outside_service)], sure=0.75)
    assert chain.lookup("1209 W Pettigrew St")[0].source == "city"
    unknown = chain.lookup("77 Elsewhere Boulevard")
    assert unknown[0].source == "service" and unknown[0].address == "Somewhere, Durham"
    assert UrlGeocoder("http://127.0.0.1:9/{query}", timeout=0.5).lookup("1 A St") == []  # unreachable: nothing


def test_the_outside_service_is_off_by_default(db: Session) -> None:
    assert Settings(env="test").geocoder_url == ""
    assert place_rules(SETTINGS).geocoding.minimum_confidence == 0.75
    assert lookup(session=db, text="1209 W Pettigrew St", settings=SETTINGS) == []  # no points imported here
