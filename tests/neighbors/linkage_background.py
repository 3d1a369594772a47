"""Background records: a program's linkage always runs among many other people's records."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session

from heart.navigation.followups.rules import CareRules
from heart.neighbors.linkage.synthetic import generate_records
from heart.neighbors.models import Neighbor


def background(session: Session, now: datetime, rules: CareRules, n: int = 1500) -> None:
    """``n`` generated records of other people (no calls), written in one statement."""
    del rules
    records = generate_records(n, seed=17).records
    rows = []
    for row in records.itertuples(index=False):
        born = None
        if isinstance(row.date_of_birth, str):
            try:
                born = datetime.fromisoformat(row.date_of_birth).date()
            except ValueError:
                born = None
        rows.append({"first_name": row.first_name, "last_name": row.last_name, "aliases": list(row.aliases),
                     "date_of_birth": born, "phone": row.phone, "address": row.address,
                     "created_at": now - timedelta(days=400), "created_by_id": None, "merged_into_id": None,
                     "restricted_to_program_id": None})
    session.execute(insert(Neighbor), rows)
