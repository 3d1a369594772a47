"""Account and login API shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from heart.auth.models import Role
from heart.inputs import Input, RowId


class LoginRequest(Input):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class UserCreate(Input):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=10, max_length=1024)
    role: Role
    display_name: str = ""
    unit_id: RowId | None = None
    staff_id: RowId | None = Field(default=None, description="the staff member this account belongs to, whose "
                                   "shifts a responder may read the calls of")


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: Role
    unit_id: int | None
    staff_id: int | None
    active: bool


class LoginResult(BaseModel):
    user: UserPublic
    csrf_token: str = Field(description="send it back in the X-CSRF-Token header on every write")
    expires_at: datetime
