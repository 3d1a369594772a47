"""Where the metrics run: the operational database (SQLite, PostgreSQL) or DuckDB over a Parquet export.

A backend gives the definitions two things: the history table (``definitions.HISTORY_SCHEMA``) and its
way of turning a timestamp into epoch microseconds (``source.MetricsSource``). Nothing else differs between
backends. Each backend is imported only when it is opened (DuckDB's is heavy).
"""

from __future__ import annotations

from heart.metrics.backends.source import MetricsSource, quiet

__all__ = ["MetricsSource", "open_database", "open_parquet", "quiet"]


def open_database(database_url: str) -> MetricsSource:
    """The operational database named by a SQLAlchemy URL (sqlite:///… or postgresql://…)."""
    from heart.metrics.backends.operational import open_operational

    return open_operational(database_url)


def open_parquet(path: str, *, reach: str | None = None) -> MetricsSource:
    """DuckDB (in memory) reading a Parquet export of the history (and of the eligible calls, for reach)."""
    from heart.metrics.backends.duckdb import open_duckdb_parquet

    return open_duckdb_parquet(path, reach_path=reach)
