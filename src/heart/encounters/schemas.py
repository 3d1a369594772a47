"""Encounter and narrative API shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from heart.inputs import Input


class NarrativeAppend(Input):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=20000)
    client_token: str = Field(min_length=8, max_length=64, description="a random token; a resend is written once")


class NarrativeStrike(Input):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=256)


class NarrativeEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    author_id: int | None
    text: str
    created_at: datetime
    struck_at: datetime | None
    strike_reason: str | None


class EncounterPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    call_id: int
    response_id: int | None
    program_id: int
    needs: list[str]
    services: list[str]
    consent_to_follow_up: bool
    created_at: datetime
    narrative: list[NarrativeEntryPublic] = Field(default_factory=list)
