"""an exclusion as a reason: a triage decision records the unarmed team the call's type would have gone to but for
an exclusion that held, and which exclusions held

Revision ID: 0013_exclusion
Revises: 0012_desk
Create Date: 2026-12-06 11:30:00.000000

Two nullable columns on triage_decisions. Reach reads only each call's latest decision, so only those are worked out
again for decisions already recorded: by the engine, from the call's facts as they stand (a change of a call's
answers, priority or type decides it again, so they are the facts its latest decision saw) under the policy version
that decided it, and only when that version's text, as the city folder has it now, is the very text kept when it
decided (``policy_versions.sha256``). Every other decision keeps ``exclusions`` null: not known. Going down drops both
columns.
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision: str = "0013_exclusion"
down_revision: str | None = "0012_desk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Plain nullable columns, added and dropped with ALTER TABLE (SQLite 3.35+), never by rebuilding the table.


def _policies(connection: sa.Connection) -> dict[tuple[str, int], Any]:
    """Each policy version that decided a call, loaded from the city folder when its text is the one kept."""
    from heart.triage.policy import PolicyError, load_policy_by_name

    kept = connection.execute(sa.text("SELECT policy_id, version, sha256 FROM policy_versions")).all()
    loaded: dict[tuple[str, int], Any] = {}
    for policy_id, version, sha256 in kept:
        try:
            policy = load_policy_by_name(policy_id, version=version)
        except PolicyError:
            continue
        if policy.version == version and hashlib.sha256(policy.text.encode()).hexdigest() == sha256:
            loaded[(policy_id, version)] = policy
    return loaded


def _work_out_latest_decisions() -> None:
    from heart.triage.engine import CallFacts, decide

    connection = op.get_bind()
    latest = connection.execute(sa.text(
        "SELECT d.id, d.policy_id, d.policy_version, c.nature_code, c.incident_type, c.priority, c.screening "
        "FROM triage_decisions d JOIN calls c ON c.id = d.call_id "
        "WHERE d.id = (SELECT max(e.id) FROM triage_decisions e WHERE e.call_id = d.call_id)")).all()
    if not latest:
        return
    policies = _policies(connection)
    at = datetime.now(UTC)  # hours and units do not enter what is worked out here
    rows = []
    for decision_id, policy_id, version, nature_code, incident_type, priority, screening in latest:
        policy = policies.get((policy_id, version))
        if policy is None:
            continue
        answers = json.loads(screening) if isinstance(screening, str) else screening  # SQLite's text, or JSONB
        facts = CallFacts(nature_code=nature_code, incident_type=incident_type, priority=priority,
                          screening={str(q): str(a) for q, a in (answers or {}).items() if a is not None})
        result = decide(facts, policy, at)
        rows.append({"decision_id": decision_id, "excluded": result.excluded_pathway,
                     "held": list(result.exclusions)})
    decisions = sa.table("triage_decisions", sa.column("id", sa.Integer()),
                         sa.column("excluded_pathway", sa.String(8)), sa.column("exclusions", JSON_TYPE))
    if rows:
        connection.execute(decisions.update().where(decisions.c.id == sa.bindparam("decision_id"))
                           .values(excluded_pathway=sa.bindparam("excluded"), exclusions=sa.bindparam("held")), rows)


def upgrade() -> None:
    with op.batch_alter_table("triage_decisions", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("excluded_pathway", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("exclusions", JSON_TYPE, nullable=True))
    _work_out_latest_decisions()


def downgrade() -> None:
    with op.batch_alter_table("triage_decisions", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("exclusions")
        batch_op.drop_column("excluded_pathway")
