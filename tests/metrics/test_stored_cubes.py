"""The public cubes kept beside each part of a history (``heart.metrics.public.stored``): the public figures
summed from them are the figures a scan of the parts gives, cell for cell and with the same cells hidden; and a
cube that no longer fits its part — the part replaced, changed in place, in another time zone, the zone's rules
changed, the definitions changed, or one part without cubes — is not used: the figures are the scan's."""

from __future__ import annotations

import json
import shutil
import zoneinfo
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from heart.metrics import definitions as d
from heart.metrics.backends.duckdb import arrow_schema
from heart.metrics.backends.files import part_writer
from heart.metrics.history import open_history
from heart.metrics.public import stored
from heart.metrics.public.service import protected_groups, public_figures

FIRST, LAST = 2021, 2023
YEARS = d.Period(since=date(FIRST, 1, 1), until=date(LAST, 12, 31))
ZONES = {"CRT": "America/New_York", "COR": "America/New_York", "NGT": "Asia/Kolkata", "TNY": "Europe/Berlin"}
"""Programs in three zones: daylight saving time in two (on different dates), a half-hour offset in one; TNY is
tiny (its program-years are hidden whole)."""


def responses(seed: int, rows: int, first: str, last: str, zones: dict[str, str] | None = None) -> pa.Table:
    """Responses to calls received between two instants, in time order: a few cancelled, a few with a missing or
    negative time, rare call types and beats (small cells to hide)."""
    rng = np.random.default_rng(seed)
    low, high = np.datetime64(first, "us"), np.datetime64(last, "us")
    received = np.sort(low + rng.integers(0, int((high - low) / np.timedelta64(1, "us")), rows)
                       .astype("timedelta64[us]"))
    program = rng.choice(["CRT", "COR", "NGT", "TNY"], rows, p=[0.6, 0.3, 0.0997, 0.0003])
    minute = np.timedelta64(60_000_000, "us")
    dispatched = received + (rng.integers(1, 10, rows) * minute)
    on_scene = dispatched + (rng.integers(-1, 30, rows) * minute)  # a few arrive before dispatch: not counted
    cleared = on_scene + (rng.integers(5, 90, rows) * minute)
    cancelled = rng.random(rows) < 0.04
    zone_of = zones or ZONES
    return pa.table({
        "program": program, "timezone": np.array([zone_of[p] for p in program]),
        "incident_type": pa.array(rng.choice(["welfare_check", "trespass", "mental_health", "ivc_order", None],
                                             rows, p=[0.5, 0.3, 0.19, 0.002, 0.008])),
        "received_at": received, "dispatched_at": dispatched,
        "on_scene_at": pa.array(on_scene, mask=rng.random(rows) < 0.01),
        "cleared_at": pa.array(cleared, mask=cancelled),
        "cancelled_at": pa.array(dispatched + 3 * minute, mask=~cancelled),
        "transported": pa.array(rng.random(rows) < 0.08, mask=cancelled),
        "pd_backup_for_safety": pa.array(rng.random(rows) < 0.001, mask=cancelled),
        "ems_support": pa.array(rng.random(rows) < 0.02, mask=cancelled),
        "team_felt_safe": pa.array(rng.random(rows) < 0.97, mask=cancelled | (rng.random(rows) < 0.1)),
        "beat": rng.choice(["B1", "B2", "B3", "B17"], rows, p=[0.5, 0.3, 0.1995, 0.0005]),
    }).cast(arrow_schema())


SLICES = [("2020-12-20T00:00", "2021-11-07T05:30"), ("2021-11-07T05:30", "2022-10-30T01:00"),
          ("2022-10-30T01:00", "2024-01-03T00:00")]
"""Three parts; each boundary inside the night a clock changes (New York, then Berlin), and months straddle them."""


def write_part(table: pa.Table, path: Path, **options: Any) -> None:
    if options:
        pq.write_table(table, path, **options)
        return
    with part_writer(path, table.schema) as writer:
        writer.write_table(table)


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """A history of three parts (``heart export history``'s layout), each with its cubes."""
    folder = tmp_path / "history"
    (folder / "responses").mkdir(parents=True)
    for index, (first, last) in enumerate(SLICES):
        part = folder / "responses" / f"part-{index:03d}.parquet"
        write_part(responses(index, 9_000, first, last), part)
        stored.write(part)
    return folder


