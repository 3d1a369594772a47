"""Policy files: the Durham default loads as published, and a broken file is refused with its line."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from heart.crosswalk.mapper import resolve_nature_code
from heart.crosswalk.taxonomy import INCIDENT_TYPES, OTHER, VERA_CATEGORIES, KeywordResolver, category_of
from heart.triage.policy import (
    PolicyError,
    available_policies,
    load_policy,
    load_policy_by_name,
    parse_hours,
    policies_dir,
)
from heart.yamlfile import YamlFileError

REPO_ROOT = Path(__file__).resolve().parents[2]
DURHAM = REPO_ROOT / "cities" / "durham" / "policies" / "durham.yaml"
SHARED_DATA = Path(os.environ.get("HEART_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def minutes(text: str) -> int:
    hours, mins = text.split(":")
    return int(hours) * 60 + int(mins)


def open_minutes(policy_code: str) -> set[int]:
    program = load_policy(DURHAM).programs[policy_code]
    return {minute for minute in range(24 * 60) if program.is_open(minute)}


# --- the Durham default -----------------------------------------------------------------------------


def test_durham_loads_with_id_version_and_city_zone() -> None:
    policy = load_policy_by_name("durham")
    assert (policy.id, policy.version, policy.timezone.key) == ("durham", 3, "America/New_York")
    assert policy.source == str(DURHAM.resolve())
    assert "id: durham" in policy.text
    assert "# CRT: field, unarmed, hours 10:00-22:00" in policy.text  # the programs it decided with are kept too
    assert list(policy.programs) == ["CCD", "CRT", "COR", "PD", "EMS", "FIRE"]  # phone, field, external


def test_durham_hours_follow_2025_coverage() -> None:
    """No field coverage 00:00–06:00; Co-Response 06:00–21:00; CRT 12 hours inside 06:00–24:00."""
    night = set(range(0, minutes("06:00")))
    crt, cor = open_minutes("CRT"), open_minutes("COR")
    assert not (crt | cor) & night
    assert cor == set(range(minutes("06:00"), minutes("21:00")))
    assert len(crt) == 12 * 60 and min(crt) >= minutes("06:00")


def test_durham_questions_in_call_taker_order_and_exclusions() -> None:
    policy = load_policy(DURHAM)
    assert policy.question_ids[:5] == (
        "weapon",
        "medical_intervention",
        "imminent_risk_to_others",
        "violent_history",
        "ivc_order",
    )
    assert all(question.prompt.endswith("?") for question in policy.questions)
    assert policy.exclusion_questions == ("weapon", "medical_intervention", "imminent_risk_to_others")
    assert policy.excluded_priorities == {"P"}
    assert policy.programs["CCD"].escalates_to == "CRT"
    assert {code for code, program in policy.programs.items() if program.unarmed} == {"CRT", "CCD"}


def test_durham_crt_types_are_the_published_ones() -> None:
    eligible = load_policy(DURHAM).type_sets["crt_eligible"]
    assert eligible == {
        "mental_health_crisis", "suicide_threat", "trespass_unwanted", "welfare_check", "intoxicated_person",
        "panhandling", "indecency", "verbal_disturbance", "assist_person", "follow_up",
    }  # fmt: skip


def test_policies_dir_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mycity.yaml").write_text(DURHAM.read_text().replace("id: durham", "id: mycity"))
    monkeypatch.setenv("HEART_POLICIES_DIR", str(tmp_path))
    assert policies_dir() == tmp_path
    assert available_policies() == ["mycity"]
    assert load_policy_by_name("mycity").id == "mycity"
    with pytest.raises(PolicyError, match="no policy named 'durham'"):
        load_policy_by_name("durham")


def test_older_versions_are_kept_beside_the_current_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "durham.yaml").write_text(DURHAM.read_text())
    (tmp_path / "durham.v1.yaml").write_text(DURHAM.read_text().replace("\nversion: 3\n", "\nversion: 1\n"))
    monkeypatch.setenv("HEART_POLICIES_DIR", str(tmp_path))
    assert load_policy_by_name("durham").version == 3
    assert load_policy_by_name("durham", version=1).version == 1
    assert load_policy_by_name("durham", version=3).version == 3
    with pytest.raises(PolicyError, match="has no version 7"):
        load_policy_by_name("durham", version=7)


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(DURHAM.read_text())
    assert load_policy(path).max_wait_minutes == 15
    path.write_text(DURHAM.read_text().replace("max_wait_minutes: 15", "max_wait_minutes: 20"))
    os.utime(path, ns=(1, 10**18))  # a different modification time, however fast the test runs
    assert load_policy(path).max_wait_minutes == 20


# --- hours ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "windows"),
    [
        ("06:00-21:00", ((360, 1260),)),
        ("10:00-24:00", ((600, 1440),)),
        ("00:00-24:00", ((0, 1440),)),
        ("22:00-02:00", ((1320, 1440), (0, 120))),
        ("18:00-00:00", ((1080, 1440),)),
        (" 7:30 - 9:05 ", ((450, 545),)),
    ],
)
def test_hours_parse(text: str, windows: tuple[tuple[int, int], ...]) -> None:
    assert parse_hours(text) == windows


@pytest.mark.parametrize(
    "text", ["10-22", "10:00", "25:00-26:00", "10:60-11:00", "09:00-09:00", "ten-ten", "24:01-1:00"]
)
def test_bad_hours_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_hours(text)


# --- broken policy files are refused with file, line and reason -----------------------------------------

BROKEN = [
    # (what is wrong, text replaced, replacement, text of the line the error must name, words of the reason)
    (
        "unknown incident type",
        "    - panhandling\n",
        "    - panhandlin\n",
        "- panhandlin",
        "unknown incident type 'panhandlin'",
    ),
    ("pathway with no program", "    send: CCD\n", "    send: CCX\n", "send: CCX",
     "send: 'CCX' is not a field, phone or external program of the city (programs.yaml: CCD, CRT, COR, PD, EMS"),
    ("a case program as a pathway", "    send: COR\n", "    send: CN\n", "send: CN", "'CN' is not a field, phone"),
    ("a programs section (the programs are the city's)", "\nquestions:\n", "\nprograms:\n  CRT: {kind: field}\n"
     "questions:\n", "CRT: {kind: field}", "a policy holds rules only"),
    (
        "a CRT type that police always take",
        "    - traffic_accident\n",
        "    - traffic_accident\n    - welfare_check\n",
        "types: phone_resolvable",
        "contradiction: rule 'ccd_by_phone' (CCD) can never apply to incident type 'welfare_check'",
    ),
    (
        "exclusion on an unknown question",
        "    question: imminent_risk_to_others",
        "    question: imminent_risk",
        "question: imminent_risk",
        "unknown screening question 'imminent_risk'",
    ),
    (
        "unarmed team without every exclusion answered no",
        "    exclusions_clear: true\n    any_yes: [phone_ok]\n",
        "    any_yes: [phone_ok]\n",
        "send: CCD",
        "CCD is an unarmed team",
    ),
    (
        "unknown key",
        "    any_yes: [phone_ok]\n",
        "    any_yes: [phone_ok]\n    when: always\n",
        "when: always",
        "Extra inputs",
    ),
    ("unknown time zone", "\nmax_wait_minutes: 15", "\ntimezone: Mars/Olympus\nmax_wait_minutes: 15", "timezone:",
     "unknown time zone"),
    (
        "default that can close",
        "\n  send: PD\n",
        "\n  send: COR\n",
        "  send: COR\n  text: Calls",
        "always-open external service",
    ),
    ("not YAML", "version: 3\n", "version: [3\n", "name: Durham", "not valid YAML"),
    ("version zero", "version: 3\n", "version: 0\n", "version: 0", "greater than or equal to 1"),
    (
        "rule id twice",
        "  - id: crisis_co_response",
        "  - id: crt_eligible",
        "- id: crt_eligible\n    types: crisis",
        "used twice",
    ),
    (
        "bad priority",
        "    priority: [P]\n    text: It is",
        "    priority: [Q]\n    text: It is",
        "priority: [Q]",
        "priority",
    ),
    (
        "type set named like a type",
        "  fire_types: [fire]",
        "  fire: [fire]",
        "  fire: [fire]",
        "has the name of an incident type",
    ),
    (
        "rule on unknown question",
        "any_yes: [medical_intervention]",
        "any_yes: [medical]",
        "any_yes: [medical]",
        "unknown screening question 'medical'",
    ),
    (
        "exclusion with question and priority",
        "    question: weapon\n    text: Someone has a weapon.\n",
        "    question: weapon\n    priority: [P]\n    text: Someone has a weapon.\n",
        "- id: weapon\n    question: weapon",
        "either a question or a priority",
    ),
    (
        "its own nature-code table (one vocabulary lives in the crosswalk)",
        "\ndefault:\n",
        "\nnature_codes:\n  loitering: [LOITERING]\ndefault:\n",
        "  loitering: [LOITERING]",
        "call_type_words.yaml",
    ),
    (
        "an exclusion implied by an unknown kind of danger word",
        "implied_by_words: [weapon]",
        "implied_by_words: [weapons]",
        "implied_by_words: [weapons]",
        "unknown kind of danger words 'weapons'",
    ),
    (
        "an unarmed rule for a type an exclusion says always meets it",
        "    - follow_up\n  phone_resolvable",
        "    - follow_up\n    - crisis_with_violence\n  phone_resolvable",
        "    types: crt_eligible",
        "sends CRT (an unarmed team) to 'crisis_with_violence'",
    ),
    (
        "an alert template without its placeholder",
        'safety_alert_unanswered: "{question} is',
        'safety_alert_unanswered: "The answer is',
        "safety_alert_unanswered:",
        "must contain {question}",
    ),
]


@pytest.mark.parametrize(("what", "old", "new", "line_text", "reason"), BROKEN, ids=[case[0] for case in BROKEN])
def test_broken_policy_is_refused_with_line_and_reason(
    tmp_path: Path, what: str, old: str, new: str, line_text: str, reason: str
) -> None:
    original = DURHAM.read_text()
    assert old in original, f"the test's mutation for {what!r} no longer matches durham.yaml"
    text = original.replace(old, new, 1)
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    expected_line = text[: text.index(line_text)].count("\n") + 1
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    error = raised.value
    assert error.path == str(path.resolve())
    assert reason in error.reason
    if what == "not YAML":  # the parser names where it noticed, which is at or after the mistake
        assert error.line is not None and error.line >= expected_line - 1
    else:
        assert error.line == expected_line, str(error)
    assert str(error).startswith(f"{error.path}, line {error.line}: ")
    assert isinstance(error, YamlFileError) and isinstance(error, ValueError)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot be read"):
        load_policy(tmp_path / "nothing.yaml")


# --- taxonomy and nature codes --------------------------------------------------------------------------


def test_incident_types_have_vera_categories() -> None:
    assert 40 <= len(INCIDENT_TYPES) <= 70
    for type_id, incident_type in INCIDENT_TYPES.items():
        assert type_id == incident_type.id and type_id.islower() and " " not in type_id
        assert incident_type.category in VERA_CATEGORIES, type_id
    assert category_of("no_such_type") == INCIDENT_TYPES[OTHER].category


def test_vera_categories_are_spelled_as_in_the_dataset() -> None:
    path = SHARED_DATA / "taxonomy" / "vera" / "call_types_charleston_dallas_seattle.csv"
    if not path.exists():
        pytest.skip(f"{path} is not present")
    with path.open(newline="", encoding="utf-8") as handle:
        in_file = {row["Category"].strip() for row in csv.DictReader(handle)}
    assert set(VERA_CATEGORIES) <= in_file


@pytest.mark.parametrize(
    ("code", "incident_type"),
    [
        ("UNWANTED PERSON", "trespass_unwanted"),
        ("SUICIDAL SUBJECT", "suicide_threat"),
        ("DRUNK SUBJECT", "intoxicated_person"),
        ("PSYCHIATRIC PATIENT", "mental_health_crisis"),
        ("CHECK WELFARE", "welfare_check"),
        ("IVC PAPER SERVICE", "ivc_order"),
        ("PANHANDLER", "panhandling"),
        ("ASSAULT IN PROGRESS", "assault"),
        ("LOITERING", "loitering"),
        ("MENTAL HEALTH", "mental_health_crisis"),
        ("922 DRUNK SUBJECT", "intoxicated_person"),
        ("DIP - DRUNK/INTOX PERSON", "intoxicated_person"),
        ("mental health case", "mental_health_crisis"),
        ("DOMESTIC ASSAULT", "domestic_violence"),
        ("SUICIDE ATTEMPT", "suicide_attempt"),
        ("STRUCTURE FIRE", "fire"),
        ("XYZZY", None),
        ("", None),
    ],
)
def test_durham_nature_codes_resolve(code: str, incident_type: str | None) -> None:
    """Read through the one resolver every intake path uses (the policy no longer reads call types itself)."""
    assert resolve_nature_code(code) == incident_type


def test_keyword_resolver_prefers_the_longest_phrase() -> None:
    resolve = KeywordResolver.from_table({"assault": ["ASSAULT"], "domestic_violence": ["DOMESTIC ASSAULT"]})
    assert resolve("AGG DOMESTIC ASSAULT W/ INJURY") == "domestic_violence"
    assert resolve("ASSAULT/DOMESTIC") == "assault"
    assert resolve("BURGLARY") is None
