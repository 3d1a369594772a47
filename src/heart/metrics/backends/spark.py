"""Spark (PySpark) over a Parquet history: the same definitions when the history outgrows one machine.

Local mode (``local[*]``) by default; ``master`` (``spark://host:7077``, ``yarn``, ``k8s://…``) or the
``SPARK_REMOTE`` environment variable (Spark Connect, ``sc://host:15002``) send the work to a cluster, which
must read the Parquet path itself (a shared file system, HDFS or an object store URL such as ``s3a://…``).
PySpark is an optional dependency (``pip install 'heart[spark]'``; Java 17).
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir

from heart.metrics.backends.duckdb import with_every_column
from heart.metrics.backends.source import MetricsSource, quiet
from heart.metrics.definitions import REACH_SCHEMA

if TYPE_CHECKING:
    from heart.metrics.backends.files import HistoryFiles

LOCAL = "local[*]"


class SparkMissing(ImportError):
    """PySpark is not installed."""


@ibis.udf.scalar.builtin(name="unix_micros")
def _unix_micros(value: datetime) -> int:  # type: ignore[empty-body]
    """Spark's unix_micros: exact microseconds since the epoch of a timestamp (an instant)."""


def spark_epoch_micros(value: ir.TimestampValue) -> ir.IntegerValue:
    return _unix_micros(value)


def running_spark_session() -> Any:
    """The Spark session already running in this process, if any (None also without PySpark)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        return None
    return SparkSession.getActiveSession()


def spark_session(master: str | None = None, *, app_name: str = "heart-metrics", **conf: str) -> Any:
    """A Spark session (the running one if any): UTC session time, quiet console, few shuffle partitions.

    ``master`` wins over ``SPARK_REMOTE`` (Spark Connect), which wins over ``spark-submit --master``; with none,
    Spark runs in this process's JVM (``local[*]``).
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkMissing("the Spark engine needs PySpark: pip install 'heart[spark]' (and Java 17)") from None
    builder = SparkSession.builder.appName(app_name)
    if master:
        builder = builder.master(master)
    elif os.environ.get("SPARK_REMOTE"):
        builder = builder.remote(os.environ["SPARK_REMOTE"])
    elif not os.environ.get("PYSPARK_GATEWAY_PORT"):  # under spark-submit, its --master stands
        builder = builder.master(LOCAL)
    settings = {"spark.sql.session.timeZone": "UTC", "spark.ui.enabled": "false",
                "spark.ui.showConsoleProgress": "false", "spark.sql.shuffle.partitions": "8", **conf}
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    if not os.environ.get("SPARK_REMOTE") or master:
        session.sparkContext.setLogLevel("ERROR")
    session.conf.set("spark.sql.session.timeZone", "UTC")  # an existing session keeps its own otherwise
    return session


def open_spark_parquet(files: HistoryFiles, *, session: Any) -> MetricsSource:
    """Ibis on a Spark session reading the history's Parquet files (closing the source leaves the session running:
    its owner stops it)."""
    connection = ibis.pyspark.connect(session)
    with quiet():
        history = with_every_column(connection.read_parquet(files.responses))
        reach = with_every_column(connection.read_parquet(files.reach), REACH_SCHEMA) if files.reach else None
        phone = connection.read_parquet(files.phone) if files.phone else None
    # Exact quantiles from ranks (Spark's own percentile is approximate through Ibis); no temporary tables.
    return MetricsSource("spark", connection, history, spark_epoch_micros, native_quantiles=False,
                         materialize=False, reach=reach, phone=phone, owns_connection=False)
