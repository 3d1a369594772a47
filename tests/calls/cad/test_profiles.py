"""Import profiles: the shipped ones load and map what the exports hold; a broken one names its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from heart.calls.cad.profiles import (
    ProfileError,
    available_profiles,
    load_profile,
    load_profile_by_name,
)

ALEXANDRIA_FIELDS = {
    "received_at": "Incident_Start_Time",
    "dispatched_at": "Incident_Dispatch_Time",
    "en_route_at": "Incident_Enroute_Time",
    "on_scene_at": "Incident_Arrival_Time",
    "cleared_at": "Incident_First_Close_Time",
    "agency": "Agency",
    "nature_code": "Problem",
    "priority": "Priority_Number",
    "call_source": "Call_Reception",
    "disposition": "Disposition",
    "external_id": "Master_Incident_Number",
}


def test_the_three_shipped_profiles_load() -> None:
    assert {"alexandria-decc", "sacramento-opendata", "eugene-cad"} <= set(available_profiles())
    for name in ("alexandria-decc", "sacramento-opendata", "eugene-cad"):
        profile = load_profile_by_name(name)
        assert profile.name == name and profile.version >= 1


def test_alexandria_maps_the_columns_the_issue_names() -> None:
    profile = load_profile_by_name("alexandria-decc")
    mapped = {f.name: f.column for f in (*profile.text_fields, *profile.time_fields)}
    assert mapped == ALEXANDRIA_FIELDS
    assert profile.timezone.key == "America/New_York"
    assert {"NULL", "-9999"} <= profile.missing
    assert [f.name for f in profile.time_fields] == [
        "received_at", "dispatched_at", "en_route_at", "on_scene_at", "cleared_at"
    ]


def test_sacramento_keeps_dates_only_and_eugene_counts_seconds() -> None:
    sacramento = load_profile_by_name("sacramento-opendata")
    assert sacramento.time_fields == () and [f.name for f in sacramento.date_fields] == ["received_on"]
    eugene = load_profile_by_name("eugene-cad")
    after = {f.name: (f.seconds_after, f.column) for f in eugene.time_fields if f.seconds_after}
    assert after == {"dispatched_at": ("received_at", "secs_to_disp"), "on_scene_at": ("received_at", "secs_to_arrv"),
                     "cleared_at": ("received_at", "secs_to_close")}


GOOD = """\
name: demo
version: 1
timezone: America/Chicago
fields:
  received_at: Call_Time
  nature_code: Type
"""


def write(tmp_path: Path, text: str, name: str = "demo") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_minimal_profile_loads(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, GOOD))
    assert profile.columns() == ["Type", "Call_Time"]
    assert profile.ambiguous_times == "infer" and profile.nonexistent_times == "reject"


@pytest.mark.parametrize(
    ("change", "line", "words"),
    [
        (("  nature_code: Type\n", "  nature_code: Type\n  colour: Paint\n"), 7, "unknown field 'colour'"),
        (("timezone: America/Chicago", "timezone: Mars/Olympus"), 3, "unknown time zone"),
        (("version: 1", "version: 0"), 2, "version"),
        (("  received_at: Call_Time\n", "  received_at: {column: Call_Time, format: '%Q'}\n"), 5, "time format"),
        (("  nature_code: Type\n", "  nature_code: {column: Type, format: '%Y'}\n"), 6, "text"),
        (("fields:\n", "required: [cleared_at]\nfields:\n"), 4, "not mapped"),
        (("  nature_code: Type\n", "  nature_code: Type\n  cleared_at: {seconds_after: closed, column: S}\n"), 7,
         "not a timestamp field"),
        (("name: demo", "name: other"), 1, "must be named 'demo'"),
        (("version: 1\n", "version: 1\nambiguous_times: guess\n"), 3, "ambiguous_times"),
    ],
)
def test_a_broken_profile_names_its_file_and_line(tmp_path: Path, change: tuple[str, str], line: int,
                                                  words: str) -> None:
    text = GOOD.replace(*change)
    assert text != GOOD
    with pytest.raises(ProfileError) as caught:
        load_profile(write(tmp_path, text))
    assert caught.value.line == line, str(caught.value)
    assert words in str(caught.value)
    assert str(caught.value).startswith(f"{tmp_path / 'demo.yaml'}, line {line}:")


def test_an_unknown_profile_lists_the_known_ones() -> None:
    with pytest.raises(ProfileError, match=r"no import profile named 'nope'.*alexandria-decc"):
        load_profile_by_name("nope")
