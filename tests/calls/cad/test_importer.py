"""CAD history import on real rows of ../shared/data/cfs: idempotent, DST-aware, and tolerant of bad rows."""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from heart.calls.cad.importer import ImportRefused, Progress, check_files, import_files
from heart.calls.cad.parse import RowError, to_utc
from heart.calls.cad.profiles import Profile, load_profile_by_name
from heart.calls.models import CadRecord
from heart.config import get_settings
from heart.db import make_engine
from tests.conftest import shared_data, wait_until_blocked
from tests.factories import UNARMED_TEAM_TYPES

CFS = shared_data() / "cfs"
ALEXANDRIA = CFS / "alexandria_va"
WEEKS = [ALEXANDRIA / f"week{n}.csv" for n in range(35, 42)]
NOW = datetime(2025, 12, 1, 12, 0, tzinfo=UTC)
TIME_COLUMNS = ["Incident_Start_Time", "Incident_Dispatch_Time", "Incident_Enroute_Time", "Incident_Arrival_Time",
                "Incident_First_Close_Time"]


@pytest.fixture(autouse=True)
def _real_data() -> None:
    if not all(path.is_file() for path in WEEKS):
        pytest.skip(f"the Alexandria CAD exports are not in {ALEXANDRIA} (set HEART_SHARED_DATA)")


@pytest.fixture
def alexandria() -> Profile:
    return load_profile_by_name("alexandria-decc")


@pytest.fixture
def engine_for(request: pytest.FixtureRequest) -> Iterator[Engine]:
    url = request.getfixturevalue("sqlite_url")
    engine = make_engine(url)
    yield engine
    engine.dispose()


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


def count(engine: Engine, *where: object) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(CadRecord).where(*where)) or 0)  # type: ignore[arg-type]


def test_all_of_alexandria_imports_once_and_again_adds_nothing(database_url: str, alexandria: Profile) -> None:
    expected_rows, null_arrivals, no_number, sentinel_ids = 0, 0, 0, set()
    for path in WEEKS:
        header, rows = read_csv(path)
        at = {name: header.index(name) for name in ("Incident_Arrival_Time", "Master_Incident_Number",
                                                     "Elapsed_Transit")}
        expected_rows += len(rows)
        null_arrivals += sum(row[at["Incident_Arrival_Time"]] == "NULL" for row in rows)
        no_number += sum(row[at["Master_Incident_Number"]] == "" for row in rows)
        sentinel_ids |= {row[at["Master_Incident_Number"]] for row in rows if row[at["Elapsed_Transit"]] == "-9999"}
    engine = make_engine(database_url)
    try:
        first = import_files(engine=engine, profile=alexandria, paths=WEEKS, batch_label="alexandria", now=NOW)
        assert first.as_dict()["totals"] == {"read": expected_rows, "imported": expected_rows, "skipped": 0,
                                             "rejected": 0}
        assert [f.error for f in first.files] == [None] * 7
        again = import_files(engine=engine, profile=alexandria, paths=WEEKS, batch_label="alexandria-again", now=NOW)
        assert again.total("imported") == 0 and again.total("skipped") == expected_rows
        assert count(engine) == expected_rows == 9651
        # NULL arrivals (and the -9999 transit sentinel that goes with them) are missing, not zero
        assert count(engine, CadRecord.on_scene_at.is_(None)) == null_arrivals
        assert count(engine, CadRecord.external_id.in_(sentinel_ids), CadRecord.on_scene_at.is_not(None)) == 0
        assert count(engine, CadRecord.external_id.is_(None)) == no_number == 3  # keyed by the whole row
        # week40.csv has eight extra Elapsed_* columns; its rows import like the others
        assert count(engine, CadRecord.source_file == "week40.csv") == first.files[5].read == 1305
        with engine.connect() as connection:
            row = connection.execute(select(CadRecord).where(CadRecord.external_id == "25-071089")).one()
            mental = connection.execute(select(CadRecord.incident_type, CadRecord.category)
                                        .where(CadRecord.nature_code == "MENTAL HEALTH CASE")).first()
            domestic = set(connection.scalars(select(CadRecord.incident_type)
                                              .where(CadRecord.nature_code.like("DOMESTIC%"))))
    finally:
        engine.dispose()
    # 2025-08-24 00:07:06 in Alexandria (EDT, UTC−4)
    assert row.received_at == datetime(2025, 8, 24, 4, 7, 6, tzinfo=UTC)
    assert row.dispatched_at == datetime(2025, 8, 24, 4, 9, 46, 810000, tzinfo=UTC)
    assert (row.agency, row.nature_code, row.priority, row.call_source) == ("POLICE", "ALARM COMMERCIAL", "2", "phone")
    assert (row.source_file, row.source_line) == ("week35.csv", 2)
    assert mental == ("mental_health_crisis", "Behavioral Health")
    assert domestic and not domestic & UNARMED_TEAM_TYPES


