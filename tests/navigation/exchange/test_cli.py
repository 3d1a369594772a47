"""`heart referrals export-fhir` and `import-fhir`: the same exchange from the command line, for a named account."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from heart.db import utcnow
from heart.navigation.followups.models import Referral
from heart.neighbors.models import NeighborRead
from tests.conftest import REPO_ROOT
from tests.navigation.followups.care import Care

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
HEART = str(Path(sys.executable).parent / "heart")


def heart(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "HEART_ENV": "development", "HEART_DATABASE_URL": database_url}
    return subprocess.run([HEART, "referrals", *args], capture_output=True, text=True, env=environment,
                          cwd=REPO_ROOT, timeout=120)


def test_an_operator_exports_a_referral_and_imports_the_partners_answer(
    database_url: str, care: Care, referral: int, sessions: sessionmaker[Session], tmp_path: Path,
) -> None:
    out = tmp_path / "referral.json"
    exported = heart(database_url, "export-fhir", str(referral), "--as", "care-navigator", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    bundle = json.loads(out.read_text(encoding="utf-8"))
    task = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task")
    assert heart(database_url, "export-fhir", str(referral), "--as", "care-navigator", "--out",
                 str(out)).returncode == 1  # never overwrites
    answer = tmp_path / "task.json"
    answer.write_text(json.dumps({**task, "status": "accepted",
                                  "lastModified": (utcnow() - timedelta(minutes=1)).isoformat()}), encoding="utf-8")
    imported = heart(database_url, "import-fhir", str(answer), "--as", "care-navigator")
    assert imported.returncode == 0, imported.stderr
    assert f"referral {referral}: moved (now accepted)" in imported.stdout
    with sessions() as session:
        assert session.get_one(Referral, referral).status.value == "accepted"
        assert "referral exported (FHIR)" in session.scalars(select(NeighborRead.purpose)).all()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**task, "status": "bogus"}), encoding="utf-8")
    refused = heart(database_url, "import-fhir", str(bad), "--as", "care-navigator")
    assert refused.returncode == 1 and refused.stderr.strip().startswith(f"error: {bad}: Task.status:")
    assert "Traceback" not in refused.stderr
    nobody = heart(database_url, "import-fhir", str(answer), "--as", "nobody")
    assert nobody.returncode == 1 and "no active account named nobody" in nobody.stderr
