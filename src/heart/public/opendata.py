"""The open data as the site serves it: one folder per published year in ``HEART_PUBLIC_CACHE_DIR``, written by
``heart.metrics.public.opendata.write_open_data`` (the same files as ``heart export open-data``) and rewritten when
older than ``HEART_PUBLIC_CACHE_MINUTES``. A new folder is written beside the old one and renamed over it, so a
download never reads a half-written file, and two processes writing at once both leave a whole folder."""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
import uuid
from datetime import date
from pathlib import Path

from heart.config import Settings
from heart.metrics.backends import open_database
from heart.metrics.public.opendata import write_open_data
from heart.metrics.public.service import check_publishable

FILES = {"responses.csv": "text/csv; charset=utf-8", "responses.parquet": "application/vnd.apache.parquet",
         "datapackage.json": "application/json"}
"""What a year's folder holds, with each file's media type."""
PACKAGE = "datapackage.json"
_lock = threading.Lock()


def year_folder(*, settings: Settings, year: int, today: date) -> Path:
    """The year's files, written now if missing or stale."""
    check_publishable(year, today)
    root = settings.public_cache_dir / "open-data"
    folder = root / str(year)
    with _lock:
        if _fresh(folder, settings.public_cache_minutes):
            return folder
        root.mkdir(parents=True, exist_ok=True)
        fresh = root / f".{year}-{uuid.uuid4().hex[:8]}"
        with open_database(settings.database_url) as source:
            write_open_data(source=source, first=year, last=year, out=fresh)
        old = root / f".{year}-old-{uuid.uuid4().hex[:8]}"
        with contextlib.suppress(FileNotFoundError):  # none yet, or another process moved it first
            folder.rename(old)
        try:
            fresh.rename(folder)
        except OSError:  # another process put its whole folder there first: keep that one
            shutil.rmtree(fresh, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
        return folder


def _fresh(folder: Path, minutes: float) -> bool:
    try:
        written = (folder / PACKAGE).stat().st_mtime
    except OSError:
        return False
    return all((folder / name).is_file() for name in FILES) and time.time() - written < minutes * 60