def dst_rows() -> tuple[list[str], list[list[str]]]:
    """Real rows of week41 with their times moved into the clock changes of 2025."""
    header, rows = read_csv(ALEXANDRIA / "week41.csv")
    at = [header.index(name) for name in TIME_COLUMNS]
    number = header.index("Master_Incident_Number")
    plans = {
        "DST-A": ["2025-11-02 01:10:00.000", "2025-11-02 01:12:00.000", "2025-11-02 01:15:00.000",
                  "2025-11-02 01:20:00.000", "2025-11-02 01:45:00.000"],  # all in the first 01:xx (EDT)
        "DST-B": ["2025-11-02 01:50:00.000", "2025-11-02 01:55:00.000", "2025-11-02 01:58:00.000",
                  "2025-11-02 01:05:00.000", "2025-11-02 01:30:00.000"],  # arrives in the second 01:xx (EST)
        "DST-C": ["2025-11-02 00:55:00.000", "2025-11-02 00:58:00.000", "NULL", "2025-11-02 01:10:00.000",
                  "2025-11-02 02:10:00.000"],
        "DST-D": ["2025-03-09 02:30:00.000", "2025-03-09 02:35:00.000", "NULL", "NULL",
                  "2025-03-09 03:40:00.000"],  # 02:30 did not happen that night
    }
    made = []
    for (ident, times), source in zip(plans.items(), rows, strict=False):
        row = list(source)
        row[number] = ident
        for position, value in zip(at, times, strict=True):
            row[position] = value
        made.append(row)
    return header, made


def test_clock_changes_follow_the_profile_rules(engine_for: Engine, alexandria: Profile, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "dst.csv", *dst_rows())
    summary = import_files(engine=engine_for, profile=alexandria, paths=[path], batch_label="dst", now=NOW)
    assert (summary.total("imported"), summary.total("rejected")) == (3, 1)
    [reject] = summary.rejects
    assert (reject.line, reject.column, reject.value) == (5, "Incident_Start_Time", "2025-03-09 02:30:00.000")
    assert "does not exist in America/New_York" in reject.reason
    with engine_for.connect() as connection:
        stored = {r.external_id: r for r in connection.execute(select(CadRecord))}
    utc = lambda h, m: datetime(2025, 11, 2, h, m, tzinfo=UTC)  # noqa: E731
    assert (stored["DST-A"].received_at, stored["DST-A"].cleared_at) == (utc(5, 10), utc(5, 45))  # EDT
    b = stored["DST-B"]
    assert (b.received_at, b.en_route_at, b.on_scene_at, b.cleared_at) == (utc(5, 50), utc(5, 58), utc(6, 5),
                                                                           utc(6, 30))
    assert b.on_scene_at - b.dispatched_at == timedelta(minutes=10)  # not −50 minutes
    c = stored["DST-C"]
    assert (c.received_at, c.on_scene_at, c.cleared_at) == (utc(4, 55), utc(5, 10), utc(7, 10))  # 02:10 is EST


def test_clock_change_choices_earlier_later_and_shift(alexandria: Profile) -> None:
    ambiguous, skipped = datetime(2025, 11, 2, 1, 30), datetime(2025, 3, 9, 2, 30)
    args = {"after": None, "column": "c", "text": "t"}
    assert to_utc(ambiguous, dataclasses.replace(alexandria, ambiguous_times="earlier"), **args) == \
        datetime(2025, 11, 2, 5, 30, tzinfo=UTC)
    assert to_utc(ambiguous, dataclasses.replace(alexandria, ambiguous_times="later"), **args) == \
        datetime(2025, 11, 2, 6, 30, tzinfo=UTC)
    assert to_utc(skipped, dataclasses.replace(alexandria, nonexistent_times="shift"), **args) == \
        datetime(2025, 3, 9, 7, 30, tzinfo=UTC)  # read as 03:30 EDT
    with pytest.raises(RowError, match="does not exist"):
        to_utc(skipped, alexandria, **args)