def figures(folder: Path) -> list[Any]:
    """Every public figure of every program-year (suppression applied, as groups and as the page of 2022)."""
    with open_history(folder) as source:
        groups = protected_groups(source=source, first=FIRST, last=LAST, providers=[])
        page = public_figures(source=source, year=2022, today=date(2026, 1, 1), providers=[]).model_dump()
    return [groups, page]


def from_cubes(folder: Path) -> bool:
    """Whether the public figures of the history are summed from its cubes (every part has valid ones)."""
    with open_history(folder) as source:
        return stored.read(source.parts, YEARS, beats=True) is not None


def scanned(folder: Path, tmp_path: Path) -> list[Any]:
    """The figures of a copy of the history without its cubes: a scan of the parts."""
    copy = tmp_path / f"scan-{len(list(tmp_path.iterdir()))}"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns(stored.FOLDER))
    assert not from_cubes(copy)
    return figures(copy)


def test_the_figures_from_the_cubes_are_the_scans_cell_for_cell(history: Path, tmp_path: Path) -> None:
    assert from_cubes(history)
    found = figures(history)
    assert found == scanned(history, tmp_path)
    groups = found[0]
    assert {(group.program, group.year) for group, _ in groups} == {
        (program, year) for program in ZONES for year in range(FIRST, LAST + 1)}
    assert sum(group.total for group, _ in groups) > 20_000
    hidden = [protection for group, protection in groups if protection.total_hidden]
    assert hidden and all(group.program == "TNY" for group, protection in groups if protection.total_hidden)
    assert any(protection.hidden.get("by_call_type") for _, protection in groups)  # the rare ivc_order
    assert any(protection.hidden.get("by_beat") for _, protection in groups)  # the rare beat B17
    assert (history / "responses" / stored.FOLDER / "part-000.responses.parquet").is_file()


def test_a_replaced_part_is_scanned(history: Path, tmp_path: Path) -> None:
    before = figures(history)
    write_part(responses(99, 9_000, *SLICES[1]), history / "responses" / "part-001.parquet")
    assert not from_cubes(history)
    after = figures(history)
    assert after == scanned(history, tmp_path) and after != before


def test_a_part_changed_in_place_with_the_same_size_and_footer_is_scanned(tmp_path: Path) -> None:
    """One response's transport answer flipped in a part written plain: same size, byte-identical footer (no
    statistics); only the part's content hash tells it from the part the cube was built from."""
    folder = tmp_path / "history"
    (folder / "responses").mkdir(parents=True)
    part = folder / "responses" / "part-000.parquet"
    plain = {"compression": "none", "use_dictionary": False, "write_statistics": False}
    table = responses(5, 6_000, "2020-12-20T00:00", "2024-01-03T00:00")
    write_part(table, part, **plain)
    stored.write(part)
    assert from_cubes(folder)
    before = figures(folder)
    counted = pc.and_(pc.is_null(table["cancelled_at"]),
                              pc.less(table["cleared_at"], pa.scalar(datetime(2022, 6, 1, tzinfo=UTC))))
    row = next(index for index, ok in enumerate(counted.to_pylist()) if ok and index > 100)
    transported = table["transported"].to_pylist()
    transported[row] = not transported[row]
    changed = table.set_column(table.schema.get_field_index("transported"), "transported",
                               pa.array(transported, pa.bool_()))
    footer = _footer(part)
    size = part.stat().st_size
    write_part(changed, part, **plain)
    assert part.stat().st_size == size and _footer(part) == footer
    assert not from_cubes(folder)
    after = figures(folder)
    assert after == scanned(folder, tmp_path) and after != before


def _footer(path: Path) -> bytes:
    data = path.read_bytes()
    length = int.from_bytes(data[-8:-4], "little")
    return data[-8 - length:]


def test_a_part_rewritten_in_another_time_zone_is_scanned(history: Path, tmp_path: Path) -> None:
    before = figures(history)
    elsewhere = dict.fromkeys(ZONES, "America/Los_Angeles")
    write_part(responses(2, 9_000, *SLICES[2], zones=elsewhere), history / "responses" / "part-002.parquet")
    assert not from_cubes(history)
    after = figures(history)
    assert after == scanned(history, tmp_path) and after != before


