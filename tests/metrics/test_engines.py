"""The same definitions on every engine: the operational database, DuckDB over the exported history, the history
in PostgreSQL, and Spark (local mode) give identical figures — internal and public — on the same data."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from heart.cli import app
from heart.config import get_settings
from heart.db import make_engine
from heart.metrics import definitions as d
from heart.metrics.backends import MetricsSource, open_database
from heart.metrics.engines import Engine
from heart.metrics.history import HistoryFiles, export_history, open_history
from heart.metrics.public import stored
from heart.metrics.public.groups import year_period
from heart.metrics.public.service import public_figures
from heart.metrics.service import compute_metrics
from tests.metrics.conftest import load_history
from tests.metrics.public_history import plant

pytestmark = [pytest.mark.xdist_group("spark"), pytest.mark.postgres]
MARCH = d.Period(since=date(2024, 3, 1), until=date(2024, 3, 31))


def figures(source: MetricsSource, history: str) -> list[dict[str, Any]]:
    """Every internal figure (for March 2024 on the hand-checked history: its time zones and daylight saving
    time), and the public figures of 2024 (on the planted one: reach, phone calls, suppression)."""
    if history == "hand-checked":
        return [compute_metrics(source=source, period=MARCH).model_dump()]
    return [compute_metrics(source=source, period=d.Period()).model_dump(),
            public_figures(source=source, year=2024, today=date(2026, 1, 1)).model_dump()]


@pytest.mark.parametrize("history", ["hand-checked", "planted"])
def test_every_engine_gives_identical_figures(history: str, sqlite_url: str, postgres_url: str, spark: Any,
                                             tmp_path: Path) -> None:
    engine = make_engine(sqlite_url)
    (load_history if history == "hand-checked" else plant)(engine)
    engine.dispose()
    with open_database(sqlite_url) as source:
        expected = figures(source, history)
        written = export_history(source, tmp_path / "history")
    assert written["responses"] > 0 and (history == "hand-checked" or written["phone"] == 40)
    for engine_name in Engine:
        with open_history(tmp_path / "history", engine=engine_name, postgres_url=postgres_url,
                          spark=spark) as source:
            assert source.name == engine_name.value
            # DuckDB sums the public cubes the export kept beside the responses; the others scan the rows.
            assert (stored.read(source.parts, year_period(2024), beats=True) is not None) == (
                engine_name == Engine.duckdb)
            assert figures(source, history) == expected, engine_name
    assert expected[0]["programs"]["CRT"]["responses"] == (6 if history == "hand-checked" else 556)
    if history == "planted":  # welfare checks with a weapon: CRT's eligible calls, missed for an exclusion
        assert expected[0]["programs"]["CRT"]["reach"]["missed"]["exclusion"] == 14 + 6


def test_a_folder_of_parquet_files_reads_as_one_history(sqlite_url: str, tmp_path: Path) -> None:
    engine = make_engine(sqlite_url)
    load_history(engine)
    engine.dispose()
    with open_database(sqlite_url) as source:
        export_history(source, tmp_path / "one")
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "one" / "responses.parquet")
    # Stored as the history grew, in the order calls were received (what lets the files encode time compactly).
    received = table.column("received_at").to_pylist()
    assert received == sorted(received) and len(set(received)) > 1
    (tmp_path / "many" / "responses").mkdir(parents=True)
    pq.write_table(table.slice(0, 7), tmp_path / "many" / "responses" / "part-0.parquet")
    pq.write_table(table.slice(7), tmp_path / "many" / "responses" / "part-1.parquet")
    assert HistoryFiles.at(tmp_path / "many").responses == str(tmp_path / "many" / "responses")
    with open_history(tmp_path / "one") as one, open_history(tmp_path / "many") as many:
        assert compute_metrics(source=one, period=MARCH) == compute_metrics(source=many, period=MARCH)
        # The span DuckDB takes from the files' statistics is the one a scan finds.
        scanned = d.time_span(many.history).to_pyarrow().to_pylist()[0]
        assert one.span == many.span == scanned and scanned["first_received_at"] is not None
    with pytest.raises(FileNotFoundError, match="no history at"):
        HistoryFiles.at(tmp_path / "nowhere")


def test_heart_metrics_reads_a_history_on_each_engine(sqlite_url: str, postgres_url: str, spark: Any,
                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(sqlite_url)
    load_history(engine)
    engine.dispose()
    monkeypatch.setenv("HEART_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("HEART_ENV", "test")
    get_settings.cache_clear()
    runner = CliRunner()
    exported = runner.invoke(app, ["export", "history", "--out", str(tmp_path / "history")])
    assert exported.exit_code == 0 and "responses.parquet: 19 rows" in exported.stdout
    base = ["metrics", "--since", "2024-03-01", "--until", "2024-03-31", "--format", "json"]
    answers = [json.loads(runner.invoke(app, base).stdout)]
    for options in (["--history", str(tmp_path / "history")],
                    ["--history", str(tmp_path / "history"), "--engine", "postgres", "--postgres-url", postgres_url],
                    ["--history", str(tmp_path / "history"), "--engine", "spark"]):
        result = runner.invoke(app, [*base, *options])
        assert result.exit_code == 0, result.output
        answers.append(json.loads(result.stdout))
    assert all(answer == answers[0] for answer in answers) and answers[0]["programs"]["CRT"]["responses"] == 6
    assert spark.range(1).count() == 1  # the command left the running session running
    refused = runner.invoke(app, ["metrics", "--engine", "spark"])
    assert refused.exit_code == 1 and "--engine spark reads a history folder" in refused.output
    missing = runner.invoke(app, ["metrics", "--history", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1 and "no history at" in missing.output
    get_settings.cache_clear()
