"""What every input HEART accepts shares: ids that fit the database, and text the database can store.

Every request body is an ``Input``: unknown fields are refused, and a NUL character anywhere in its text
(a field, a list item, a dictionary key) is refused with the field named — PostgreSQL cannot store NUL in
text or JSON, and SQLite would keep a string that other tools cut short. Ids in paths, queries and bodies
are ``RowId``: a number beyond the database's integer range is a 422 naming the field, not an overflow.
``refuse_nul_on_flush`` is the same rule where rows are written, for every path that does not come through
a request body (pages, the command line, imports); ``heart.deps.refuse_nul_in_request`` applies it to paths,
queries and forms.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

import annotated_types
from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy import Boolean, Date, DateTime, Float, Integer, Interval, Numeric, Time, event, inspect
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.types import TypeDecorator, TypeEngine

from heart.errors import InvalidInput

MAX_ROW_ID = 2**31 - 1
"""The largest id a row can have: PostgreSQL's ``integer``, the type of every id column."""

RowId = Annotated[int, annotated_types.Interval(ge=1, le=MAX_ROW_ID)]
"""An id of a stored row (1 to 2,147,483,647)."""

Offset = Annotated[int, annotated_types.Interval(ge=0, le=MAX_ROW_ID)]
"""How many rows of a list to skip."""

NUL_MESSAGE = "must not contain a NUL character (\\u0000)"


def has_nul(value: object) -> bool:
    """True when ``value`` (text, or lists and dictionaries of it, keys included) holds a NUL character."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(key) or has_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(has_nul(item) for item in value)
    return False


class Input(BaseModel):
    """The base of every request body: unknown fields refused, NUL characters refused (naming the field)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*")  # after each field's own validation: a nested Input names its own field
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        if has_nul(value):
            raise ValueError(NUL_MESSAGE)
        return value


def _refuse_nul(session: Session, _context: object, _instances: object) -> None:
    """A new row's values, and a changed row's changed values (what this flush writes), checked for NUL."""
    for instance in session.new:
        state = inspect(instance)
        _check_values(state.dict, _text_columns(state.mapper))
    for instance in session.dirty:
        state = inspect(instance)
        changed = state.committed_state  # the attributes set since the row was loaded or last flushed
        if changed:
            _check_values(state.dict, [key for key in _text_columns(state.mapper) if key in changed])


def _check_values(values: dict[str, Any], keys: Iterable[str]) -> None:
    for key in keys:
        if has_nul(values.get(key)):
            raise InvalidInput(f"{key.replace('_', ' ')} {NUL_MESSAGE}", field=key)


_TEXT_COLUMNS: dict[Mapper[Any], tuple[str, ...]] = {}
_NOT_TEXT = (Integer, Float, Numeric, Boolean, DateTime, Date, Time, Interval)


def _is_not_text(column_type: TypeEngine[Any]) -> bool:
    implementation = column_type.impl if isinstance(column_type, TypeDecorator) else column_type
    return isinstance(implementation, _NOT_TEXT)


def _text_columns(mapper: Mapper[Any]) -> tuple[str, ...]:
    """The attributes of a table that can hold text (every column whose values are not numbers, flags or times)."""
    keys = _TEXT_COLUMNS.get(mapper)
    if keys is None:
        keys = tuple(attribute.key for attribute in mapper.column_attrs
                     if not all(_is_not_text(column.type) for column in attribute.columns))
        _TEXT_COLUMNS[mapper] = keys
    return keys


def refuse_nul_on_flush() -> None:
    """Refuse, at every flush of every session, a row whose text or JSON holds a NUL character."""
    if not event.contains(Session, "before_flush", _refuse_nul):
        event.listen(Session, "before_flush", _refuse_nul)