@pytest.fixture
def new_york_without_daylight_saving(tmp_path: Path) -> Iterator[None]:
    """A time zone database in which New York has abolished daylight saving time (UTC-5 all year), as an update
    of the machine's tz database would bring it."""
    zones = tmp_path / "zoneinfo"
    for zone in ZONES.values():
        (zones / zone).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(_zone_file(zone), zones / zone)
    shutil.copy(_zone_file("Etc/GMT+5"), zones / "America/New_York")
    zoneinfo.reset_tzpath(to=[str(zones)])
    zoneinfo.ZoneInfo.clear_cache()
    try:
        yield
    finally:
        zoneinfo.reset_tzpath()
        zoneinfo.ZoneInfo.clear_cache()


def _zone_file(zone: str) -> Path:
    for root in zoneinfo.TZPATH:
        if (Path(root) / zone).is_file():
            return Path(root) / zone
    pytest.skip(f"no tz database file for {zone} on this machine")


def test_cubes_built_under_other_zone_rules_are_not_used(history: Path, tmp_path: Path,
                                                          request: pytest.FixtureRequest) -> None:
    before = figures(history)
    request.getfixturevalue("new_york_without_daylight_saving")
    assert not from_cubes(history)
    after = figures(history)
    assert after == scanned(history, tmp_path) and after != before


def test_a_cube_from_other_definitions_is_not_used(history: Path, tmp_path: Path) -> None:
    """A cube whose key names other definitions (built by other code), even one that fits its part's bytes."""
    expected = figures(history)
    cube = history / "responses" / stored.FOLDER / "part-001.responses.parquet"
    table = pq.read_table(cube)
    key = json.loads(table.schema.metadata[stored.KEY])
    doubled = pa.concat_tables([table, table])  # what other definitions could have counted
    pq.write_table(doubled.replace_schema_metadata({stored.KEY: json.dumps({**key, "definitions": "0" * 64})}), cube)
    assert not from_cubes(history)
    assert figures(history) == expected
    pq.write_table(doubled.replace_schema_metadata({stored.KEY: json.dumps(key)}), cube)
    assert from_cubes(history) and figures(history) != expected  # the test can fail: the cube is what is summed


def test_one_part_without_cubes_means_a_scan_of_every_part(history: Path, tmp_path: Path) -> None:
    expected = scanned(history, tmp_path)
    (history / "responses" / stored.FOLDER / "part-002.responses.parquet").unlink()
    assert not from_cubes(history)
    assert figures(history) == expected
    stored.write(history / "responses" / "part-002.parquet")  # built again: summed again
    assert from_cubes(history) and figures(history) == expected
    (history / "responses" / stored.FOLDER / "part-000.beats.parquet").write_bytes(b"half a file")
    assert not from_cubes(history) and figures(history) == expected


def test_only_whole_years_are_summed_from_cubes(history: Path) -> None:
    with open_history(history) as source:
        assert stored.read(source.parts, d.Period(since=date(2022, 1, 1), until=date(2022, 12, 31)), True)
        assert stored.read(source.parts, d.Period(since=date(2022, 3, 1), until=date(2022, 12, 31)), True) is None
        assert stored.read(source.parts, d.Period(), True) is None


def test_an_operator_rebuilds_the_cubes_a_history_lacks_or_outgrew(history: Path, tmp_path: Path) -> None:
    """`heart export cubes`: a part without cubes and a part replaced since are built again, the other kept; the
    figures then come from the cubes and equal the scan's."""
    from typer.testing import CliRunner

    from heart.cli import app

    cubes = history / "responses" / stored.FOLDER
    for kind in stored.KINDS:
        (cubes / f"part-000.{kind}.parquet").unlink()
    write_part(responses(98, 9_000, *SLICES[2]), history / "responses" / "part-002.parquet")
    assert not from_cubes(history)
    result = CliRunner().invoke(app, ["export", "cubes", "--history", str(history)])
    assert result.exit_code == 0, result.output
    assert "2 part(s) built, 1 still holding" in result.output
    assert from_cubes(history)
    assert figures(history) == scanned(history, tmp_path)
    again = CliRunner().invoke(app, ["export", "cubes", "--history", str(history)])
    assert "0 part(s) built, 3 still holding" in again.output
    nothing = CliRunner().invoke(app, ["export", "cubes", "--history", str(tmp_path / "nowhere")])
    assert nothing.exit_code == 1 and "no history at" in nothing.output
