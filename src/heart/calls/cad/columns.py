"""A CAD export read a block at a time and converted a column at a time, with the row-by-row reader's answers.

A file is cut into blocks of whole rows (about ``BLOCK_BYTES`` each). NumPy finds each row's bytes, its line
number and its number of values; Arrow's CSV reader reads the profile's columns of the well-formed rows; each
column is then converted at once: text trimmed, checked and mapped; local times parsed and moved to UTC by the
offset of their local hour; seconds, dates and call types read once per distinct value (the crosswalk mapper,
with its danger-word guard, is asked once per distinct nature code). A row this cannot settle — a wrong number of
values, a NUL, bytes that are not UTF-8, a time that is not plain ISO or falls in a clock-change hour, a value too
long, a missing required field, no incident number — is read by ``RowParser`` exactly as the row-by-row reader
reads it, so its record or its reject (file, line, column, value, reason) is the same.

A block whose quoting Python's csv module might read differently from Arrow (a quote inside an unquoted value, a
lone carriage return) and a file in an encoding other than UTF-8 are read from there on by the row-by-row reader
(``legacy_rows``), which is the reference the column-wise reader agrees with.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from queue import Full, Queue
from typing import Any, BinaryIO, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pacsv

from heart.calls.cad.parse import (
    _IRREGULAR,
    MissingColumns,
    Reject,
    RowError,
    RowParser,
    _date,
    _seconds,
    _timestamp,
    shown,
)
from heart.calls.cad.profiles import ISO, Profile
from heart.crosswalk.mapper import NatureCodeMapper

T = TypeVar("T")
BLOCK_BYTES = 16 * 1024 * 1024
EPOCH = datetime(1970, 1, 1)
US_PER_HOUR = 3_600_000_000
_ISO_SHAPE = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$"  # a subset of what fromisoformat reads
_UTF8 = {"utf_8", "utf_8_sig"}


WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
              "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
"""Every character ``str.strip()`` removes (so Arrow trims exactly what the row-by-row reader trims)."""


def output_schema(profile: Profile, *, mapped: bool) -> pa.Schema:
    """The columns of a chunk of records: what ``cad_records`` stores of this profile's rows."""
    fields = [pa.field("profile", pa.string()), pa.field("source_file", pa.string()),
              pa.field("source_line", pa.int64()), pa.field("row_key", pa.string())]
    fields += [pa.field(spec.name, pa.string()) for spec in profile.text_fields]
    if mapped:
        fields += [pa.field("incident_type", pa.string()), pa.field("category", pa.string())]
    fields += [pa.field(spec.name, pa.timestamp("us")) for spec in profile.time_fields]
    fields += [pa.field(spec.name, pa.string()) for spec in profile.date_fields]
    return pa.schema(fields)


