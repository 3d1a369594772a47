"""`heart export public-figures`: what the public figures page shows, as JSON — the metrics' own groups and the groups
other domains add (Care Navigation's follow-ups and referrals, the familiar neighbors' shares: ``providers.py``).

The command is put under `heart export` by the app (``heart.cli``): the export commands live with the metrics, which
may not import this domain.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer

from heart.metrics.public.cli import EngineOption, History, SparkMaster


def public_figures_command(
    year: Annotated[int, typer.Option(help="a calendar year that has ended")],
    history: History = None, engine: EngineOption = None, spark_master: SparkMaster = None,
) -> None:
    """Every program's published figures for the year, suppression applied, as JSON (what the public page shows).

    From the operational database they include Care Navigation (follow-ups in time, referrals completed) and the
    familiar neighbors' shares, as on the page; a history folder holds neither, so with --history they are left out.
    """
    from heart.console import fail, migrated_database_url, settings
    from heart.db import make_engine, make_sessionmaker
    from heart.errors import DomainError
    from heart.metrics.history import metrics_source
    from heart.metrics.public.service import public_figures
    from heart.navigation.followups.rules import care_rules
    from heart.public.providers import public_providers
    from heart.yamlfile import YamlFileError

    url = migrated_database_url()
    config = settings()
    database = make_engine(url)
    try:
        providers = [] if history is not None else public_providers(
            make_sessionmaker(database), care_rules(config), config.timezone)()
        with metrics_source(database_url=url, history=history, engine=engine, spark_master=spark_master) as source:
            report = public_figures(source=source, year=year, today=date.today(), providers=providers)
    except (ValueError, DomainError, OSError, YamlFileError) as error:
        raise fail(str(error)) from None
    finally:
        database.dispose()
    typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
