"""The EIDO route's answer."""

from __future__ import annotations

from pydantic import BaseModel, Field

from heart.calls.schemas import CallPublic


class EidoNotice(BaseModel):
    """A part of an accepted document HEART could not use."""

    pointer: str = Field(description="its place in the document (JSON Pointer)")
    reason: str = Field(description="why, without repeating its value")


class EidoReceipt(BaseModel):
    """What the document did to its incident's call."""

    created: bool
    changed: list[str] = Field(description="the call's fields the document changed")
    stale: bool = Field(description="older than the last document applied: nothing changed")
    notices: list[EidoNotice] = Field(description="parts of the document HEART could not use")
    not_kept: list[str] = Field(description="components checked but not kept: persons other than the caller, and "
                                            "callback components with no readable number (the caller's name and "
                                            "callback number go to the call's restricted caller record)")
    call: CallPublic