def truncated_copy(source: Path, target: Path, share: float) -> Path:
    data = source.read_bytes()
    cut = int(len(data) * share)
    while data[cut - 1 : cut] == b"\n":  # make sure the cut falls inside a line
        cut += 7
    target.write_bytes(data[:cut])
    return target


def test_a_truncated_file_keeps_every_complete_row(engine_for: Engine, alexandria: Profile, tmp_path: Path) -> None:
    truncated = truncated_copy(ALEXANDRIA / "week35.csv", tmp_path / "week35.csv", 0.6)
    complete = truncated.read_bytes().count(b"\n") - 1  # lines after the header that end properly
    summary = import_files(engine=engine_for, profile=alexandria, paths=[truncated, ALEXANDRIA / "week36.csv"],
                           batch_label="partial", now=NOW, chunk_rows=200)
    cut, whole = summary.files
    assert (cut.read, cut.imported, cut.rejected, cut.error) == (complete + 1, complete, 1, None)
    [reject] = summary.rejects
    assert reject.line == complete + 2 and "values but the header has 48" in reject.reason
    assert whole.imported == whole.read == 1263
    # the full file later brings only the rows the truncated one lacked
    full = import_files(engine=engine_for, profile=alexandria, paths=[ALEXANDRIA / "week35.csv"],
                        batch_label="partial", now=NOW)
    assert full.total("imported") == 1348 - complete and full.total("skipped") == complete


def test_an_import_stopped_half_way_keeps_its_chunks_and_resumes(engine_for: Engine, alexandria: Profile) -> None:
    def stop_after_two_chunks(step: Progress) -> None:
        if step.rows >= 400:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_files(engine=engine_for, profile=alexandria, paths=[ALEXANDRIA / "week36.csv"], batch_label="stop",
                     now=NOW, chunk_rows=200, on_progress=stop_after_two_chunks)
    assert count(engine_for) == 400
    resumed = import_files(engine=engine_for, profile=alexandria, paths=[ALEXANDRIA / "week36.csv"],
                           batch_label="stop", now=NOW)
    assert (resumed.total("imported"), resumed.total("skipped")) == (1263 - 400, 400)


def test_bad_values_reject_only_their_rows(engine_for: Engine, alexandria: Profile, tmp_path: Path) -> None:
    header, rows = read_csv(ALEXANDRIA / "week37.csv")
    rows = rows[:40]
    rows[2][header.index("Incident_Dispatch_Time")] = "2025-13-45 99:00:00.000"
    rows[3][header.index("Problem")] = "X" * 200
    rows[4][header.index("Incident_Start_Time")] = "NULL"
    path = write_csv(tmp_path / "bad.csv", header, rows)
    data = path.read_bytes().replace(rows[5][header.index("Problem")].encode(), b"BAD \xff BYTE", 1)
    path.write_bytes(data)
    summary = import_files(engine=engine_for, profile=alexandria, paths=[path], batch_label="bad", now=NOW)
    assert (summary.total("read"), summary.total("imported"), summary.total("rejected")) == (40, 36, 4)
    found = {(r.line, r.column): r.reason for r in summary.rejects}
    assert found.keys() == {(4, "Incident_Dispatch_Time"), (5, "Problem"), (6, "Incident_Start_Time"),
                            (7, "Problem")}
    assert "not a date and time" in found[(4, "Incident_Dispatch_Time")]
    assert "longer than 128" in found[(5, "Problem")]
    assert "received_at is missing" in found[(6, "Incident_Start_Time")]
    assert "not valid utf-8-sig text" in found[(7, "Problem")]


def test_a_nul_character_rejects_its_row_and_the_file_keeps_its_good_rows(
    database_url: str, alexandria: Profile, tmp_path: Path
) -> None:
    """PostgreSQL cannot store NUL: the whole import used to stop with a traceback and keep nothing."""
    header, rows = read_csv(ALEXANDRIA / "week37.csv")
    rows = rows[:30]
    rows[4][header.index("Problem")] = "WELFARE\x00CHECK"
    rows[9][header.index("Agency")] = "\x00"
    path = write_csv(tmp_path / "nul.csv", header, rows)
    engine = make_engine(database_url)
    try:
        summary = import_files(engine=engine, profile=alexandria, paths=[path], batch_label="nul", now=NOW)
        assert (summary.total("read"), summary.total("imported"), summary.total("rejected")) == (30, 28, 2)
        found = {(Path(r.file).name, r.line, r.column): r for r in summary.rejects}
        assert set(found) == {("nul.csv", 6, "Problem"), ("nul.csv", 11, "Agency")}
        assert all("NUL character" in r.reason for r in found.values())
        assert found[("nul.csv", 6, "Problem")].value == "WELFARE\\0CHECK"  # shown, never the raw byte
        assert count(engine) == 28
    finally:
        engine.dispose()


