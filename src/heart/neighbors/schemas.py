"""Neighbor API shapes: the personal fields a record holds, consent, and the access log."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from heart.inputs import Input


def _blank_to_none(value: object) -> object:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


class NeighborDetails(Input):
    """What a person tells HEART about themselves; every field may be left out."""

    first_name: str | None = Field(default=None, max_length=80)
    last_name: str | None = Field(default=None, max_length=80)
    aliases: list[str] = Field(default_factory=list, max_length=10, description="other names they go by")
    date_of_birth: date | None = None
    phone: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=256)
    language: str | None = Field(default=None, max_length=64, description="the language they prefer")
    pronouns: str | None = Field(default=None, max_length=32)
    contact_method: str | None = Field(default=None, max_length=32,
                                       description="how they prefer to be reached (a contact method of the city)")
    contact_times: str | None = Field(default=None, max_length=256, description="when they are best reached")

    @field_validator("first_name", "last_name", "phone", "address", "language", "pronouns", "contact_method",
                     "contact_times", mode="before")
    @classmethod
    def _trim(cls, value: object) -> object:
        return _blank_to_none(value)

    @field_validator("aliases")
    @classmethod
    def _aliases(cls, value: list[str]) -> list[str]:
        trimmed = [alias.strip() for alias in value if alias.strip()]
        if any(len(alias) > 80 for alias in trimmed):
            raise ValueError("an alias is longer than 80 characters")
        return list(dict.fromkeys(trimmed))

    @field_validator("date_of_birth")
    @classmethod
    def _plausible(cls, value: date | None) -> date | None:
        if value is not None and (value.year < 1900 or value > date.today()):
            raise ValueError("is not a plausible date of birth")
        return value

    def given(self) -> list[str]:
        """The names of the fields that hold something (never their values: for events)."""
        return [name for name, value in self.model_dump().items() if value not in (None, [], "")]


class NeighborUpdate(NeighborDetails):
    """A change to a record: fields left out stay as they are; ``clear`` names fields to empty."""

    clear: list[str] = Field(default_factory=list, description="fields to empty")


class ConsentGive(Input):
    purpose: str = Field(min_length=1, max_length=32, description="a consent purpose of the city")
    provider_name: str | None = Field(default=None, max_length=256, description="the provider it allows sharing with")
    provider_organization_id: str | None = Field(default=None, max_length=36,
                                                 description="the provider's HSDS organization id")

    @field_validator("provider_name", "provider_organization_id", mode="before")
    @classmethod
    def _trim(cls, value: object) -> object:
        return _blank_to_none(value)


class ConsentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    purpose: str
    provider_name: str | None
    provider_organization_id: str | None
    encounter_id: int | None
    given_at: datetime
    withdrawn_at: datetime | None


class NeighborPublic(BaseModel):
    """A neighbor's record, for those with a need to see it (each read is logged)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    first_name: str | None
    last_name: str | None
    aliases: list[str]
    date_of_birth: date | None
    phone: str | None
    address: str | None
    language: str | None
    pronouns: str | None
    contact_method: str | None
    contact_times: str | None
    created_at: datetime
    merged_into_id: int | None
    consents: list[ConsentPublic] = Field(default_factory=list)
    call_ids: list[int] = Field(default_factory=list)
    follow_up_ids: list[int] = Field(default_factory=list)


class NeighborReadPublic(BaseModel):
    """One line of the access log: who read the record, when and why (never what they saw)."""

    model_config = ConfigDict(from_attributes=True)

    at: datetime
    reader_id: int
    purpose: str
