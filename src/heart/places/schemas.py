"""Places API shapes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from heart.inputs import Input


class PlaceLookup(Input):
    text: str = Field(min_length=1, max_length=256, description="an address as typed")
    limit: int = Field(default=5, ge=1, le=20)


class PlaceMatch(BaseModel):
    address: str
    lat: float
    lon: float
    beat: str | None
    confidence: float = Field(description="0–1: how sure the match is")
    source: str = Field(description="city: the city's address points; service: the outside geocoder")


class CallerPublic(BaseModel):
    """The caller as the reader may see them (a withheld field is null and named in ``withheld``)."""

    name: str | None
    callback: str | None
    withheld: list[str]


class PlaceHistoryPublic(BaseModel):
    count: int
    last_at: datetime | None
    types: dict[str, int]


class LocationNotePublic(BaseModel):
    id: int
    kind: str
    label: str
    question: str | None = Field(description="the screening question it is shown beside: a reason to ask again")
    text: str
    observed_on: date
    author: str
    created_at: datetime
    expires_at: datetime


class DuplicatePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    call_id: int
    other_call_id: int
    meters: float
    minutes: float
    flagged_at: datetime
    decision: str | None
    decided_at: datetime | None
    decided_by_id: int | None


class CallPlacePublic(BaseModel):
    lat: float | None
    lon: float | None
    beat: str | None
    history: PlaceHistoryPublic | None
    notes: list[LocationNotePublic]
    duplicates: list[DuplicatePublic]


class LocationNoteCreate(Input):
    kind: str = Field(min_length=1, max_length=32, description="a kind of the city's places.yaml")
    text: str = Field(min_length=1, max_length=1000)
    observed_on: date
    days: int | None = Field(default=None, ge=1, le=3650, description="how long it holds (the city's default)")


class DuplicateDecision(Input):
    decision: Literal["linked", "kept_apart"]


class AccessReadPublic(BaseModel):
    """One line of an access log: who read the record, when and why (never what they saw)."""

    model_config = ConfigDict(from_attributes=True)

    at: datetime
    reader_id: int
    purpose: str
    call_id: int | None
