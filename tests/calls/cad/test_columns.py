"""The column-wise reader gives every row the record or the reject the row-by-row reader gives it.

The reference is ``legacy_rows``: Python's csv module and ``RowParser``, one row at a time (how every CAD import
read rows before the column-wise reader). Each file here is read both ways, in small blocks so that rows cross
block boundaries, and the records (every stored column) and rejects (file, line, column, value, reason) compared.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import sys
from pathlib import Path
from typing import Any

import pytest

from heart.calls.cad.columns import WHITESPACE, legacy_rows
from heart.calls.cad.importer import FileSummary, check_files
from heart.calls.cad.importer import _FileReader as FileReader
from heart.calls.cad.parse import Reject, RowParser
from heart.calls.cad.profiles import Profile, load_profile_by_name
from heart.crosswalk.mapper import nature_mapper
from tests.calls.cad.test_importer import ALEXANDRIA, CFS, TIME_COLUMNS, dst_rows, read_csv


def reference(path: Path, profile: Profile) -> tuple[list[dict[str, Any]], list[Reject]]:
    records: list[dict[str, Any]] = []
    rejects: list[Reject] = []
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding=profile.encoding, errors="surrogateescape", newline="")
        reader = csv.reader(text, delimiter=profile.delimiter)
        parser = RowParser(profile, next(reader), mapper=nature_mapper(crosswalk=profile.crosswalk))
        for item in legacy_rows(reader, parser, file=str(path), name=path.name, line_base=0, on_row=lambda: None):
            (rejects if isinstance(item, Reject) else records).append(item)
    return records, rejects


def columnwise(path: Path, profile: Profile, block_bytes: int) -> tuple[list[dict[str, Any]], list[Reject], int]:
    rejects: list[Reject] = []
    summary = FileSummary(str(path))
    reader = FileReader(path, profile, nature_mapper(crosswalk=profile.crosswalk), summary, rejects.append,
                        lambda done, rows: None, 7, block_bytes)
    records = [row for chunk in reader.chunks() for row in chunk.to_pylist()]
    return records, rejects, summary.read


def same_answers(path: Path, profile: Profile, *, block_bytes: int = 4096) -> tuple[int, int]:
    expected, expected_rejects = reference(path, profile)
    found, found_rejects, read = columnwise(path, profile, block_bytes)
    columns = set(found[0]) if found else set()
    assert [{k: r.get(k) for k in columns} for r in expected] == found
    assert expected_rejects == found_rejects
    assert read == len(expected) + len(expected_rejects)
    return len(found), len(found_rejects)


@pytest.fixture
def alexandria() -> Profile:
    return load_profile_by_name("alexandria-decc")


def write(path: Path, header: list[str], rows: list[list[str]], *, newline: str = "\n") -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator=newline).writerows([header, *rows])
    return path


def test_every_week_of_alexandria_reads_the_same(alexandria: Profile) -> None:
    for number in range(35, 42):
        path = ALEXANDRIA / f"week{number}.csv"
        if not path.is_file():
            pytest.skip("the Alexandria exports are not in ../shared/data")
        assert same_answers(path, alexandria, block_bytes=64 * 1024)[0] > 1000


def test_clock_changes_and_odd_values_read_the_same(alexandria: Profile, tmp_path: Path) -> None:
    header, rows = read_csv(ALEXANDRIA / "week37.csv")
    at = {name: header.index(name) for name in [*TIME_COLUMNS, "Problem", "Agency", "Master_Incident_Number",
                                                "Call_Reception", "Priority_Number"]}
    rows = [list(row) for row in rows[:120]]
    edits: list[tuple[str, str]] = [
        ("Incident_Dispatch_Time", "2025-13-45 99:00:00.000"), ("Problem", "X" * 200),
        ("Incident_Start_Time", "NULL"), ("Problem", "  padded\t"), ("Agency", "\x00"),
        ("Master_Incident_Number", ""), ("Master_Incident_Number", "NULL"),
        ("Incident_Start_Time", "2025-02-29 10:00:00"), ("Incident_Start_Time", "2024-02-29 10:00"),
        ("Incident_Start_Time", "2025-09-01T10:00:00.1"), ("Incident_Start_Time", "2025-09-01 10:00:00.1234567"),
        ("Incident_Start_Time", "2025-09-01 10:00:00+02:00"), ("Incident_Start_Time", "10:00"),
        ("Incident_Start_Time", "2025-09-01"), ("Incident_Start_Time", "20250901T100000"),
        ("Incident_Start_Time", "2025-09-01 24:00:00"), ("Incident_Arrival_Time", "-9999"),
        ("Call_Reception", "E-911"), ("Call_Reception", "  Phone "), ("Problem", "ÉTAT d’urgence"),
        ("Problem", "SUICIDAL PERSON W/ KNIFE"), ("Problem", 'say "hi", then, go'), ("Problem", "two\nlines"),
        ("Priority_Number", "123456789"), ("Incident_Start_Time", "0001-01-01 00:00:00"),
        ("Incident_Start_Time", " 2025-09-01 10:00:00 "), ("Master_Incident_Number", " 25-1 "),
    ]
    for (column, value), row in zip(edits, rows[1:], strict=False):
        row[at[column]] = value
    dst_header, dst = dst_rows()
    assert dst_header == header
    rows += [list(row) for row in dst] + [list(rows[5]), list(rows[6])]  # two repeated incidents
    rows[60] = rows[60][:20]  # too few values
    rows[61] = [*rows[61], "extra"]
    path = write(tmp_path / "odd.csv", header, rows)
    data = path.read_bytes().replace(b"\n" + rows[70][0].encode(), b"\n\n" + rows[70][0].encode(), 1)  # blank line
    data = data.replace(rows[71][at["Problem"]].encode(), b"BAD \xff BYTE", 1)
    path.write_bytes(data)
    imported, rejected = same_answers(path, alexandria, block_bytes=2048)
    assert rejected >= 8 and imported > 100
    crlf = write(tmp_path / "crlf.csv", header, rows[:80], newline="\r\n")
    same_answers(crlf, alexandria, block_bytes=3000)
    for choice in ("earlier", "later"):
        same_answers(path, dataclasses.replace(alexandria, ambiguous_times=choice), block_bytes=5000)  # type: ignore[arg-type]
    same_answers(path, dataclasses.replace(alexandria, nonexistent_times="shift"))


def test_irregular_quoting_is_read_row_by_row_from_where_it_starts(alexandria: Profile, tmp_path: Path) -> None:
    header, rows = read_csv(ALEXANDRIA / "week38.csv")
    path = write(tmp_path / "quotes.csv", header, rows[:200])
    problem = rows[150][header.index("Problem")].encode()
    data = path.read_bytes()
    data = data.replace(problem, b'AB"C' + problem, 1)  # a quote inside an unquoted value: csv keeps it
    lone = data.replace(rows[20][header.index("Problem")].encode(), b"LONE\rRETURN", 1)
    path.write_bytes(data)
    same_answers(path, alexandria, block_bytes=4096)
    lone_path = tmp_path / "lone.csv"
    lone_path.write_bytes(lone)
    same_answers(lone_path, alexandria, block_bytes=4096)
    cp1252 = dataclasses.replace(alexandria, encoding="cp1252")
    same_answers(path, cp1252)


def test_eugene_and_sacramento_read_the_same(tmp_path: Path) -> None:
    eugene = load_profile_by_name("eugene-cad")
    sample = CFS / "eugene_or" / "sample_CAD_2014_data.csv"
    header, rows = read_csv(sample)
    at = header.index("calltime")
    dated = []
    for i, row in enumerate(rows * 6):
        row = list(row)
        minutes, seconds = row[at].split(".")[0].split(":")
        row[at] = [f"2014-01-01 00:{minutes}:{seconds}.000", f"01/0{1 + i % 9}/2014 00:{minutes}:{seconds}",
                   "11/02/2014 01:30", "03/09/2014 02:30:00", row[at]][i % 5]
        row[header.index("secs_to_disp")] = ["219", "1e2", "nan", "", "NULL", "3.5"][i % 6]
        row[0] = f"{row[0]}-{i}"
        dated.append(row)
    same_answers(write(tmp_path / "eugene.csv", header, dated), eugene, block_bytes=512)
    same_answers(sample, eugene)
    header, rows = read_csv(CFS / "sacramento" / "january_2019_dispatch.csv")
    same_answers(write(tmp_path / "sac.csv", header, rows[:400]), load_profile_by_name("sacramento-opendata"),
                 block_bytes=8192)


def test_the_column_wise_trim_removes_what_str_strip_removes() -> None:
    assert set(WHITESPACE) == {c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()}


def test_check_counts_every_row_once(alexandria: Profile, tmp_path: Path) -> None:
    header, rows = read_csv(ALEXANDRIA / "week39.csv")
    rows[3][header.index("Incident_Start_Time")] = "garbage"
    path = write(tmp_path / "w.csv", header, rows)
    summary = check_files(profile=alexandria, paths=[path])
    assert (summary.total("read"), summary.total("rejected")) == (len(rows), 1)
