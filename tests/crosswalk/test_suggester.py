"""The crosswalk: suggestions for unseen CADs, the safety guard, reviewed files, and the two commands."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from heart.crosswalk.cli import app
from heart.crosswalk.guard import unarmed_team_types
from heart.crosswalk.mapper import words_type
from heart.crosswalk.suggester import (
    SUGGESTION_COLUMNS,
    CrosswalkEntry,
    CrosswalkError,
    CrosswalkSuggester,
    Suggestion,
    assign_incident_type,
    default_crosswalk_dir,
    evaluate_leave_one_city_out,
    is_unsafe,
    read_call_types,
    read_crosswalk,
    read_examples,
    read_vera_call_types,
    write_crosswalk,
    write_suggestions,
)
from heart.crosswalk.taxonomy import INCIDENT_TYPES
from tests.factories import UNARMED_TEAM_TYPES

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("HEART_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
VERA = SHARED / "taxonomy" / "vera" / "call_types_charleston_dallas_seattle.csv"
CITIES = ("charleston", "dallas", "seattle")
runner = CliRunner()


@pytest.fixture(scope="module")
def vera() -> Path:
    if not VERA.exists():
        pytest.skip(f"the Vera call-type table is not at {VERA} (set HEART_SHARED_DATA)")
    return VERA


@pytest.fixture(scope="module")
def suggester() -> CrosswalkSuggester:
    return CrosswalkSuggester(read_examples(default_crosswalk_dir()))


# --- what a person relies on: accuracy on an unseen city, and safety --------------------------------------


def test_leave_one_city_out_is_accurate_and_never_unsafe(vera: Path) -> None:
    scores = evaluate_leave_one_city_out(vera)
    assert [score.city for score in scores] == ["Charleston", "Dallas", "Seattle"]
    for score in scores:
        assert score.accuracy >= 0.85, score
        assert score.unsafe_calls == 0, score
    behavioral = {score.city: score.behavioral_health_recall for score in scores}
    assert behavioral["Charleston"] >= 0.9 and behavioral["Seattle"] >= 0.9


def test_rules_carry_what_neighbours_alone_cannot(vera: Path) -> None:
    with_rules = evaluate_leave_one_city_out(vera)
    neighbours_only = evaluate_leave_one_city_out(vera, use_rules=False)
    for ruled, plain in zip(with_rules, neighbours_only, strict=True):
        assert ruled.accuracy > plain.accuracy
        assert plain.unsafe_calls == 0  # the guard does not depend on the rules that pick categories


@pytest.mark.parametrize(
    ("raw", "category", "incident_type"),
    [
        ("DIP - DRUNK/INTOX PERSON", "Complaints/Environmental Conditions", "intoxicated_person"),
        ("922 DRUNK SUBJECT", "Complaints/Environmental Conditions", "intoxicated_person"),
        ("MENTAL HEALTH CASE", "Behavioral Health", "mental_health_crisis"),
        ("SUSP PERS", "Suspicion", "suspicious_person"),
        ("CHECK WELFARE", "Assisting the Public", "welfare_check"),
        ("104D_Alarm Resid Burg/Intru", "Alarms", "alarm"),
        ("SUICIDE IN PROG INJ/PILLS", "Behavioral Health", "suicide_attempt"),
        ("CHEST PAIN ALS 2", "Medical Emergencies", "medical_emergency"),
    ],
)
def test_terse_cad_codes_are_understood(
    suggester: CrosswalkSuggester, raw: str, category: str, incident_type: str
) -> None:
    suggestion = suggester.suggest(raw)
    assert (suggestion.category, suggestion.incident_type) == (category, incident_type), suggestion.evidence
    assert any(line.startswith("words:") for line in suggestion.evidence)


@pytest.mark.parametrize(
    "raw",
    [
        "SUICIDAL SUBJECT W/ WEAPON", "MENTAL SUBJ ARMED", "127D_Suicide Threat Weapon", "121D_Mental Disorder Violent",
        "MAN WITH GUN", "SUBJ W/ KNIFE", "STABBING", "SHOTS FIRED", "ASSAULT IN PROGRESS", "FIGHT - NO WEAPONS",
        "DOMESTIC DISTURBANCE", "DV - VERBAL", "OFFICER NEEDS HELP", "15 - ASSIST OFFICER", "TRESPASS W/ WPN",
        "WELFARE CHECK - DV", "INTOX PERSON WITH KNIFE", "PANHANDLER ARMED", "UNWANTED SUBJECT - THREATS",
    ],
)  # fmt: skip
def test_weapon_or_violence_never_goes_to_an_unarmed_team(suggester: CrosswalkSuggester, raw: str) -> None:
    suggestion = suggester.suggest(raw)
    assert suggestion.incident_type not in UNARMED_TEAM_TYPES, suggestion
    if any(line.startswith("safety:") for line in suggestion.evidence):
        assert suggestion.confidence <= 0.5  # a refused suggestion always goes to a person


def test_a_crisis_with_a_weapon_keeps_its_crisis_nature(suggester: CrosswalkSuggester) -> None:
    suggestion = suggester.suggest("SUICIDAL SUBJECT W/ WEAPON")
    assert suggestion.category == "Behavioral Health"
    assert suggestion.incident_type == "crisis_with_violence"


CRT_WORDS = ["WELFARE CHECK", "MENTAL", "SUICIDAL", "TRESPASS", "DRUNK", "PANHANDLER", "VERBAL", "ASSIST PUBLIC"]
DANGER = ["GUN", "W/ KNIFE", "STAB", "ARMED", "WPN", "ASLT", "FIGHT", "DV", "DOMESTIC", "SHOTS", "ROBBERY"]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(CRT_WORDS),
    st.sampled_from(DANGER),
    st.booleans(),
    st.sampled_from(["", "104D_", "12 - ", "*"]),
)
def test_property_danger_words_beat_unarmed_words(crt: str, danger: str, danger_first: bool, code: str) -> None:
    raw = code + (f"{danger} {crt}" if danger_first else f"{crt} - {danger}")
    suggestion = _shared_suggester().suggest(raw)
    assert suggestion.incident_type not in UNARMED_TEAM_TYPES, (raw, suggestion)


_SUGGESTER: list[CrosswalkSuggester] = []


def _shared_suggester() -> CrosswalkSuggester:
    if not _SUGGESTER:
        _SUGGESTER.append(CrosswalkSuggester(read_examples(default_crosswalk_dir())))
    return _SUGGESTER[0]


@pytest.mark.parametrize("category", ["Violent Crime", "Domestic Violence", "Officer Needs Help"])
def test_a_police_category_never_gets_an_unarmed_type(category: str) -> None:
    for raw in ("WELFARE CHECK", "MENTAL DISORDER", "TRESPASS", "VERBAL DISTURBANCE", "FOLLOW UP"):
        incident_type, evidence = assign_incident_type(raw, category)
        assert incident_type not in UNARMED_TEAM_TYPES
        assert any("safety" in line for line in evidence)


def test_unarmed_types_are_read_from_the_policy() -> None:
    policy_file = REPO_ROOT / "cities" / "durham" / "policies" / "durham.yaml"
    eligible = yaml.safe_load(policy_file.read_text())["type_sets"]["crt_eligible"]
    assert set(eligible) == UNARMED_TEAM_TYPES


def test_a_type_a_policy_opens_to_an_unarmed_team_is_guarded_at_once(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """No hand copy of the policy: a city that sends CRT to loitering gets the guard on loitering too."""
    text = (REPO_ROOT / "cities" / "durham" / "policies" / "durham.yaml").read_text(encoding="utf-8")
    (tmp_path / "durham.yaml").write_text(text.replace("    - follow_up\n", "    - follow_up\n    - loitering\n", 1),
                                          encoding="utf-8")
    assert words_type("LOITERING - VIOLENT")[0] == "loitering"  # loitering is not an unarmed type in Durham
    monkeypatch.setenv("HEART_POLICIES_DIR", str(tmp_path))
    assert "loitering" in unarmed_team_types()
    assert words_type("LOITERING")[0] == "loitering"
    assert words_type("LOITERING - VIOLENT")[0] is None  # the danger words now forbid it
    assert assign_incident_type("LOITERING - VIOLENT", None)[0] != "loitering"


# --- reviewed crosswalk files ----------------------------------------------------------------------------


@pytest.mark.parametrize("city", CITIES)
def test_shipped_crosswalks_keep_the_coders_categories_and_are_safe(vera: Path, city: str) -> None:
    crosswalk = read_crosswalk(default_crosswalk_dir() / f"{city}.csv")
    coders = {row.raw: row for row in read_vera_call_types(vera) if row.city.lower() == city}
    assert {entry.raw for entry in crosswalk.entries} == set(coders)
    for entry in crosswalk.entries:
        assert entry.incident_type in INCIDENT_TYPES
        assert not is_unsafe(entry.raw, entry.category, entry.incident_type), entry
        if entry.status == "vera":
            assert entry.category == coders[entry.raw].category
        else:
            assert entry.status == "suggested" and coders[entry.raw].category is None


def test_a_crosswalk_resolves_nature_codes_ignoring_case_and_spacing(tmp_path: Path) -> None:
    path = tmp_path / "city.csv"
    write_crosswalk(path, [CrosswalkEntry("CHECK  WELFARE", "Assisting the Public", "welfare_check", 12, "accepted")])
    crosswalk = read_crosswalk(path)
    assert crosswalk("check welfare") == "welfare_check"
    assert crosswalk("SOMETHING ELSE") is None
    assert crosswalk.entries[0] == CrosswalkEntry(
        "CHECK  WELFARE", "Assisting the Public", "welfare_check", 12, "accepted"
    )


def test_a_bad_crosswalk_row_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "raw,category,incident_type,count,status\nX,Statuses,administrative,3,vera\nY,Statuses,teleport,,vera\n"
    )
    with pytest.raises(
        CrosswalkError, match=r"bad.csv, line 3, column 'incident_type': unknown incident type 'teleport'"
    ):
        read_crosswalk(path)


def test_call_types_are_counted_and_columns_checked(tmp_path: Path) -> None:
    path = tmp_path / "cad.csv"
    path.write_text("Problem,N\nDRUNK,2\nDRUNK,3\nNOISE,1\n,4\n")
    assert read_call_types(path, type_column="Problem", count_column="N") == [("DRUNK", 5), ("NOISE", 1)]
    assert read_call_types(path, type_column="Problem") == [("DRUNK", 2), ("NOISE", 1)]  # rows are calls
    with pytest.raises(CrosswalkError, match=r"no column 'Nature'; the columns are: Problem, N"):
        read_call_types(path, type_column="Nature")
    path.write_text("Problem,N\nDRUNK,two\n")
    with pytest.raises(CrosswalkError, match=r"line 2, column 'N': 'two' is not a number"):
        read_call_types(path, type_column="Problem", count_column="N")


# --- the commands ----------------------------------------------------------------------------------------


def test_suggest_writes_the_csv_contract_most_frequent_first(tmp_path: Path) -> None:
    cad = tmp_path / "cad.csv"
    cad.write_text("Problem,Calls\nSUSP PERS,3\nMENTAL HEALTH CASE,40\nSUSP PERS,4\n")
    result = runner.invoke(app, ["suggest", "--input", str(cad), "--type-column", "Problem", "--count-column", "Calls"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == SUGGESTION_COLUMNS
    assert [row["raw"] for row in rows] == ["MENTAL HEALTH CASE", "SUSP PERS"]
    assert rows[0]["category"] == "Behavioral Health" and 0 < float(rows[0]["confidence"]) <= 1


def test_suggest_json_and_a_clear_error(tmp_path: Path) -> None:
    cad = tmp_path / "cad.csv"
    cad.write_text("Problem\nDIP - DRUNK/INTOX PERSON\n")
    result = runner.invoke(app, ["suggest", "--input", str(cad), "--type-column", "Problem", "--format", "json"])
    assert result.exit_code == 0, result.output
    [record] = json.loads(result.stdout)
    assert record["incident_type"] == "intoxicated_person" and isinstance(record["evidence"], list)
    failed = runner.invoke(app, ["suggest", "--input", str(cad), "--type-column", "Nature"])
    assert failed.exit_code == 1
    assert "no column 'Nature'" in failed.output and "Traceback" not in failed.output


def _suggestions(path: Path, *rows: tuple[str, str, str, float]) -> Path:
    with path.open("w", newline="") as handle:
        write_suggestions(
            handle, [Suggestion(raw, category, kind, confidence, ("why",)) for raw, category, kind, confidence in rows]
        )
    return path


def _statuses(path: Path) -> dict[str, tuple[str, str, str]]:
    return {e.raw: (e.category or "", e.incident_type, e.status) for e in read_crosswalk(path).entries}


def test_review_accepts_with_enter_and_corrects_by_typing(tmp_path: Path) -> None:
    suggestions = _suggestions(
        tmp_path / "s.csv",
        ("TRAFFIC STOP", "Accidents/Traffic Safety", "traffic_stop", 0.97),
        ("CHECK WELFARE", "Assisting the Public", "welfare_check", 0.6),
        ("PSYCH EVAL", "Statuses", "administrative", 0.3),
    )
    out = tmp_path / "reviewed.csv"
    # row 2: Enter, Enter; row 3: "beh" (Behavioral Health), Enter takes the re-suggested incident type
    result = runner.invoke(
        app, ["review", "--input", str(suggestions), "--output", str(out), "--accept-above", "0.9"], input="\n\nbeh\n\n"
    )
    assert result.exit_code == 0, result.output
    assert _statuses(out) == {
        "TRAFFIC STOP": ("Accidents/Traffic Safety", "traffic_stop", "auto-accepted"),
        "CHECK WELFARE": ("Assisting the Public", "welfare_check", "accepted"),
        "PSYCH EVAL": ("Behavioral Health", "mental_health_crisis", "corrected"),
    }
    assert "1 accepted, 1 corrected, 1 accepted above 0.9, 0 left to review" in result.stdout


def test_review_asks_before_sending_danger_to_an_unarmed_team_and_can_resume(tmp_path: Path) -> None:
    suggestions = _suggestions(
        tmp_path / "s.csv",
        ("MAN WITH GUN", "Other Crimes", "person_with_weapon", 0.5),
        ("NOISE", "Complaints/Environmental Conditions", "noise_complaint", 0.5),
    )
    out = tmp_path / "reviewed.csv"
    # row 1: keep the category, try welfare_check, refuse the warning, then keep the suggested type; then input ends
    result = runner.invoke(
        app, ["review", "--input", str(suggestions), "--output", str(out)], input="\nwelfare_check\nn\n\n"
    )
    assert result.exit_code == 0, result.output
    assert "warning" in result.stdout
    assert _statuses(out) == {
        "MAN WITH GUN": ("Other Crimes", "person_with_weapon", "accepted"),
        "NOISE": ("Complaints/Environmental Conditions", "noise_complaint", "suggested"),
    }
    resumed = runner.invoke(app, ["review", "--input", str(out), "--output", str(out)], input="\n\n")
    assert resumed.exit_code == 0, resumed.output
    assert _statuses(out)["NOISE"][2] == "accepted" and _statuses(out)["MAN WITH GUN"][2] == "accepted"