def test_the_wrong_profile_imports_nothing_and_says_why(engine_for: Engine, alexandria: Profile) -> None:
    sacramento = load_profile_by_name("sacramento-opendata")
    summary = import_files(engine=engine_for, profile=sacramento, paths=[ALEXANDRIA / "week35.csv"],
                           batch_label="wrong", now=NOW)
    [item] = summary.files
    assert item.read == 0 and item.error is not None
    assert "no column 'Record_ID'" in item.error and "sacramento-opendata export" in item.error
    assert count(engine_for) == 0
    with pytest.raises(ImportRefused, match="holds sacramento-opendata rows"):
        import_files(engine=engine_for, profile=alexandria, paths=[], batch_label="wrong", now=NOW)


def test_sacramento_keeps_the_date_and_leaves_times_empty(engine_for: Engine, tmp_path: Path) -> None:
    header, rows = read_csv(CFS / "sacramento" / "january_2019_dispatch.csv")
    path = write_csv(tmp_path / "sacramento.csv", header, rows[:300])
    summary = import_files(engine=engine_for, profile=load_profile_by_name("sacramento-opendata"), paths=[path],
                           batch_label="sac", now=NOW)
    assert summary.total("imported") == 300
    with engine_for.connect() as connection:
        first = connection.execute(select(CadRecord).order_by(CadRecord.id)).first()
    assert first is not None
    assert (first.external_id, first.received_on, first.received_at, first.on_scene_at) == (
        rows[0][header.index("Record_ID")], "2019-01-01", None, None)
    assert (first.agency, first.nature_code) == ("POLICE", "SHOTS FIRED - LESS THAN 15 AGO")
    assert first.incident_type not in UNARMED_TEAM_TYPES


def test_eugene_times_come_from_seconds_after_the_call(engine_for: Engine, tmp_path: Path) -> None:
    eugene = load_profile_by_name("eugene-cad")
    sample = CFS / "eugene_or" / "sample_CAD_2014_data.csv"
    checked = check_files(profile=eugene, paths=[sample])
    assert checked.total("read") == checked.total("rejected") == 5  # the sample's call times lost their date
    assert all("without a date" in r.reason and r.column == "calltime" for r in checked.rejects)
    # The same rows as Eugene publishes them, with the call time's date (first calls of 2014).
    header, rows = read_csv(sample)
    at = header.index("calltime")
    for row in rows:
        minutes, seconds = row[at].split(".")[0].split(":")
        row[at] = f"2014-01-01 00:{minutes}:{seconds}.000"
    path = write_csv(tmp_path / "eugene.csv", header, rows)
    summary = import_files(engine=engine_for, profile=eugene, paths=[path], batch_label="eug", now=NOW)
    assert summary.total("imported") == 5
    with engine_for.connect() as connection:
        dispute = connection.execute(select(CadRecord).where(CadRecord.external_id == "14000006")).one()
    assert dispute.received_at == datetime(2014, 1, 1, 8, 5, 17, tzinfo=UTC)  # 00:05:17 PST
    assert dispute.dispatched_at - dispute.received_at == timedelta(seconds=219)
    assert dispute.on_scene_at - dispute.received_at == timedelta(seconds=596)
    assert dispute.cleared_at - dispute.received_at == timedelta(seconds=1444)
    assert (dispute.agency, dispute.call_source, dispute.nature_code) == ("POLICE", "phone", "DISPUTE")


def test_check_reads_everything_reports_progress_and_writes_nothing(alexandria: Profile) -> None:
    seen: list[Progress] = []
    summary = check_files(profile=alexandria, paths=WEEKS[:2], on_progress=seen.append)
    assert summary.checked_only and summary.total("read") == 1348 + 1263 and summary.total("rejected") == 0
    total = sum(path.stat().st_size for path in WEEKS[:2])
    assert seen[-1].done_bytes == seen[-1].total_bytes == total and seen[-1].rows == 1348 + 1263
    assert [p.done_bytes for p in seen] == sorted(p.done_bytes for p in seen)


