"""A short Durham scenario for page tests: two weeks instead of a year, so a run takes seconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from heart.simulation import scenario as scenario_module
from heart.simulation.model import city_files


def install_tiny_scenario(folder: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Make ``tiny`` the only shipped scenario: durham-2025 over 14 days (the page lists what is shipped)."""
    scenarios = folder / "durham" / "scenarios"
    scenarios.mkdir(parents=True)
    baseline = city_files("durham").scenarios / "durham-2025.yaml"
    (scenarios / "tiny.yaml").write_text(
        f"scenario: tiny\ntitle: Durham 2025, two weeks\nextends: {baseline}\ncity: durham\n"
        "period: {start: 2025-03-03, days: 14, warmup_days: 1}\nreplications: 4\n", encoding="utf-8")
    monkeypatch.setattr(scenario_module, "CITIES_DIR", folder)
    return "tiny"
