"""The published figures, written once (ARCHITECTURE §5), and where they run.

- ``definitions`` the metrics as Ibis expressions (integer microseconds); ``service`` the divisions and the one
  half-up rounding; ``backends/`` the operational database or DuckDB over Parquet; ``baseline`` the same figures
  over imported CAD history, per agency; ``schemas`` the report and the figures' labels (written once);
- ``pages`` the dashboard; ``cli`` ``heart metrics``.
"""
