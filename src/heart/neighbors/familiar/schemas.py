"""API shapes of familiar neighbors: linkage runs and proposals (ids, weights, what each comparison contributed —
no personal value), flags, the report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from heart.inputs import Input
from heart.neighbors.familiar.models import FlagStatus, ProposalStatus


class LinkRunPublic(BaseModel):
    records: int
    pairs: int = Field(description="pairs of records at or above the link threshold")
    merged: int = Field(description="neighbors merged by this run (sure enough; a reviewer may split them)")
    proposed: int = Field(description="pairs waiting for a reviewer")
    seconds: float
    model_version: str


class Contribution(BaseModel):
    comparison: str = Field(description="Prior, first_name, dob, surname_home, sex")
    level: str = Field(description="the level of the comparison that held, in words")
    weight: float = Field(description="its match weight (log2 of its Bayes factor); they add up to the pair's")


class ProposalPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    left_id: int
    right_id: int
    match_weight: float
    match_probability: float
    contributions: list[Contribution]
    model_version: str
    status: ProposalStatus
    found_at: datetime
    decided_at: datetime | None


class FlagPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    neighbor_id: int
    level: int
    responses: int
    counted_at: datetime
    status: FlagStatus
    approach_notes: str | None
    reviewer_id: int | None
    reviewed_at: datetime | None
    expires_at: datetime | None


class FlagReview(Input):
    approach_notes: str = Field(min_length=1, max_length=2000, description="how to approach the neighbor with care")
    expires_at: AwareDatetime | None = Field(default=None, description="defaults to the city's number of days")


class RecountPublic(BaseModel):
    raised: int
    changed_level: int
    ended: int
    expired: int


class ReportPublic(BaseModel):
    since: datetime
    until: datetime
    neighbors: int
    responses: int
    shares: list[dict[str, Any]] = Field(description="share_of_neighbors, neighbors, responses, share_of_responses, "
                                                     "published")
    seen: list[dict[str, Any]] = Field(description="at_least, neighbors, responses, share_of_responses, published")
    compared_with: str | None
