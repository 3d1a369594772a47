"""Names, not paths: policies, import profiles and crosswalks are chosen by name from the loaded set.

A name that is a path ('../policies/durham', an absolute file) used to load any readable YAML or CSV file.
Now an unknown name is refused with the known ones listed: a 404 on the API (tests/test_bad_input.py), one
line on the command line.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from heart.calls.cad.importer import ImportRefused, check_files
from heart.calls.cad.profiles import ProfileError, available_profiles, load_profile_by_name
from heart.crosswalk.files import available_crosswalks
from heart.triage.policy import PolicyError, UnknownPolicy, available_policies, load_policy_by_name
from tests.conftest import REPO_ROOT

runner = CliRunner()
PATHS = ("../policies/durham", str(REPO_ROOT / "policies" / "durham"), "durham/../durham", "durham.v1", "")


@pytest.mark.parametrize("name", PATHS)
def test_a_policy_is_one_of_the_loaded_set_never_a_path(name: str) -> None:
    with pytest.raises(UnknownPolicy) as refused:
        load_policy_by_name(name)
    assert str(refused.value).endswith(f"(known: {', '.join(available_policies())})")
    assert load_policy_by_name("durham").id == "durham"


def test_an_unknown_policy_on_the_command_line_is_one_line_listing_the_known_ones() -> None:
    from heart.cli import app

    result = runner.invoke(app, ["triage", "decide", "--policy", "../policies/durham", "--json", "{}"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "no policy named '../policies/durham'" in lines[0] and "(known: durham)" in lines[0]
    # An explicit draft file is still the operator's to try (it ends in .yaml and names a file).
    draft_file = REPO_ROOT / "cities" / "durham" / "policies" / "durham.yaml"
    draft = runner.invoke(app, ["triage", "decide", "--policy", str(draft_file),
                                "--json", "{}"])
    assert draft.exit_code == 0, draft.output


@pytest.mark.parametrize("name", ("../profiles/alexandria-decc", "/etc/hostname", "ALEXANDRIA-DECC"))
def test_an_import_profile_is_one_of_the_loaded_set_never_a_path(name: str, tmp_path: Path) -> None:
    from heart.cli import app

    with pytest.raises(ProfileError) as refused:
        load_profile_by_name(name)
    assert f"(known: {', '.join(available_profiles())})" in str(refused.value)
    result = runner.invoke(app, ["cad", "check", "--profile", name, str(tmp_path / "x.csv")])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert "no import profile named" in result.output and "alexandria-decc" in result.output


def test_a_profile_names_its_crosswalk_from_the_reviewed_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    text = (REPO_ROOT / "cad" / "profiles" / "alexandria-decc.yaml").read_text(encoding="utf-8")
    assert "\ncrosswalk: null\n" in text
    (profiles / "alexandria-decc.yaml").write_text(text.replace("\ncrosswalk: null\n", "\ncrosswalk: ../durham\n"),
                                                   encoding="utf-8")
    monkeypatch.setenv("HEART_PROFILES_DIR", str(profiles))
    profile = load_profile_by_name("alexandria-decc")
    with pytest.raises(ImportRefused) as refused:
        check_files(profile=profile, paths=[tmp_path / "x.csv"])
    message = str(refused.value)
    assert "no reviewed crosswalk named '../durham'" in message
    assert f"(known: {', '.join(available_crosswalks())})" in message and "seattle" in message
    # A reviewed one by its name works.
    (profiles / "alexandria-decc.yaml").write_text(text.replace("\ncrosswalk: null\n", "\ncrosswalk: seattle\n"),
                                                   encoding="utf-8")
    assert check_files(profile=load_profile_by_name("alexandria-decc"), paths=[]).files == []


def test_a_policy_directory_file_with_a_dot_in_its_name_is_no_policy(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Kept older versions (durham.v1.yaml) are reached through their policy, never as a name of their own."""
    shutil.copy(REPO_ROOT / "cities" / "durham" / "policies" / "durham.yaml", tmp_path / "durham.yaml")
    current = (REPO_ROOT / "cities" / "durham" / "policies" / "durham.yaml").read_text(encoding="utf-8")
    older = re.sub(r"(?m)^version: \d+$", "version: 1", current)
    (tmp_path / "durham.v1.yaml").write_text(older, encoding="utf-8")
    monkeypatch.setenv("HEART_POLICIES_DIR", str(tmp_path))
    assert available_policies() == ["durham"]
    with pytest.raises(PolicyError):
        load_policy_by_name("durham.v1")
    assert load_policy_by_name("durham", version=1).version == 1
