"""Where each part of a history on disk is (``heart.metrics.history`` describes the folder; the backends read it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PARTS = ("responses", "reach", "phone")


@dataclass(frozen=True, slots=True)
class HistoryFiles:
    """Where each part of a history is (a file, a folder of files or a glob); None for a part not exported."""

    responses: str
    reach: str | None = None
    phone: str | None = None

    @classmethod
    def at(cls, path: str | Path) -> HistoryFiles:
        """The parts of the history at ``path`` (a history folder, or one Parquet file or glob of responses)."""
        where = Path(path)
        if not where.is_dir():
            if "*" not in str(path) and not where.exists():
                raise FileNotFoundError(f"no history at {path}: give a folder written by `heart export history` "
                                        "or a Parquet file of responses")
            return cls(responses=str(path))
        found = {part: _part(where, part) for part in PARTS}
        if found["responses"] is None:
            if any(child.suffix == ".parquet" for child in where.iterdir()):  # a folder of response files
                return cls(responses=str(where))
            raise FileNotFoundError(f"{path} holds no responses.parquet (nor responses/*.parquet)")
        return cls(responses=str(found["responses"]), reach=found["reach"], phone=found["phone"])


def _part(folder: Path, part: str) -> str | None:
    if (folder / f"{part}.parquet").is_file():
        return str(folder / f"{part}.parquet")
    if (folder / part).is_dir():
        return str(folder / part)
    return None
