"""Turn one row of a CAD export into a `cad_records` row, or say exactly why it cannot be used.

Times are local to the profile's time zone and stored in UTC. Clock changes:
- a local time in the repeated autumn hour is ambiguous. With ``ambiguous_times: infer`` it is read as the
  first (daylight-time) occurrence unless that would put it before an earlier milestone of the same row
  (received → dispatched → en route → on scene → cleared), in which case it is the second occurrence;
  ``earlier`` / ``later`` always pick the first / second;
- a local time inside the skipped spring hour does not exist: the row is rejected with that reason
  (``nonexistent_times: reject``) or the time is moved forward by the gap (``shift``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from heart.calls.cad.profiles import ISO, Profile
from heart.crosswalk.mapper import NatureCodeMapper

MAX_VALUE_SHOWN = 40  # a rejected value is shown cut to this length


@dataclass(frozen=True, slots=True)
class Reject:
    """A row HEART did not import: where it is, which column, the value, and why."""

    file: str
    line: int
    column: str
    value: str
    reason: str

    def as_row(self) -> list[str]:
        return [self.file, str(self.line), self.column, self.value, self.reason]


REJECT_COLUMNS = ("file", "line", "column", "value", "reason")


class RowError(ValueError):
    """Why one value cannot be used (turned into a Reject with the file and line)."""

    def __init__(self, column: str, value: str, reason: str) -> None:
        super().__init__(reason)
        self.column, self.value, self.reason = column, value, reason


class MissingColumns(ValueError):
    """The file's header lacks columns the profile reads: probably the wrong profile."""


def row_key(profile: str, parts: Sequence[str]) -> str:
    """A stable 32-hex-digit key for an incident (or a whole row) of one profile."""
    text = "\x1f".join((profile, *parts))
    return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


class RowParser:
    """Parses rows of one file whose header is known; ``parse`` returns a record dict or raises RowError."""

    def __init__(self, profile: Profile, header: Sequence[str], *, mapper: NatureCodeMapper | None) -> None:
        self.profile = profile
        names = [name.strip() for name in header]
        index: dict[str, int] = {}
        for position, name in enumerate(names):
            index.setdefault(name, position)  # a repeated column name: the first one counts
        missing = [column for column in profile.columns() if column not in index]
        if missing:
            raise MissingColumns(
                f"no column {', '.join(map(repr, missing))}; is this a {profile.name} export? "
                f"The file's columns start: {', '.join(names[:8])}"
            )
        self.width = len(names)
        self.index = index
        self._hour_offsets: dict[tuple[int, int, int, int], timedelta] = {}
        self.mapper = mapper
        self.missing = profile.missing | {""}
        self.key_columns = [(column, index[column]) for column in profile.row_key]
        self.texts = [(f, index[f.column] if f.column else -1) for f in profile.text_fields]
        self.times = [(f, index[f.column]) for f in profile.time_fields]
        self.dates = [(f, index[f.column]) for f in profile.date_fields]
        self.required = profile.required
        self.needed_columns = sorted({position for _, position in (*self.key_columns, *self.texts, *self.times,
                                                                   *self.dates) if position >= 0})
        self.column_of: dict[str, str] = {f.name: f.column or "" for f in profile.text_fields}
        self.column_of.update({f.name: f.column for f in profile.time_fields})
        self.column_of.update({f.name: f.column for f in profile.date_fields})

    def parse(self, row: list[str]) -> dict[str, Any]:
        """The record for one row (without batch, file and line), or RowError; times are naive UTC."""
        if len(row) != self.width:
            raise RowError("", "", f"the row has {len(row)} values but the header has {self.width} "
                                      "(a truncated or malformed line?)")
        missing = self.missing
        record: dict[str, Any] = {}
        for spec, position in self.texts:
            if position < 0:
                record[spec.name] = spec.value
                continue
            text = row[position].strip()
            if text in missing:
                record[spec.name] = None
                continue
            if "\x00" in text:  # neither database can keep it; PostgreSQL would refuse the whole chunk
                raise RowError(spec.column or "", text, "holds a NUL character (\\0), which cannot be stored")
            if not text.isascii() and _undecodable(text):
                raise RowError(spec.column or "", text, f"not valid {self.profile.encoding} text")
            if spec.upper:
                text = text.upper()
            text = spec.mapping.get(text, text)
            if len(text) > spec.max_length:
                raise RowError(spec.column or "", text, f"longer than {spec.max_length} characters")
            record[spec.name] = text
        self._times(row, record)
        for date_spec, position in self.dates:
            text = row[position].strip()
            record[date_spec.name] = None if text in missing else _date(text, date_spec.formats, date_spec.column)
        for name in self.required:
            if record.get(name) is None:
                column = self.column_of.get(name, name)
                raise RowError(column, row[self.index[column]] if column else "", f"{name} is missing")
        key_parts = [row[position].strip() for _, position in self.key_columns]
        if key_parts and all(part and part not in missing for part in key_parts):
            record["row_key"] = row_key(self.profile.name, key_parts)
        else:  # no incident number: the whole row is its identity
            record["row_key"] = row_key(self.profile.name, ["row", *row])
        if self.mapper is not None:
            mapping = self.mapper(record.get("nature_code"))
            record["incident_type"], record["category"] = mapping.incident_type, mapping.category
        return record

    def _times(self, row: list[str], record: dict[str, Any]) -> None:
        latest: datetime | None = None  # the latest milestone so far, to place an ambiguous time
        for spec, position in self.times:
            text = row[position].strip()
            if text in self.missing:
                record[spec.name] = None
                continue
            if spec.seconds_after:
                start = record.get(spec.seconds_after)
                record[spec.name] = None if start is None else start + _seconds(text, spec.column)
                continue
            local = _timestamp(text, spec.formats, spec.column)
            offset = self._hour_offsets.get((local.year, local.month, local.day, local.hour))
            if offset is None:
                offset = self._hour_offset(local)
            if offset is _IRREGULAR:  # a clock change falls in this hour
                after = None if latest is None else latest.replace(tzinfo=UTC)
                value = to_utc(local, self.profile, after=after, column=spec.column, text=text).replace(tzinfo=None)
            else:
                value = local - offset
            record[spec.name] = value
            if latest is None or value > latest:
                latest = value

    def _hour_offset(self, local: datetime) -> timedelta:
        """The zone's UTC offset through this local hour, or _IRREGULAR when it changes within it."""
        zone = self.profile.timezone
        start = local.replace(minute=0, second=0, microsecond=0)
        offsets = {moment.replace(tzinfo=zone, fold=fold).utcoffset()
                   for moment in (start, start + timedelta(minutes=59, seconds=59.999999)) for fold in (0, 1)}
        offset = offsets.pop() if len(offsets) == 1 else None
        found = offset if offset is not None else _IRREGULAR
        if len(self._hour_offsets) < 200_000:
            self._hour_offsets[(local.year, local.month, local.day, local.hour)] = found
        return found


