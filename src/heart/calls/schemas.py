"""Call API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from heart.calls.models import CallSource, CallStatus, NoteKind
from heart.inputs import Input

Answer = Literal["yes", "no", "unknown"]
Priority = Literal["P", "1", "2", "3", "4"]
QuestionId = str


class CallerCreate(Input):
    """Who called: kept apart from the call, read only by those allowed (every read logged), never in an event."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=120)
    callback: str | None = Field(default=None, max_length=32, description="the number to call back")


class CallCreate(Input):
    """A new call for service, as a call-taker or a CAD sends it."""

    model_config = ConfigDict(extra="forbid")

    external_id: str | None = Field(default=None, min_length=1, max_length=64,
                                    description="the CAD's incident number (leave it out when there is none)")
    source: CallSource = CallSource.E911
    received_at: AwareDatetime | None = Field(default=None, description="defaults to now")
    nature_code: str | None = Field(default=None, max_length=128, description="the call type as the CAD wrote it")
    incident_type: str | None = Field(default=None, max_length=64, description="canonical incident type id")
    priority: Priority | None = None
    address: str | None = Field(default=None, max_length=256)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    beat: str | None = Field(default=None, max_length=32)
    screening: dict[QuestionId, Answer] = Field(default_factory=dict)
    summary: str | None = Field(default=None, max_length=4000)
    caller: CallerCreate | None = Field(default=None, description="the caller's name and callback number")

    @field_validator("external_id")
    @classmethod
    def _named(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("is blank; leave it out when the call has no CAD number")
        return value


class CallFactsUpdate(Input):
    """What a person may correct after intake; a field left out is left as it is."""

    nature_code: str | None = Field(default=None, max_length=128)
    incident_type: str | None = Field(default=None, max_length=64, description="canonical incident type id")
    priority: Priority | None = None

    @field_validator("incident_type")
    @classmethod
    def _known_type(cls, value: str | None) -> str | None:
        from heart.crosswalk.taxonomy import INCIDENT_TYPES

        if value is not None and value not in INCIDENT_TYPES:
            raise ValueError("not a known incident type")
        return value


class TypeSuggestionPublic(BaseModel):
    incident_type: str
    label: str
    confidence: float


class CallTypeReading(BaseModel):
    """How the one resolver reads a call type."""

    incident_type: str | None = Field(description="null: unknown type")
    category: str | None
    source: str
    danger: dict[str, list[str]] = Field(description="kinds of danger the words name, with the words")
    suggestions: list[TypeSuggestionPublic] = Field(description="closest incident types when the type is unknown")


class ScreeningUpdate(Input):
    model_config = ConfigDict(extra="forbid")

    answers: dict[QuestionId, Answer] = Field(min_length=1)


class CallPublic(BaseModel):
    """A call as its authorised viewers see it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    external_id: str | None
    incident_number: str | None = Field(description="the city's own number for the call, in its configured format")
    source: CallSource
    received_at: datetime
    nature_code: str | None
    incident_type: str | None
    category: str | None
    priority: str | None
    address: str | None
    lat: float | None
    lon: float | None
    beat: str | None
    screening: dict[str, str]
    summary: str | None
    status: CallStatus
    pathway: str | None
    closed_at: datetime | None


class EventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_id: int | None
    kind: str
    subject_type: str
    subject_id: int
    before: dict[str, object] | None
    after: dict[str, object] | None


class CallNoteCreate(Input):
    """A note on a call from the board (its length limit is the city's: ``desk.yaml`` notes.max_length)."""

    text: str = Field(min_length=1, max_length=20000)
    client_token: str | None = Field(default=None, min_length=8, max_length=64,
                                     description="the same token again writes nothing more")


class CallMessageCreate(CallNoteCreate):
    """A short message on a call (``desk.yaml`` messages.max_length); dispatch names the unit it is for."""

    unit_id: int | None = Field(default=None, ge=1, description="the unit on the call (dispatch only)")


class CallNotePublic(BaseModel):
    """A note or message as a reader of the call sees it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    call_id: int
    kind: NoteKind
    text: str
    author_id: int | None
    unit_id: int | None
    from_unit: bool
    created_at: datetime
