"""Idempotent buttons: every tap carries a token the page made; a token seen before is not acted on again."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy.orm import Session

from heart.db import insert_if_absent
from heart.dispatch.models import ActionToken


def new_token() -> str:
    """A fresh token for one rendered button or form."""
    return secrets.token_urlsafe(16)


def token_for(*state: object) -> str:
    """The token of a shared button, the same for every board that shows the same state.

    A board fragment is rendered once for every open board, so its buttons cannot carry one person's random
    token. Naming the action and the state it acts on (e.g. the call's current decision) makes two presses of
    "the same button" one action, while the same button after the state changed is a new one.
    """
    return hashlib.sha256("|".join(map(str, state)).encode()).hexdigest()[:32]


def first_time(*, session: Session, token: str | None, action: str, user_id: int | None, now: datetime) -> bool:
    """True the first time ``token`` arrives (it is remembered in the caller's transaction).

    If the action then fails, the transaction rolls back and forgets the token, so a retry is tried afresh.
    Two copies arriving at once: the second waits on the unique index and then finds the first.
    """
    if not token:
        return True
    values = {"token": token[:64], "action": action[:64], "user_id": user_id, "created_at": now}
    return insert_if_absent(session, ActionToken, values, unique=("token",)) is not None
