"""Fit the shipped model on generated records with known identities and write ``data/model.json``.

    .venv/bin/python -m heart.neighbors.linkage.train [--records 100000] [--seed 11] [--output PATH]

m probabilities come from the labels (for each comparison, the share of true pairs at each level), u
probabilities from random pairs (almost all of them different people), the prior from the deterministic rules.
Levels the generated records never reach, or hardly, get the documented floors below, so no weight is left to
Splink's defaults and no weight rests on a handful of generated pairs. A refit is a reviewed commit: the diff of
model.json shows every weight that moved, and
``benchmarks/linkage.py`` gives the figures the new model reaches.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from splink import DuckDBAPI, Linker

from heart.neighbors.linkage.model import (
    DETERMINISTIC_RECALL,
    DETERMINISTIC_RULES,
    MODEL_VERSION,
    U_FLOOR,
    model_path,
    settings_creator,
)
from heart.neighbors.linkage.records import prepare
from heart.neighbors.linkage.synthetic import generate_records

M_FLOOR = 0.001  # a level true pairs never or hardly reached in training: rare, not impossible
SEX_DIFFERS_M = 0.01  # the same person recorded with another sex: the generator never does it; records do


def fit(*, n_records: int, seed: int) -> dict[str, Any]:
    """A Splink settings dictionary with every m and u probability, fitted on generated records."""
    generated = generate_records(n_records, seed=seed)
    frame = prepare(generated.records)
    frame["person_id"] = generated.person_of_record.loc[frame["unique_id"]].to_numpy()
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(frame, dataset_display_name="training"), settings_creator(), log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        list(DETERMINISTIC_RULES), recall=DETERMINISTIC_RECALL
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=seed)
    linker.training.estimate_m_from_label_column("person_id")
    settings: dict[str, Any] = linker.misc.save_model_to_json()
    _fill_untrained(settings)
    settings["linker_uid"] = None
    settings["heart_model"] = {
        "version": MODEL_VERSION,
        "fitted_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "fitted_on": f"{len(frame)} generated records (heart.neighbors.linkage.synthetic, seed {seed})",
        "method": "m from known identities, u by random sampling, untrained levels floored (train.py)",
    }
    return settings


def _fill_untrained(settings: dict[str, Any]) -> None:
    for comparison in settings["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            if level.get("m_probability") is None:
                differs = comparison["output_column_name"] == "sex"
                level["m_probability"] = SEX_DIFFERS_M if differs else M_FLOOR
            # A level a few true pairs reached gets no less than one it never saw: the generator's errors are a
            # floor of what records carry (a birth date wholly wrong, which it never writes, is one in a thousand).
            level["m_probability"] = max(level["m_probability"], M_FLOOR)
            if level.get("u_probability") is None:
                level["u_probability"] = U_FLOOR


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--output", type=Path, default=model_path())
    args = parser.parse_args()
    settings = fit(n_records=args.records, seed=args.seed)
    args.output.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output} (model {MODEL_VERSION}, {settings['heart_model']['fitted_on']})")


if __name__ == "__main__":
    main()
