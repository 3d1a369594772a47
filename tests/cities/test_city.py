"""A city is a folder: which one is in force, where its parts are, and a mistake in any of its files refused with the
file, the line and the field."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from heart.city.folder import CITIES_DIR, OVERRIDES, PARTS, CityError, city_dir, city_part, city_settings
from heart.city.programs import city_programs, load_programs_file
from heart.config import Settings
from heart.navigation.followups.rules import load_care_rules
from heart.triage.policy import PolicyError, load_policy, load_policy_by_name
from heart.yamlfile import YamlFileError
from tests.conftest import REPO_ROOT

DURHAM = CITIES_DIR / "durham"


def test_durham_is_the_default_and_riverton_is_one_setting_away(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEART_CITY", raising=False)
    assert city_dir() == DURHAM and city_settings().timezone == "America/New_York"
    durham = Settings(env="test")
    assert durham.policies_dir == DURHAM / "policies" and durham.timezone == "America/New_York"
    assert durham.care_navigation_file == DURHAM / "care_navigation.yaml"
    monkeypatch.setenv("HEART_CITY", "riverton")
    riverton = Settings(env="test")
    assert (riverton.city, riverton.timezone) == ("riverton", "America/Denver")
    assert riverton.programs_file == CITIES_DIR / "riverton" / "programs.yaml"
    assert list(city_programs().programs) == ["MOBILE", "SUPPORT", "LINE", "PEER", "RPD", "RFR"]
    assert load_policy_by_name("riverton").codes("field") == ("MOBILE", "SUPPORT")
    assert Settings(env="test", city="durham").timezone == "America/New_York"  # a setting passed in directly


def test_every_part_is_a_path_in_the_folder_and_an_override_still_wins(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    for part, relative in PARTS.items():
        assert city_settings("durham").part(part) == DURHAM / relative
    assert set(OVERRIDES) <= set(PARTS)
    monkeypatch.setenv("HEART_POLICIES_DIR", str(tmp_path))
    monkeypatch.setenv("HEART_CARE_NAVIGATION_FILE", str(tmp_path / "care.yaml"))
    assert city_part("policies") == tmp_path and Settings(env="test").policies_dir == tmp_path
    assert Settings(env="test").care_navigation_file == tmp_path / "care.yaml"
    with pytest.raises(KeyError, match="unknown part"):
        city_part("weather")


def test_a_city_folder_anywhere_and_its_city_yaml_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "springfield"
    shutil.copytree(DURHAM, folder, ignore=shutil.ignore_patterns("directory"))
    monkeypatch.setenv("HEART_CITY", str(folder))
    assert city_part("programs") == folder / "programs.yaml"
    (folder / "city.yaml").write_text("name: Springfield\ntimezone: America/Chicago\nparts:\n"
                                      "  programs: teams.yaml\n", encoding="utf-8")
    assert city_part("programs") == folder / "teams.yaml" and Settings(env="test").timezone == "America/Chicago"
    for text, line, why in [
        ("name: Springfield\ntimezone: Mars/Olympus\n", 2, "timezone: unknown time zone 'Mars/Olympus'"),
        ("name: Springfield\ntimezone: America/Chicago\nparts:\n  weather: sky.yaml\n", 4, "parts.weather: unknown"),
        ("name: Springfield\ntimezone: America/Chicago\nparts:\n  programs: ../x.yaml\n", 4, "inside the city"),
        ("name: Springfield\ntimezone: America/Chicago\nmayor: Quimby\n", 3, "mayor: unknown key"),
    ]:
        (folder / "city.yaml").write_text(text, encoding="utf-8")
        with pytest.raises(YamlFileError) as error:
            city_settings()
        assert (error.value.line, error.value.path) == (line, str(folder / "city.yaml")) and why in str(error.value)
    monkeypatch.setenv("HEART_CITY", "atlantis")
    with pytest.raises(CityError, match=r"no city named 'atlantis' \(known: durham, riverton"):
        city_dir()


PROGRAMS_BROKEN = [
    # (what is wrong, text replaced, replacement, text of the line the error names, words of the reason)
    ("hours past midnight", '{daily: [["10:00", "22:00"]]}', '{daily: [["10:00", "26:00"]]}', '"26:00"', "HH:MM"),
    ("hours in words", '{daily: [["06:00", "21:00"]]}', '{daily: [["six", "nine"]]}', '"six"', "HH:MM"),
    ("escalation to nowhere", "escalates_to: CRT", "escalates_to: STAR", "escalates_to: STAR",
     "programs.2.escalates_to: CCD escalates to STAR, which is not a field program"),
    ("external with hours", "    kind: external\n", "    kind: external\n    hours: {daily: [['09:00', '17:00']]}\n",
     "hours: {daily: [['09", "external services are always open"),
    ("a code twice", "  - code: COR\n", "  - code: CRT\n", "- code: CRT\n    name: Co-", "listed twice"),
    ("a code in lower case", "  - code: COR\n", "  - code: cor\n", "- code: cor", "programs.1.code"),
    ("an unknown kind", "    kind: phone\n", "    kind: radio\n", "kind: radio", "programs.2.kind"),
    ("a unit of an outside service", "program: COR, home", "program: PD, home", "COR-1", "unknown program 'PD'"),
]


@pytest.mark.parametrize(("what", "old", "new", "line_text", "reason"), PROGRAMS_BROKEN,
                         ids=[case[0] for case in PROGRAMS_BROKEN])
def test_a_broken_programs_file_names_the_file_line_and_field(tmp_path: Path, what: str, old: str, new: str,
                                                              line_text: str, reason: str) -> None:
    original = (DURHAM / "programs.yaml").read_text(encoding="utf-8")
    assert old in original, f"the test's mutation for {what!r} no longer matches programs.yaml"
    text = original.replace(old, new, 1)
    path = tmp_path / "programs.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(YamlFileError) as error:
        load_programs_file(path)
    assert reason in str(error.value)
    assert error.value.line == text[: text.index(line_text)].count("\n") + 1, str(error.value)
    assert str(error.value).startswith(f"{path}, line {error.value.line}: ")


def _policy_with(tmp_path: Path, old: str, new: str) -> tuple[Path, Path]:
    programs = tmp_path / "programs.yaml"
    programs.write_text((DURHAM / "programs.yaml").read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    return DURHAM / "policies" / "durham.yaml", programs


def test_the_policy_refuses_programs_it_cannot_decide_with(tmp_path: Path) -> None:
    policy, programs = _policy_with(tmp_path, '    hours: {daily: [["10:00", "22:00"]]}',
                                    '    hours: {mon: [["10:00", "22:00"]], sat: [["12:00", "20:00"]]}')
    with pytest.raises(PolicyError, match=r"programs.yaml, line 10: CRT: triage decides by the time of day"):
        load_policy(policy, programs=programs)
    policy, programs = _policy_with(tmp_path, "safety_questions: [weapon,", "safety_questions: [knife, weapon,")
    with pytest.raises(PolicyError, match=r"safety_questions: 'knife' is not a screening question of policy durham"):
        load_policy(policy, programs=programs)
    policy, programs = _policy_with(tmp_path, "    unarmed: true            # a clinician", "    unarmed: false  #")
    assert not load_policy(policy, programs=programs).unarmed("CRT")  # the city says what is unarmed


def test_care_navigation_names_case_programs_of_the_city(tmp_path: Path) -> None:
    text = (DURHAM / "care_navigation.yaml").read_text(encoding="utf-8")
    for old, new, field in [("  program: CN\n", "  program: CRT\n", "care_navigation.program: 'CRT' is not a case"),
                            ("\n  OSC:\n", "\n  OSX:\n", "case_programs.OSX: 'OSX' is not a case program")]:
        path = tmp_path / "care_navigation.yaml"
        broken = text.replace(old, new, 1)
        path.write_text(broken, encoding="utf-8")
        with pytest.raises(YamlFileError) as error:
            load_care_rules(path, DURHAM / "resources")
        assert field in str(error.value) and "CN, IVC, OSC" in str(error.value)
        assert error.value.line == broken[: broken.index(new.strip().split()[-1])].count("\n") + 1, str(error.value)


def test_make_run_keeps_one_database_per_city() -> None:
    def plan(*variables: str) -> str:
        return subprocess.run(["make", "-n", "run", *variables], cwd=REPO_ROOT, capture_output=True, text=True,
                              check=True, env={"PATH": "/usr/bin:/bin"}).stdout

    durham, riverton = plan(), plan("HEART_CITY=riverton")
    assert "HEART_DATABASE_URL=sqlite:///heart.db " in durham and "--logins-file .heart-demo-logins\n" in durham
    assert "HEART_CITY=riverton HEART_DATABASE_URL=sqlite:///heart-riverton.db " in riverton
    assert "--logins-file .heart-demo-logins-riverton" in riverton