def records_table(records: Sequence[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """Records of the row-by-row reader (times naive UTC) as a table of ``schema``."""
    return pa.table({f.name: pa.array([r.get(f.name) for r in records], f.type) for f in schema}, schema=schema)


@dataclass
class Block:
    """What one block of rows became: records in file order, rejects, and how far it reached."""

    table: pa.Table  # good rows, in file order, with their position among the block's rows ("_at")
    rejects: list[tuple[int, Reject]]  # (position among the block's rows, reject)
    rows: int  # rows read (blank lines are not rows)
    end_offset: int  # the file offset just after the block


class Legacy(Exception):
    """The rest of the file must be read by the row-by-row reader, from ``offset`` (line ``line`` next)."""

    def __init__(self, offset: int, line: int) -> None:
        super().__init__(offset, line)
        self.offset, self.line = offset, line


def is_utf8(profile: Profile) -> bool:
    return codecs.lookup(profile.encoding).name.replace("-", "_") in _UTF8


class BlockReader:
    """Reads the rows of one UTF-8 file after its header, block by block (see the module docstring)."""

    def __init__(self, raw: BinaryIO, parser: RowParser, *, file: str, name: str, offset: int, line: int,
                 schema: pa.Schema, block_bytes: int = BLOCK_BYTES) -> None:
        self.raw, self.parser, self.file, self.name = raw, parser, file, name
        self.profile = parser.profile
        self.offset, self.line = offset, line  # of the next block's first byte
        self.schema, self.block_bytes = schema, block_bytes
        self.delimiter = ord(self.profile.delimiter) if len(self.profile.delimiter.encode()) == 1 else -1
        self.names = [f"c{i}" for i in range(parser.width)]
        self._hours: dict[int, int] = {}  # local hour (since 1970) -> UTC offset in µs, or -1: a clock change

    def blocks(self) -> Iterator[Block]:
        """Blocks in file order; raises Legacy where the row-by-row reader must take over."""
        if self.delimiter < 0 or self.delimiter in (10, 13, 34):
            raise Legacy(self.offset, self.line)
        carry = b""
        while True:
            more = self.raw.read(self.block_bytes)
            data = carry + more if carry else more
            if not more:
                if data:
                    yield self._block(data)
                return
            cut = _last_row_end(data)
            if cut <= 0:  # one row longer than a block (or an open quote): read on
                carry = data
                continue
            carry = data[cut:]
            yield self._block(data[:cut])

    def _block(self, data: bytes) -> Block:
        start_offset, start_line = self.offset, self.line
        spans = _spans(data, self.delimiter)
        if spans is None:
            raise Legacy(start_offset, start_line)
        starts, ends, newlines, quotes = spans
        lines = start_line + np.searchsorted(newlines, starts)
        self.offset += len(data)
        self.line += len(newlines)
        keep = ends > starts  # blank lines are not rows
        starts, ends, lines = starts[keep], ends[keep], lines[keep]
        count = len(starts)
        exact = _rows_with(data, starts, 0)  # NUL
        exact |= _rows_not_utf8(data, starts, ends)
        table = self._read(data, starts, ends, exact)
        if table is None:  # a row with too many or too few values, probably: find them, and read the others
            exact |= _widths(data, self.delimiter, starts, ends, quotes) != self.parser.width
            table = self._read(data, starts, ends, exact)
        if table is None:
            raise Legacy(start_offset, start_line)
        converted, bad = self._convert(table, lines[~exact])
        slow = np.flatnonzero(exact)
        if bad.any():
            slow = np.union1d(slow, np.flatnonzero(~exact)[bad])
        good_at = np.setdiff1d(np.arange(count), slow, assume_unique=True)
        parts = [converted.filter(pa.array(~bad)).append_column("_at", pa.array(good_at, pa.int64()))]
        rejects: list[tuple[int, Reject]] = []
        if len(slow):
            records, positions = [], []
            for at in slow.tolist():
                record = self._exact(data[starts[at]:ends[at]], int(lines[at]), at, rejects)
                if record is not None:
                    records.append(record)
                    positions.append(at)
            if records:
                parts.append(records_table(records, self.schema).append_column("_at", pa.array(positions, pa.int64())))
        whole = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
        if len(parts) > 1:
            whole = whole.take(pc.sort_indices(whole["_at"]))
        return Block(whole, rejects, count, self.offset)

    def _read(self, data: bytes, starts: np.ndarray, ends: np.ndarray, exact: np.ndarray) -> pa.Table | None:
        """The profile's columns of the rows not marked exact, as strings; None if Arrow reads them otherwise."""
        if exact.any():
            keep = np.flatnonzero(~exact)
            view = memoryview(data)
            data = b"\n".join(view[s:e] for s, e in zip(starts[keep].tolist(), ends[keep].tolist(), strict=True))
            wanted = len(keep)
        else:
            wanted = len(starts)
        columns = self.parser.needed_columns
        if wanted == 0:
            return pa.table({f"c{i}": pa.array([], pa.string()) for i in columns})
        quoted = b'"' in data
        try:
            table = pacsv.read_csv(
                io.BytesIO(data),
                read_options=pacsv.ReadOptions(column_names=self.names, use_threads=True),
                parse_options=pacsv.ParseOptions(delimiter=self.profile.delimiter, quote_char='"', double_quote=True,
                                                 escape_char=False, newlines_in_values=quoted,
                                                 ignore_empty_lines=True),
                convert_options=pacsv.ConvertOptions(include_columns=[f"c{i}" for i in columns],
                                                     column_types={f"c{i}": pa.string() for i in columns},
                                                     strings_can_be_null=False, quoted_strings_can_be_null=False),
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None
        return table if table.num_rows == wanted else None

    def _exact(self, raw: bytes, line: int, at: int, rejects: list[tuple[int, Reject]]) -> dict[str, Any] | None:
        """One row read as the row-by-row reader reads it: its record, or None with its reject appended."""
        text = raw.decode("utf-8", "surrogateescape")
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=self.profile.delimiter))
        except csv.Error as error:
            rejects.append((at, Reject(self.file, line, "", "", f"unreadable CSV ({error})")))
            return None
        row = rows[0] if len(rows) == 1 else [value for part in rows for value in part]
        try:
            record = self.parser.parse(row)
        except RowError as error:
            rejects.append((at, Reject(self.file, line, error.column, shown(printable(error.value)), error.reason)))
            return None
        record["profile"], record["source_file"], record["source_line"] = self.profile.name, self.name, line
        return record

    # --- column-wise conversion ------------------------------------------------------------------------------
    def _convert(self, table: pa.Table, lines: np.ndarray) -> tuple[pa.Table, np.ndarray]:
        """The block's records column by column, and which rows must be read exactly instead."""
        parser, profile = self.parser, self.profile
        count = table.num_rows
        bad = np.zeros(count, dtype=bool)
        missing = pa.array(sorted(parser.missing), pa.string())
        trimmed: dict[int, pa.Array] = {}

        def column(position: int) -> pa.Array:
            if position not in trimmed:
                trimmed[position] = pc.utf8_trim(table[f"c{position}"].combine_chunks(), characters=WHITESPACE)
            return trimmed[position]

        out: dict[str, Any] = {
            "profile": pa.repeat(pa.scalar(profile.name), count).cast(pa.string()),
            "source_file": pa.repeat(pa.scalar(self.name), count).cast(pa.string()),
            "source_line": pa.array(lines, pa.int64()),
        }
        # row key: the key columns as they are (trimmed); a row without them is keyed by its whole content
        parts = [column(position) for _, position in parser.key_columns]
        if not parts:
            bad[:] = True
            out["row_key"] = pa.nulls(count, pa.string())
        else:
            for part in parts:
                bad |= _mask(pc.is_in(part, value_set=missing))
            out["row_key"] = pa.array(_hashes(profile.name, [p.to_pylist() for p in parts], bad), pa.string())
        for spec, position in parser.texts:
            if position < 0:
                out[spec.name] = pa.repeat(pa.scalar(spec.value, pa.string()), count)
                continue
            values = column(position)
            absent = _mask(pc.is_in(values, value_set=missing))
            if spec.upper:
                bad |= ~absent & ~_mask(pc.string_is_ascii(values))
                values = pc.ascii_upper(values)
            if spec.mapping:
                values = _per_distinct(values, partial(_mapped, spec.mapping), pa.string())
            bad |= ~absent & (pc.utf8_length(values).to_numpy(zero_copy_only=False) > spec.max_length)
            out[spec.name] = pc.if_else(pa.array(absent), pa.nulls(count, pa.string()), values)
        if parser.mapper is not None:
            codes = out.get("nature_code", pa.nulls(count, pa.string()))
            mapper = parser.mapper
            out["incident_type"] = _per_distinct(codes, lambda code: mapper(code).incident_type, pa.string())
            out["category"] = _per_distinct(codes, lambda code: mapper(code).category, pa.string())
        times: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # name -> (microseconds UTC, present)
        for time_spec, position in parser.times:
            values = column(position)
            absent = _mask(pc.is_in(values, value_set=missing))
            if time_spec.seconds_after:
                earlier = times.get(time_spec.seconds_after)  # a later milestone is not known yet: empty, as before
                if earlier is None:
                    times[time_spec.name] = (np.zeros(count, np.int64), np.zeros(count, bool))
                    continue
                start, started = earlier
                delta, failed = _per_distinct_numbers(values, absent, partial(_seconds, column=time_spec.column))
                present = started & ~absent
                bad |= present & failed
                times[time_spec.name] = (start + delta, present & ~failed)
                continue
            local, failed = self._local_times(values, absent, time_spec.formats, time_spec.column)
            offsets, irregular = self._offsets(local, ~absent & ~failed)
            bad |= ~absent & (failed | irregular)
            times[time_spec.name] = (local - offsets, ~absent & ~failed & ~irregular)
        for time_spec, _ in parser.times:
            micros, present = times[time_spec.name]
            bad |= present & ((micros < _MIN_US) | (micros > _MAX_US))
            out[time_spec.name] = pa.array(np.where(present, micros, 0), pa.int64(),
                                           mask=~present).cast(pa.timestamp("us"))
        for date_spec, position in parser.dates:
            values = column(position)
            absent = _mask(pc.is_in(values, value_set=missing))
            dated, failed = _per_distinct_texts(values, absent, partial(_date, formats=date_spec.formats,
                                                                        column=date_spec.column))
            bad |= failed
            out[date_spec.name] = dated
        for name in parser.required:
            if name in out:
                bad |= _mask(pc.is_null(out[name]))
        return pa.table(out, schema=self.schema), bad

    def _local_times(self, values: pa.Array, absent: np.ndarray, formats: tuple[str, ...],
                     column: str) -> tuple[np.ndarray, np.ndarray]:
        """Local times as microseconds since 1970 (naive), and which could not be read."""
        count = len(values)
        local = np.zeros(count, np.int64)
        done = absent.copy()
        if formats and formats[0] == ISO:
            shaped = _mask(pc.match_substring_regex(values, _ISO_SHAPE)) & ~absent
            if shaped.any():
                micros, valid = _iso_micros(values, shaped)
                local[valid] = micros[valid]
                done |= valid
        rest = ~done
        failed = np.zeros(count, dtype=bool)
        if rest.any():
            micros, failed = _per_distinct_numbers(values, ~rest, partial(_local_micros, formats=formats,
                                                                          column=column))
            local[rest] = micros[rest]
        return local, failed

    def _offsets(self, local: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each local time's UTC offset (µs) by its local hour, and which fall in an hour with a clock change."""
        hours = np.where(present, local // US_PER_HOUR, 0)
        distinct, inverse = np.unique(hours, return_inverse=True)
        offsets = np.zeros(len(distinct), np.int64)
        irregular = np.zeros(len(distinct), bool)
        known = self._hours
        for i, hour in enumerate(distinct.tolist()):
            found = known.get(hour)
            if found is None:
                offset = self.parser._hour_offset(EPOCH + timedelta(hours=hour))
                found = -1 if offset is _IRREGULAR else offset // timedelta(microseconds=1)
                if len(known) < 200_000:
                    known[hour] = found
            if found == -1:
                irregular[i] = True
            else:
                offsets[i] = found
        return offsets[inverse], irregular[inverse] & present


_MIN_US = (datetime(2, 1, 1) - EPOCH) // timedelta(microseconds=1)
_MAX_US = (datetime(9998, 12, 31) - EPOCH) // timedelta(microseconds=1)


def _local_micros(text: str, *, formats: tuple[str, ...], column: str) -> int:
    return (_timestamp(text, formats, column) - EPOCH) // timedelta(microseconds=1)


def _mapped(mapping: Mapping[str, str], text: str) -> str:
    return mapping.get(text, text)


def _mask(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean Arrow array as NumPy, null counted as False."""
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=bool)


def _per_distinct(values: pa.Array, convert: Callable[[Any], Any], kind: pa.DataType) -> pa.Array:
    """``convert`` applied once per distinct value (null included)."""
    encoded = pc.dictionary_encode(values, null_encoding="encode")
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    converted = pa.array([convert(value) for value in encoded.dictionary.to_pylist()], kind)
    return converted.take(encoded.indices)


def _per_distinct_numbers(values: pa.Array, skip: np.ndarray,
                          convert: Callable[[str], Any]) -> tuple[np.ndarray, np.ndarray]:
    """An integer (µs) per value from ``convert`` (a timedelta or int), once per distinct value; and which failed.

    Values where ``skip`` is set are not converted (0, not failed).
    """
    kept = pc.if_else(pa.array(skip), pa.scalar(None, pa.string()), values)
    encoded = pc.dictionary_encode(kept)
    results = np.zeros(len(encoded.dictionary) + 1, np.int64)
    failures = np.zeros(len(encoded.dictionary) + 1, bool)
    for i, text in enumerate(encoded.dictionary.to_pylist()):
        try:
            value = convert(text)
        except RowError:
            failures[i] = True
            continue
        results[i] = value // timedelta(microseconds=1) if isinstance(value, timedelta) else value
    indices = pc.fill_null(encoded.indices, len(encoded.dictionary)).to_numpy(zero_copy_only=False)
    return results[indices], failures[indices]


def _per_distinct_texts(values: pa.Array, skip: np.ndarray,
                        convert: Callable[[str], str]) -> tuple[pa.Array, np.ndarray]:
    """A text per value from ``convert``, once per distinct value (null where skipped or failed); which failed."""
    kept = pc.if_else(pa.array(skip), pa.scalar(None, pa.string()), values)
    encoded = pc.dictionary_encode(kept)
    converted: list[str | None] = []
    failures = np.zeros(len(encoded.dictionary) + 1, bool)
    for i, text in enumerate(encoded.dictionary.to_pylist()):
        try:
            converted.append(convert(text))
        except RowError:
            converted.append(None)
            failures[i] = True
    converted.append(None)
    indices = pc.fill_null(encoded.indices, len(encoded.dictionary))
    return pa.array(converted, pa.string()).take(indices), failures[indices.to_numpy(zero_copy_only=False)]


_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], np.int64)


def _iso_micros(values: pa.Array, shaped: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """'YYYY-MM-DD[T ]HH:MM[:SS[.f…]]' as microseconds since 1970, and which are real dates and times."""
    safe = pc.if_else(pa.array(shaped), values, pa.scalar("1970-01-01 00:00:00", pa.string()))
    if isinstance(safe, pa.ChunkedArray):
        safe = safe.combine_chunks()
    # the digits are at fixed places (the shape says so): read them straight from Arrow's buffers
    offsets = np.frombuffer(safe.buffers()[1], np.int32)[safe.offset: safe.offset + len(safe) + 1]
    data = np.frombuffer(safe.buffers()[2], np.uint8)
    starts = offsets[:-1].astype(np.int64)
    length = offsets[1:] - starts
    last = len(data) - 1

    def digit(at: int) -> np.ndarray:
        return data[np.minimum(starts + at, last)].astype(np.int64) - 48

    def number(at: int, width: int) -> np.ndarray:
        value = np.zeros(len(starts), np.int64)
        for place in range(at, at + width):
            value = value * 10 + digit(place)
        return value

    year, month, day = number(0, 4), number(5, 2), number(8, 2)
    hour, minute = number(11, 2), number(14, 2)
    second = np.where(length >= 19, number(17, 2), 0)
    micro = np.zeros(len(starts), np.int64)
    for place in range(20, 26):  # the fraction of a second, 1 to 6 digits
        micro = micro * 10 + np.where(length > place, digit(place), 0)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    days_in = _DAYS_IN_MONTH[np.where(month_ok, month, 1)] + ((month == 2) & leap)
    valid = shaped & (year >= 1) & month_ok & (day >= 1) & (day <= days_in) & (hour <= 23) & (minute <= 59) & (
        second <= 59)
    # days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil)
    y = year - (month <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (month + 9) % 12
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    micros = ((days * 24 + hour) * 60 + minute) * 60_000_000 + second * 1_000_000 + micro
    return micros, valid


def _hashes(profile: str, parts: list[list[str]], skip: np.ndarray) -> list[str | None]:
    """``row_key`` of each row from its key columns (None where ``skip``: those rows are keyed row by row),
    as ``parse.row_key`` makes it."""
    blake2b = hashlib.blake2b
    prefix = profile + "\x1f"
    skipped = skip.tolist()
    if len(parts) == 1:
        return [None if s else blake2b((prefix + p).encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()
                for p, s in zip(parts[0], skipped, strict=True)]
    joined = ["\x1f".join(values) for values in zip(*parts, strict=True)]
    return [None if s else blake2b((prefix + p).encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()
            for p, s in zip(joined, skipped, strict=True)]


# --- finding rows in bytes ------------------------------------------------------------------------------------
def _last_row_end(data: bytes) -> int:
    """The offset just after the last line break that ends a row (outside quotes), or 0 if there is none."""
    b = np.frombuffer(data, np.uint8)
    breaks = np.flatnonzero(b == 10)
    if not len(breaks):
        return 0
    if b'"' in data:
        quotes = np.flatnonzero(b == 34)
        breaks = breaks[(np.searchsorted(quotes, breaks) & 1) == 0]
        if not len(breaks):
            return 0
    return int(breaks[-1]) + 1


def _spans(data: bytes, delimiter: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None] | None:
    """Each row's start and end (before its line break); every line break; the quotes (None if there are none).

    None if irregular: Python's csv module might cut or split the rows otherwise than Arrow (a lone carriage
    return, or a quote that does not open or close a value).
    """
    b = np.frombuffer(data, np.uint8)
    newlines = np.flatnonzero(b == 10)
    if b"\r" in data:
        returns = np.flatnonzero(b == 13)
        after = returns + 1
        if (after >= len(b)).any() or (b[after[after < len(b)]] != 10).any():
            return None
    breaks = newlines
    quotes = None
    if b'"' in data:
        quotes = np.flatnonzero(b == 34)
        if not _standard_quotes(b, quotes, delimiter):
            return None
        breaks = newlines[(np.searchsorted(quotes, newlines) & 1) == 0]
    ends = breaks
    if not len(b) or b[-1] != 10:
        ends = np.append(ends, len(b))
    starts = np.concatenate(([0], breaks + 1))[: len(ends)]
    content_ends = ends.copy()
    crlf = (content_ends > starts) & (b[np.maximum(content_ends - 1, 0)] == 13)
    content_ends[crlf] -= 1
    return starts, content_ends, newlines, quotes


def _widths(data: bytes, delimiter: int, starts: np.ndarray, ends: np.ndarray, quotes: np.ndarray | None) -> np.ndarray:
    """How many values each row has (delimiters outside quotes, plus one)."""
    delimiters = np.flatnonzero(np.frombuffer(data, np.uint8) == delimiter)
    if quotes is not None:
        delimiters = delimiters[(np.searchsorted(quotes, delimiters) & 1) == 0]
    return np.asarray(np.searchsorted(delimiters, ends) - np.searchsorted(delimiters, starts) + 1)


def _standard_quotes(b: np.ndarray, quotes: np.ndarray, delimiter: int) -> bool:
    """Every quote opens a value, closes one, or is one of a doubled pair inside a quoted value."""
    count = len(quotes)
    if count % 2:
        return False  # an open quote at the end of the block
    index = np.arange(count)
    opening = (index & 1) == 0
    before = np.where(quotes > 0, b[np.maximum(quotes - 1, 0)], 10)
    follows_closing = np.zeros(count, bool)
    follows_closing[1:] = quotes[1:] == quotes[:-1] + 1
    at_start = (before == delimiter) | (before == 10)
    if not (at_start | follows_closing)[opening].all():
        return False
    nxt = np.where(quotes + 1 < len(b), b[np.minimum(quotes + 1, len(b) - 1)], 10)
    doubled = np.zeros(count, bool)
    doubled[:-1] = quotes[:-1] + 1 == quotes[1:]
    at_end = (nxt == delimiter) | (nxt == 10) | (nxt == 13)
    return bool((at_end | doubled)[~opening].all())


def _rows_with(data: bytes, starts: np.ndarray, byte: int) -> np.ndarray:
    """Rows holding ``byte``."""
    found = np.zeros(len(starts), bool)
    if bytes([byte]) in data:
        positions = np.flatnonzero(np.frombuffer(data, np.uint8) == byte)
        found[np.searchsorted(starts, positions, side="right") - 1] = True
    return found


def _rows_not_utf8(data: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Rows holding bytes that are not UTF-8 text."""
    found = np.zeros(len(starts), bool)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        b = np.frombuffer(data, np.uint8)
        high = np.unique(np.searchsorted(starts, np.flatnonzero(b >= 128), side="right") - 1)
        for at in high.tolist():
            try:
                data[starts[at]:ends[at]].decode("utf-8")
            except UnicodeDecodeError:
                found[at] = True
    return found


# --- reading ahead ----------------------------------------------------------------------------------------------
_DONE = object()


def prefetched(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """The items of ``items``, the next ``depth`` made meanwhile in a thread of their own (Arrow and NumPy let go
    of the interpreter while they work, so reading the next block overlaps writing this one). An exception of
    ``items`` is raised here, after the items before it."""
    queue: Queue[tuple[Any, BaseException | None]] = Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any, error: BaseException | None = None) -> bool:
        while not stop.is_set():
            try:
                queue.put((item, error), timeout=0.1)
                return True
            except Full:
                continue
        return False

    def run() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as error:  # handed to the reader, who decides
            put(_DONE, error)
            return
        put(_DONE)

    thread = threading.Thread(target=run, name="cad-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = queue.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        thread.join()


# --- the row-by-row reader -------------------------------------------------------------------------------------
def printable(value: str) -> str:
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace").replace("\x00", "\\0")


def legacy_rows(reader: Any, parser: RowParser, *, file: str, name: str, line_base: int,
                on_row: Callable[[], None]) -> Iterator[dict[str, Any] | Reject]:
    """Rows of a csv.reader read one by one (records, or rejects), lines counted from ``line_base``.

    ``on_row`` is called for each row read (not for blank lines).
    """
    last_line = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:  # e.g. an open quote at the end; the reader resumes on the next line
            on_row()
            yield Reject(file, line_base + last_line + 1, "", "", f"unreadable CSV ({error})")
            if reader.line_num == last_line:
                break
            last_line = reader.line_num
            continue
        line, last_line = line_base + last_line + 1, reader.line_num
        if not row:  # a blank line
            continue
        on_row()
        try:
            record = parser.parse(row)
        except RowError as error:
            yield Reject(file, line, error.column, shown(printable(error.value)), error.reason)
            continue
        record["profile"], record["source_file"], record["source_line"] = parser.profile.name, name, line
        yield record


class EmptyFile(Exception):
    """The file has no header line."""


def read_header(raw: BinaryIO, profile: Profile, mapper: NatureCodeMapper | None) -> tuple[RowParser, int, int]:
    """The parser for a UTF-8 file's header, and the file offset and line number just after it.

    Raises EmptyFile, MissingColumns or csv.Error as the row-by-row reader would, and Legacy(0, 0) when the
    header line is one the column-wise reader should not cut (a lone carriage return, or no line break in 1 MB).
    """
    data = b""
    while True:
        more = raw.read(64 * 1024)
        data += more
        end = _first_row_end(data)
        if end or not more:
            break
        if len(data) > 1024 * 1024:
            raise Legacy(0, 0)
    if not data:
        raise EmptyFile
    head = data[: end or len(data)]
    if b"\r" in head.replace(b"\r\n", b""):
        raise Legacy(0, 0)
    text = head.decode(profile.encoding, "surrogateescape")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=profile.delimiter))
    if len(rows) != 1:
        raise Legacy(0, 0)
    parser = RowParser(profile, rows[0], mapper=mapper)
    raw.seek(len(head))
    return parser, len(head), 1 + head.count(b"\n")


def _first_row_end(data: bytes) -> int:
    """The offset just after the first line break outside quotes, or 0 if none yet."""
    if b'"' not in data:
        at = data.find(b"\n")
        return at + 1 if at >= 0 else 0
    b = np.frombuffer(data, np.uint8)
    breaks = np.flatnonzero(b == 10)
    quotes = np.flatnonzero(b == 34)
    breaks = breaks[(np.searchsorted(quotes, breaks) & 1) == 0]
    return int(breaks[0]) + 1 if len(breaks) else 0


__all__ = ["BLOCK_BYTES", "Block", "BlockReader", "EmptyFile", "Legacy", "MissingColumns", "is_utf8", "legacy_rows",
           "output_schema", "prefetched", "printable", "read_header", "records_table"]