_IRREGULAR = timedelta(days=-999)  # marks an hour with a clock change (no single offset)


def to_utc(local: datetime, profile: Profile, *, after: datetime | None, column: str, text: str) -> datetime:
    """A naive local time of the profile's zone as aware UTC, by the profile's clock-change rules."""
    zone = profile.timezone
    first = local.replace(tzinfo=zone, fold=0)
    second = local.replace(tzinfo=zone, fold=1)
    offset_first, offset_second = first.utcoffset(), second.utcoffset()
    if offset_first == offset_second or offset_first is None or offset_second is None:
        return first.astimezone(UTC)
    if offset_first < offset_second:  # the clocks skipped this time (spring forward)
        if profile.nonexistent_times == "shift":
            return first.astimezone(UTC)  # fold=0 reads it with the old offset: the gap is added
        raise RowError(column, text, f"{local:%Y-%m-%d %H:%M} does not exist in {zone.key} "
                                     "(the clocks skipped that hour)")
    # The hour happened twice (autumn fall back): choose the occurrence.
    if profile.ambiguous_times == "later":
        return second.astimezone(UTC)
    earlier = first.astimezone(UTC)
    if profile.ambiguous_times == "infer" and after is not None and earlier < after:
        later = second.astimezone(UTC)
        if later >= after:
            return later
    return earlier


def _undecodable(text: str) -> bool:
    """True when the text holds bytes the file's encoding could not decode (kept as surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _timestamp(text: str, formats: tuple[str, ...], column: str) -> datetime:
    for pattern in formats:
        try:
            if pattern == ISO:
                if len(text) < 16:  # a date alone is not a time
                    continue
                parsed = datetime.fromisoformat(text)
                if parsed.tzinfo is not None:
                    raise RowError(column, text, "has a UTC offset; the profile's time zone decides local time")
                return parsed
            return datetime.strptime(text, pattern)
        except ValueError as error:
            if isinstance(error, RowError):
                raise
            continue
    if _TIME_ONLY.match(text):
        raise RowError(column, text, f"a time without a date (shortened by a spreadsheet?); {_expected(formats)}")
    raise RowError(column, text, f"not a date and time ({_expected(formats)})")


_TIME_ONLY = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?(\.\d+)?$")


def _date(text: str, formats: tuple[str, ...], column: str) -> str:
    for pattern in formats:
        try:
            if pattern == ISO:
                return date.fromisoformat(text[:10]).isoformat()
            return datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    raise RowError(column, text, f"not a date ({_expected(formats)})")


def _seconds(text: str, column: str) -> timedelta:
    try:
        return timedelta(seconds=float(text))
    except (ValueError, OverflowError):
        raise RowError(column, text, "not a number of seconds") from None


def _expected(formats: tuple[str, ...]) -> str:
    shown = ["YYYY-MM-DD HH:MM:SS[.fff]" if f == ISO else f for f in formats]
    return "expected " + " or ".join(shown)


def shown(value: str) -> str:
    """A value cut to a readable length for a reject line."""
    return value if len(value) <= MAX_VALUE_SHOWN else value[: MAX_VALUE_SHOWN - 1] + "…"
