"""`heart triage` as a program manager and an analyst use it: decide one call, list and check policies."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from heart.triage.cli import app, local_time
from heart.triage.policy import load_policy, load_policy_by_name
from tests.conftest import REPO_ROOT
from tests.triage.test_examples import load_examples

runner = CliRunner()
DURHAM = REPO_ROOT / "cities" / "durham" / "policies" / "durham.yaml"
CONTRACT_KEYS = {"pathway", "policy", "version", "reasons", "unanswered"}


def triage(*args: str, env: dict[str, str] | None = None) -> Any:
    return runner.invoke(app, list(args), env=env)


def decide_json(doc: dict[str, Any] | str, *options: str) -> dict[str, Any]:
    text = doc if isinstance(doc, str) else json.dumps(doc)
    result = triage("decide", "--policy", "durham", *options, "--json", text)
    assert result.exit_code == 0, result.output
    decision: dict[str, Any] = json.loads(result.stdout)
    return decision


def test_decide_prints_every_worked_example_as_published() -> None:
    examples = load_examples()
    for example in examples:
        decision = decide_json(example["doc"], "--at", f"2025-06-03T{example['at']}")
        where = f"{example['doc']} at {example['at']}: {decision['pathway']}"
        assert set(decision) >= CONTRACT_KEYS and set(decision) - CONTRACT_KEYS <= {"fallback"}, where
        assert (decision["policy"], decision["version"]) == ("durham", load_policy(DURHAM).version)
        if "accept" in example:
            assert decision["pathway"] in example["accept"], where
        assert decision["pathway"] not in example.get("forbid", []), where
        if "unanswered" in example:
            assert decision["unanswered"] == example["unanswered"], where
        assert all(set(reason) == {"rule", "text"} and reason["text"] for reason in decision["reasons"]), where


def test_at_is_local_time_of_the_policy_city_unless_it_has_an_offset() -> None:
    zone = load_policy_by_name("durham").timezone
    assert local_time("2025-06-03T23:30", zone).utcoffset() == local_time("2025-06-03T23:30-04:00", zone).utcoffset()
    welfare = {"nature_code": "CHECK WELFARE", "priority": "3",
               "screening": {"weapon": "no", "medical_intervention": "no", "imminent_risk_to_others": "no"}}
    assert decide_json(welfare, "--at", "2025-06-03T14:00")["pathway"] == "CRT"
    late = decide_json(welfare, "--at", "2025-06-03T23:30")
    assert late["pathway"] == "PD" and late["fallback"] == {"reason": "program_closed", "program": "CRT"}
    # 14:00 UTC is 10:00 in Durham in June: CRT has just opened.
    assert decide_json(welfare, "--at", "2025-06-03T14:00+00:00")["pathway"] == "CRT"
    assert decide_json(welfare, "--at", "2025-06-03T13:59+00:00")["pathway"] == "PD"


def test_the_document_can_come_from_a_file_and_name_a_canonical_type(tmp_path: Path) -> None:
    doc = tmp_path / "call.json"
    doc.write_text(json.dumps({"incident_type": "ivc_order", "priority": "3"}), encoding="utf-8")
    decision = decide_json(f"@{doc}", "--at", "09:00")
    assert decision["pathway"] == "COR"
    missing_answers = decide_json({"incident_type": "panhandling"}, "--at", "2025-06-03T13:00")
    assert missing_answers["pathway"] != "CRT"
    assert missing_answers["unanswered"] == ["weapon", "medical_intervention", "imminent_risk_to_others"]


@pytest.mark.parametrize(("args", "message"), [
    (["--json", "{not json"], "is not valid JSON"),
    (["--json", "[1, 2]"], "must be a JSON object"),
    (["--json", '{"nature": "X"}'], "unknown field 'nature'"),
    (["--json", '{"priority": "9"}'], "priority must be one of"),
    (["--json", '{"screening": {"weapon": "maybe"}}'], "screening.weapon must be yes, no or unknown"),
    (["--json", "{}", "--at", "noon"], "--at 'noon' is not a time"),
    (["--json", "{}", "--policy", "atlantis"], "there is no policy named 'atlantis'"),
    (["--json", "{}", "--policy", "durham@7"], "policy 'durham' has no version 7"),
    (["--json", "@/nonexistent/call.json"], "cannot be read"),
])
def test_bad_input_is_one_clear_line_and_exit_1(args: list[str], message: str) -> None:
    result = triage("decide", *args)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.output


@pytest.fixture
def two_versions(tmp_path: Path) -> Path:
    """A policies folder holding durham version 2 and the kept version 1, which did not send welfare checks to CRT."""
    folder = tmp_path / "policies"
    folder.mkdir()
    text = re.sub(r"\nversion: \d+\n", "\nversion: 2\n", DURHAM.read_text(encoding="utf-8"))
    (folder / "durham.yaml").write_text(text, encoding="utf-8")
    older = text.replace("\nversion: 2\n", "\nversion: 1\n").replace("    - welfare_check\n    - intoxicated_person",
                                                                      "    - intoxicated_person", 1)
    assert older.count("welfare_check") == text.count("welfare_check") - 1
    (folder / "durham.v1.yaml").write_text(older, encoding="utf-8")
    return folder


def test_policies_lists_versions_and_decide_can_use_an_older_one(two_versions: Path) -> None:
    env = {"HEART_POLICIES_DIR": str(two_versions)}
    listed = triage("policies", "--format", "json", env=env)
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout) == [{"name": "durham", "version": 2, "older_versions": [1],
                                          "title": "Durham Community Safety Department (HEART)",
                                          "timezone": "America/New_York"}]
    table = triage("policies", env=env)
    assert "durham" in table.stdout and "America/New_York" in table.stdout
    doc = json.dumps({"incident_type": "welfare_check", "screening": {
        "weapon": "no", "medical_intervention": "no", "imminent_risk_to_others": "no"}})
    newer = triage("decide", "--at", "2025-06-03T11:00", "--json", doc, env=env)
    older = triage("decide", "--policy", "durham@1", "--at", "2025-06-03T11:00", "--json", doc, env=env)
    assert (json.loads(newer.stdout)["version"], json.loads(newer.stdout)["pathway"]) == (2, "CRT")
    assert (json.loads(older.stdout)["version"], json.loads(older.stdout)["pathway"]) == (1, "PD")


def test_check_accepts_the_durham_policy_and_names_the_line_of_a_mistake(tmp_path: Path) -> None:
    good = triage("check", str(DURHAM))
    assert good.exit_code == 0 and f"policy durham version {load_policy(DURHAM).version} is valid" in good.stdout
    text = DURHAM.read_text(encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("    - panhandling\n", "    - panhandlers\n", 1), encoding="utf-8")
    line = next(i for i, row in enumerate(broken.read_text().splitlines(), 1) if "panhandlers" in row)
    result = triage("check", str(broken))
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {broken}, line {line}: unknown incident type 'panhandlers'"
    missing = triage("check", str(tmp_path / "nope.yaml"))
    assert missing.exit_code == 1 and "cannot be read" in missing.stderr


def test_the_installed_command_has_the_triage_group() -> None:
    heart = Path(sys.executable).parent / "heart"
    doc = json.dumps({"nature_code": "SUICIDE THREAT", "priority": "2", "screening": {
        "weapon": "yes", "medical_intervention": "no", "imminent_risk_to_others": "no"}})
    result = subprocess.run([str(heart), "triage", "decide", "--at", "2025-06-03T14:00", "--json", doc],
                            capture_output=True, text=True, cwd=REPO_ROOT, timeout=60,
                            env={**os.environ, "HEART_ENV": "development"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["pathway"] == "COR"
