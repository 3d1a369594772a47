"""The public figures service as a page would call it: the same numbers as the internal dashboard where shown,
reach adding up to its reasons, the phone program's calls, the team's safety, words for every figure, a plugged-in
group protected like the rest, and `heart export` refusing what would break the protection."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from heart.cli import app
from heart.config import get_settings
from heart.db import make_engine
from heart.metrics.backends import MetricsSource, open_database
from heart.metrics.meanings import MEANINGS
from heart.metrics.public.groups import RawGroup, RawTable, Share, year_period
from heart.metrics.public.service import NotPublished, public_figures
from heart.metrics.service import compute_metrics
from tests.metrics.public_history import plant

TODAY = date(2026, 6, 1)
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def planted(database_url: str) -> str:
    engine = make_engine(database_url)
    plant(engine)
    engine.dispose()
    return database_url


def test_shown_figures_are_the_internal_dashboards_and_reach_adds_up_to_its_reasons(planted: str) -> None:
    with open_database(planted) as source:
        public = public_figures(source=source, year=2023, today=TODAY)
        internal = compute_metrics(source=source, period=year_period(2023)).programs["CRT"]
        public24 = public_figures(source=source, year=2024, today=TODAY)
        internal24 = compute_metrics(source=source, period=year_period(2024)).programs
    panel = public.programs["CRT"].groups["responses"].figures
    for key in ("responses", "avg_minutes_to_scene", "avg_minutes_on_scene", "avg_total_minutes",
                "pct_needed_transport", "pct_needed_ems_support", "pct_team_felt_safe"):
        assert panel[key].value == getattr(internal, key) and not panel[key].suppressed, key
    assert internal.pct_team_felt_safe == 93.06 and internal.team_safety_answered == 288
    reach = public24.programs["CRT"].groups["reach"]
    expected = internal24["CRT"].reach
    assert expected is not None and expected.eligible_calls == 268 + 30 + 5 + 12 + 14  # 14 kept away by an exclusion
    assert reach.figures["eligible_calls"].value == expected.eligible_calls
    outcomes = {row.key: row.cells["count"] for row in reach.tables["outcomes"].rows}
    assert list(outcomes) == ["reached", "program_closed", "no_unit_available", "no_unit_in_time",
                              "not_dispatched_in_time", "exclusion", "sent_elsewhere", "called_off", "other"]
    shown = {key: cell.value for key, cell in outcomes.items() if not cell.suppressed}
    assert shown == {"reached": 268, "program_closed": 30, "not_dispatched_in_time": 0, "exclusion": 14,
                     "sent_elsewhere": 0, "called_off": 0, "other": 0}
    words = {row.key: row.label for row in reach.tables["outcomes"].rows}
    assert words["exclusion"] == ("missed: an exclusion: the call had a weapon, a risk or a priority the team "
                                  "cannot take")
    assert expected.reached_calls + sum(expected.missed.values()) == expected.eligible_calls  # one reason each
    assert reach.figures["pct_reached"].text == "81.46%"
    phone = public24.programs["CCD"].groups["phone"]
    assert phone.figures["resolved_by_phone"].text == "40"
    assert all(row.cells["count"].suppressed for row in phone.tables["phone_by_month"].rows)  # 3 or 4 a month


@sqlite_only
def test_every_figure_says_what_it_means_and_the_rule_is_given(planted: str) -> None:
    with open_database(planted) as source:
        report = public_figures(source=source, year=2024, today=TODAY)
    keys = {key for program in report.programs.values() for group in program.groups.values()
            for key in [*group.figures, *group.tables]}
    assert keys <= set(report.definitions) <= set(MEANINGS)
    assert "fewer than 11" in report.rule and report.threshold == 11
    table = report.programs["CRT"].groups["responses"].tables["by_month"]
    assert table.meaning == MEANINGS["by_month"].meaning and table.columns[0] == "count"
    assert json.loads(report.model_dump_json())["programs"]["CRT"]["year"] == 2024


@sqlite_only
def test_a_year_that_has_not_ended_is_not_published(planted: str) -> None:
    with open_database(planted) as source, pytest.raises(NotPublished, match="2024 has not ended"):
        public_figures(source=source, year=2024, today=date(2024, 12, 31))


def _follow_ups(*, source: MetricsSource, period: Any) -> list[RawGroup]:
    """A stand-in for care navigation's group: follow-ups by month, and the share contacted within 48 hours."""
    assert period.since.year == 2024 and source.name in ("sqlite", "postgres")
    months = {f"{m:02d}": 30 for m in range(1, 13)} | {"06": 9}
    total = sum(months.values())
    return [RawGroup(program="CN", year=2024, group="follow_ups", total_key="follow_ups", total=total,
                     tables={"follow_ups_by_month": RawTable(cells=months)},
                     shares={"pct_contacted_within_48h": Share(total - 4, total)})]


@sqlite_only
def test_a_plugged_in_group_is_protected_like_the_built_in_ones(planted: str) -> None:
    with open_database(planted) as source:
        report = public_figures(source=source, year=2024, today=TODAY, providers=[_follow_ups])
    group = report.programs["CN"].groups["follow_ups"]
    months = {row.key: row.cells["count"] for row in group.tables["follow_ups_by_month"].rows}
    assert months["06"].suppressed and sum(cell.suppressed for cell in months.values()) == 2
    assert group.figures["pct_contacted_within_48h"].suppressed  # 4 not contacted in time
    assert group.figures["follow_ups"].text == "339"


@pytest.fixture
def cli_database(planted: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("HEART_DATABASE_URL", planted)
    monkeypatch.setenv("HEART_ENV", "test")
    get_settings.cache_clear()
    yield planted
    get_settings.cache_clear()


@sqlite_only
def test_heart_export_writes_whole_ended_years_only(cli_database: str, tmp_path: Path) -> None:
    runner = CliRunner()
    written = runner.invoke(app, ["export", "open-data", "--since", "2023-01-01", "--until", "2024-12-31",
                                  "--out", str(tmp_path / "open")])
    assert written.exit_code == 0, written.output
    assert "556 responses written" in written.stdout
    assert "left out (fewer than 11 responses): SML 2024" in written.stdout
    assert sorted(path.name for path in (tmp_path / "open").iterdir()) == [
        "datapackage.json", "responses.csv", "responses.parquet"]
    partial = runner.invoke(app, ["export", "open-data", "--since", "2024-03-01", "--until", "2024-12-31",
                                  "--out", str(tmp_path / "march")])
    assert partial.exit_code == 1 and "whole calendar years" in partial.output
    assert not (tmp_path / "march").exists()
    this_year = date.today().year
    running = runner.invoke(app, ["export", "open-data", "--since", f"{this_year}-01-01", "--until",
                                  f"{this_year}-12-31", "--out", str(tmp_path / "now")])
    assert running.exit_code == 1 and f"{this_year} has not ended" in running.output
    figures = runner.invoke(app, ["export", "public-figures", "--year", "2024"])
    assert figures.exit_code == 0, figures.output
    assert json.loads(figures.stdout)["programs"]["SML"]["groups"]["responses"]["total_hidden"] is True


def test_the_analytics_benchmark_runs_on_a_small_history(tmp_path: Path) -> None:
    from benchmarks.analytics import run_floor, run_public, write_history

    write_history(tmp_path / "history", 20_000)
    public, floor = run_public("duckdb", tmp_path / "history", 1), run_floor(tmp_path / "history", 1)
    assert public["program_years"] == 20  # two programs, ten years
    assert 0.9 * floor["responses"] < public["responses"] <= floor["responses"]  # the counted rule drops a few