runner = CliRunner()


@pytest.fixture
def cli_env(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("HEART_ENV", "development")
    monkeypatch.setenv("HEART_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_cad_commands_as_an_operator_uses_them(cli_env: None, tmp_path: Path) -> None:
    from heart.cli import app

    truncated = truncated_copy(ALEXANDRIA / "week38.csv", tmp_path / "week38.csv", 0.5)
    rejects = tmp_path / "rejects.csv"
    result = runner.invoke(app, ["cad", "import", "--profile", "alexandria-decc", str(truncated),
                                 str(ALEXANDRIA / "week39.csv"), "--batch", "ops", "--rejects", str(rejects)])
    assert result.exit_code == 0, result.output
    assert "batch ops" in result.output and "rejected rows" in result.output
    with rejects.open(newline="") as handle:
        listed = list(csv.DictReader(handle))
    assert len(listed) == 1 and listed[0]["file"] == str(truncated) and "header has 48" in listed[0]["reason"]
    assert int(listed[0]["line"]) > 2
    again = runner.invoke(app, ["cad", "import", "--profile", "alexandria-decc", str(ALEXANDRIA / "week39.csv"),
                                "--batch", "ops", "--format", "json"])
    assert again.exit_code == 0 and json.loads(again.output)["totals"]["imported"] == 0
    wrong = runner.invoke(app, ["cad", "import", "--profile", "eugene-cad", str(ALEXANDRIA / "week39.csv"),
                                "--batch", "ops2"])
    assert wrong.exit_code == 1 and "is this a eugene-cad export" in wrong.output.replace("\n", " ")
    checked = runner.invoke(app, ["cad", "check", "--profile", "alexandria-decc", str(truncated)])
    assert checked.exit_code == 1 and "would import" in checked.output
    listed_profiles = runner.invoke(app, ["cad", "profiles", "--format", "json"])
    assert {p["name"] for p in json.loads(listed_profiles.output)} >= {"alexandria-decc", "eugene-cad"}
    baseline = runner.invoke(app, ["cad", "baseline", "--batch", "ops", "--format", "json"])
    figures = json.loads(baseline.output)
    assert figures["batch"] == "ops" and set(figures["agencies"]) <= {"POLICE", "EMS", "FIRE"}
    unknown = runner.invoke(app, ["cad", "import", "--profile", "nope", str(truncated)])
    assert unknown.exit_code == 1 and "no import profile named 'nope'" in unknown.output


def test_two_imports_of_the_same_rows_at_once_on_postgresql_store_them_once(
    postgres_url: str, alexandria: Profile, tmp_path: Path
) -> None:
    """A key stored by another import between the check of stored keys and the COPY is not doubled, nor an error."""
    import threading

    from heart.calls.cad.importer import FileSummary as Summary
    from heart.calls.cad.importer import _FileReader, _insert_postgres, _open_batch
    from heart.crosswalk.mapper import nature_mapper

    header, rows = read_csv(ALEXANDRIA / "week36.csv")
    path = write_csv(tmp_path / "race.csv", header, rows[:300])
    reader = _FileReader(path, alexandria, nature_mapper(), Summary(str(path)), lambda _: None, lambda *_: None,
                         10_000, 1 << 20)
    [chunk] = list(reader.chunks())
    engine = make_engine(postgres_url)
    try:
        batch = _open_batch(engine, "race", alexandria, NOW)
        with engine.begin() as connection:  # the first row is stored: the second import's first COPY fails at once
            assert _insert_postgres(connection, chunk.slice(0, 1), batch) == 1
        first = engine.connect()
        transaction = first.begin()
        assert _insert_postgres(first, chunk.slice(1), batch) == 299  # not committed yet
        second: list[int] = []
        thread = threading.Thread(target=lambda: second.append(_insert_in_own_transaction(engine, chunk, batch)))
        thread.start()
        wait_until_blocked(engine)  # the second COPY waits for the first transaction's keys
        transaction.commit()
        first.close()
        thread.join(timeout=20)
        assert second == [0]
        assert count(engine) == 300
    finally:
        engine.dispose()


def _insert_in_own_transaction(engine: Engine, chunk: object, batch: int) -> int:
    from heart.calls.cad.importer import _insert_postgres

    with engine.begin() as connection:
        return _insert_postgres(connection, chunk, batch)  # type: ignore[arg-type]
