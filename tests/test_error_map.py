"""One map from a refusal to its HTTP status (``heart.errors.http_status``), for the JSON API and the pages alike."""

from __future__ import annotations

from heart.errors import ConfirmationNeeded, DomainError, InvalidInput, NotFound, PermissionDenied, http_status


def test_each_kind_of_refusal_has_one_status() -> None:
    assert http_status(NotFound("call", 7)) == 404
    assert http_status(InvalidInput("bad", field="x")) == 422
    assert http_status(PermissionDenied("no")) == 403
    assert http_status(ConfirmationNeeded("sure?", confirm="yes")) == 409  # a Conflict
    assert http_status(DomainError("anything else")) == 400
