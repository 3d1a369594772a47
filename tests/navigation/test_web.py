"""The directory over HTTP and on the command line: who may use it, what a navigator sees, the `heart resources`
commands an operator runs."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator, FormatChecker
from typer.testing import CliRunner

from heart.auth.models import Role
from heart.auth.permissions import PERMISSIONS
from heart.cli import app
from heart.config import get_settings
from heart.navigation.resources.importer import ImportSummary
from tests.navigation.conftest import DEMO, EXAMPLE, HSDS, read_table, with_cell, write_table

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
ImportRun = Callable[..., ImportSummary]
BENEFITS = "SNAP and Medicaid application help"


@pytest.fixture
def demo(run_import: ImportRun) -> None:
    run_import(DEMO)


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
def test_navigators_supervisors_and_admins_use_the_directory_and_nobody_else(
    role: Role, signed_in: Callable[..., TestClient]
) -> None:
    client = signed_in(role)
    allowed = role in PERMISSIONS["resources.read"]
    answers = [client.get(path, headers={"accept": "text/html"}).status_code for path in (
        "/resources", "/api/resources/services", "/api/resources/needs", "/api/resources/languages")]
    assert answers == ([200] * 4 if allowed else [403] * 4)
    home = client.get("/", headers={"accept": "text/html"}).text
    assert ('href="/resources"' in home) is allowed


def test_the_api_finds_services_and_hands_out_each_as_an_hsds_document(
    signed_in: Callable[..., TestClient], demo: None
) -> None:
    client = signed_in(Role.NAVIGATOR)
    page = client.get("/api/resources/services", params={"need": "food", "language": "spa", "lat": 35.9855,
                                                         "lon": -78.8975, "per_page": 2}).json()
    assert (page["total_items"], page["total_pages"], page["size"], page["first_page"], page["last_page"]) == (
        4, 2, 2, True, False)
    first = page["contents"][0]
    assert first["name"] == "Community food pantry" and first["site"]["distance_km"] == 0.0
    assert first["needs"] == ["food"] and "Spanish" in first["languages"]
    assert first["site"]["hours"] == ["Tue, Thu 10:00–14:00", "Sat 09:00–12:00"]

    benefits = next(item for item in client.get("/api/resources/services", params={"q": "SNAP"}).json()["contents"])
    detail = client.get(f"/api/resources/services/{benefits['id']}").json()
    assert sorted(detail["required_documents"]) == ["A photo ID", "Pay stubs or other proof of income for the last "
                                                    "30 days", "Proof of address"]
    document = client.get(f"/api/resources/services/{benefits['id']}/hsds").json()
    compiled = json.loads((HSDS / "schema" / "compiled" / "service.json").read_text())
    assert list(Draft202012Validator(compiled, format_checker=FormatChecker()).iter_errors(document)) == []
    assert document["organization"]["name"] == "Bull City Benefits Desk"

    missing = "00000000-0000-4000-8000-000000000000"
    assert client.get(f"/api/resources/services/{missing}").status_code == 404
    assert client.get(f"/api/resources/services/{missing}/hsds").status_code == 404
    wrong = client.get("/api/resources/services", params={"need": "groceries"})
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"] == ["body", "need"]
    assert client.get("/api/resources/services", params={"lat": 95, "lon": 0}).status_code == 422


def test_a_navigator_searches_and_reads_a_service_page(signed_in: Callable[..., TestClient], demo: None) -> None:
    client = signed_in(Role.NAVIGATOR)
    html = client.get("/resources", params={"need": "benefits", "language": "es"}).text
    assert BENEFITS in html and "Free tax preparation" in html and "Community food pantry" not in html
    assert "/resources/services/" in html
    service_id = html.split(f'">{BENEFITS}</a>', 1)[0].rsplit('href="/resources/services/', 1)[1]
    detail = client.get(f"/resources/services/{service_id}").text
    assert "What to bring" in detail and "Mon, Tue, Wed, Thu, Fri 08:00–17:00" in detail
    oops = client.get("/resources", params={"lat": "north", "lon": "-78.9"})
    assert oops.status_code == 200 and "lat must be a number" in oops.text


def test_data_from_a_directory_never_becomes_markup_or_a_script_link(
    signed_in: Callable[..., TestClient], run_import: ImportRun, example_copy: Path
) -> None:
    header, rows = read_table(example_copy / "services.csv")
    write_table(example_copy / "services.csv", header, [with_cell(
        header, rows[0], name="<script>alert(1)</script>Counselling", url="javascript:alert(1)")])
    assert run_import(example_copy).total("rejected") == 0  # both are valid HSDS
    client = signed_in(Role.NAVIGATOR)
    listing = client.get("/resources").text
    assert "<script>alert(1)</script>" not in listing and "&lt;script&gt;alert(1)&lt;/script&gt;" in listing
    detail = client.get("/resources/services/ac148810-d857-441c-9679-408f346de14b").text
    assert 'href="javascript:' not in detail and "javascript:alert(1)" in detail  # shown as text only


@pytest.fixture
def cli_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("HEART_DATABASE_URL", database_url)
    monkeypatch.setenv("HEART_ENV", "test")
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def test_an_operator_imports_checks_exports_and_searches_from_the_command_line(
    cli_database: str, tmp_path: Path, example_copy: Path
) -> None:
    runner = CliRunner()
    imported = runner.invoke(app, ["resources", "import", str(EXAMPLE), str(DEMO), "--format", "json",
                                   "--rejects", str(tmp_path / "findings.csv")])
    assert imported.exit_code == 0, imported.output
    result = json.loads(imported.output)
    assert result["totals"] == {"read": 238, "added": 238, "updated": 0, "unchanged": 0, "rejected": 0}
    with (tmp_path / "findings.csv").open(newline="") as handle:
        outcomes = {row["outcome"] for row in csv.DictReader(handle)}
    assert outcomes == {"kept, note"}  # the example's dangling references and its latitude of 100

    header, rows = read_table(example_copy / "services.csv")
    write_table(example_copy / "services.csv", header, [with_cell(header, rows[0], minimum_age="twelve")])
    checked = runner.invoke(app, ["resources", "check", str(example_copy), "--format", "json"])
    assert checked.exit_code == 1
    first, *dependants = json.loads(checked.output)["rejected"]
    assert (first["file"], first["line"], first["field"], first["reason"]) == (
        str(example_copy / "services.csv"), "2", "minimum_age", "'twelve' is not of type 'number'")
    assert {f["reason"] for f in dependants} == {"its service was rejected (services.csv line 2)"}
    assert "rejected records" in runner.invoke(app, ["resources", "check", str(example_copy)]).output

    exported = runner.invoke(app, ["resources", "export", "--out", str(tmp_path / "out")])
    assert exported.exit_code == 0, exported.output
    assert "records in 21 HSDS tables" in exported.output and (tmp_path / "out" / "datapackage.json").is_file()

    found = runner.invoke(app, ["resources", "search", "--need", "housing", "--near", "35.9990,-78.8960",
                                "--format", "json"])
    assert found.exit_code == 0, found.output
    assert json.loads(found.output)["contents"][0]["name"] == "Emergency night shelter"
    bad = runner.invoke(app, ["resources", "search", "--near", "north"])
    assert bad.exit_code == 1 and "--near must be LAT,LON" in bad.output
