"""The engines that run the metric definitions over a history folder (a light module: the CLI imports it)."""

from __future__ import annotations

from enum import StrEnum


class Engine(StrEnum):
    duckdb = "duckdb"
    postgres = "postgres"
    spark = "spark"
