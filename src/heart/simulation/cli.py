"""`heart simulate`: run a capacity scenario, or compare two, with confidence intervals over replications."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from heart.console import OutputFormat, console, err, fail
from heart.yamlfile import YamlFileError

if TYPE_CHECKING:  # the simulator is imported when a command runs, so `heart` itself starts fast
    from heart.simulation.runner import Progress as ProgressCallback
    from heart.simulation.runner import Summary
    from heart.simulation.scenario import CompiledScenario

app = typer.Typer(help="Capacity planning: simulate a scenario (teams, hours, call volume) or compare two.",
                  no_args_is_help=False, invoke_without_command=True)

ScenarioOption = Annotated[str | None, typer.Option("--scenario", help="a scenario file, or the name of a shipped "
                                                    "one (heart simulate scenarios)")]
Replications = Annotated[int | None, typer.Option(min=2, max=10_000, help="replications (default: the scenario's)")]
Seed = Annotated[int | None, typer.Option(min=0, help="random seed (default: the scenario's)")]
Workers = Annotated[int | None, typer.Option(min=1, max=64, help="processes (default: every core)")]
Format = Annotated[OutputFormat, typer.Option("--format", help="table or json")]


@app.callback()
def simulate(
    ctx: typer.Context,
    scenario: ScenarioOption = None,
    replications: Replications = None,
    seed: Seed = None,
    output: Format = OutputFormat.table,
    workers: Workers = None,
) -> None:
    """Simulate a scenario: reach, minutes to scene, missed calls by reason and hour, utilization, overtime."""
    if ctx.invoked_subcommand is not None:
        return
    from heart.simulation.report import report_json
    from heart.simulation.runner import replicate, summarise

    if scenario is None:
        raise fail("name a scenario: heart simulate --scenario durham-2025 (see heart simulate scenarios)")
    compiled = _compile(scenario)
    seed = compiled.scenario.seed if seed is None else seed
    count = replications or compiled.scenario.replications
    with _progress(f"{compiled.scenario.scenario}", count) as tick:
        summary = summarise(replicate(compiled.simulation, replications=count, seed=seed, workers=workers,
                                      progress=tick))
    if output == OutputFormat.json:
        typer.echo(json.dumps(report_json(compiled, summary, seed=seed), indent=2))
        return
    _print_summary(compiled, summary, seed)


@app.command("compare")
def compare(
    first: Annotated[str, typer.Argument(help="the baseline scenario (file or name)")],
    second: Annotated[str, typer.Argument(help="the scenario to compare with it")],
    replications: Replications = None,
    seed: Seed = None,
    output: Format = OutputFormat.table,
    workers: Workers = None,
) -> None:
    """Run both scenarios on the same random streams and print second − first with its interval."""
    from heart.simulation.report import figures_of, number, scaled
    from heart.simulation.runner import paired_differences, replicate, summarise

    a, b = _compile(first), _compile(second)
    seed = a.scenario.seed if seed is None else seed
    count = replications or max(a.scenario.replications, b.scenario.replications)
    runs = []
    for compiled in (a, b):
        with _progress(compiled.scenario.scenario, count) as tick:
            runs.append(replicate(compiled.simulation, replications=count, seed=seed, workers=workers, progress=tick))
    differences = paired_differences(runs[0], runs[1])
    summaries = [summarise(r) for r in runs]
    codes = [code for code in a.simulation.program_codes() if code in b.simulation.program_codes()]
    if output == OutputFormat.json:
        typer.echo(json.dumps({
            "first": a.scenario.scenario, "second": b.scenario.scenario, "replications": count, "seed": seed,
            "confidence": summaries[0].confidence, "programs": {code: {
                name: {"first": scaled(summaries[0].estimate(f"{code}.{name}"), scale).to_json(),
                       "second": scaled(summaries[1].estimate(f"{code}.{name}"), scale).to_json(),
                       "difference": scaled(differences[f"{code}.{name}"], scale).to_json()}
                for name, _, _, scale in figures_of(a, code) if f"{code}.{name}" in differences}
                for code in codes}}, indent=2))
        return
    for code in codes:
        table = Table("", a.scenario.scenario, b.scenario.scenario, "difference (95 % CI)",
                      title=f"{code}: {b.scenario.scenario} − {a.scenario.scenario}, {count} paired replications",
                      title_justify="left")
        for name, label, unit, scale in figures_of(a, code):
            key = f"{code}.{name}"
            if key not in differences:
                continue
            difference = scaled(differences[key], scale)
            table.add_row(label, number(scaled(summaries[0].estimate(key), scale).mean, unit),
                          number(scaled(summaries[1].estimate(key), scale).mean, unit),
                          _signed(difference, unit))
        console.print(table)


@app.command("fit")
def fit_command(
    output: Annotated[Path, typer.Option(help="the model file to write (a scenario names it with `model:`)")],
    city: Annotated[str | None, typer.Option(help="the city whose policy and base model to use [HEART_CITY]")] = None,
    batch: Annotated[str | None, typer.Option(help="fit arrivals and call mix from this imported CAD batch "
                                                   "(default: HEART's own calls)")] = None,
    agency: Annotated[str | None, typer.Option(help="with --batch: only this agency's calls")] = None,
    since: Annotated[str | None, typer.Option(help="first day, YYYY-MM-DD (local)")] = None,
    until: Annotated[str | None, typer.Option(help="last day (included), YYYY-MM-DD")] = None,
) -> None:
    """Fit arrivals by hour of week, the call mix and response times from history into a model file."""
    from datetime import date

    from heart.city.folder import city_settings
    from heart.console import migrated_database_url
    from heart.db import make_engine
    from heart.simulation import fit
    from heart.simulation.model import city_files, load_model
    from heart.triage.policy import load_policy

    files = city_files(city or city_settings().key)
    try:
        first, last = (date.fromisoformat(d) if d else None for d in (since, until))
    except ValueError:
        raise fail("--since and --until are dates written YYYY-MM-DD") from None
    engine = make_engine(migrated_database_url())
    try:
        base, policy = load_model(files.model), load_policy(files.policies / f"{files.policy}.yaml",
                                                            programs=files.config)
        zone = policy.timezone
        if batch:
            calls = fit.imported_calls(engine, batch, agency, policy, first, last, zone)
            source = f"import batch {batch!r}" + (f", agency {agency}" if agency else "")
        else:
            calls, source = fit.operational_calls(engine, first, last, zone), "HEART's calls"
        responses = fit.operational_responses(engine, first, last, zone)
        fitted = fit.fit(base=base, policy=policy, calls=calls, responses=responses, source=source)
    except (ValueError, YamlFileError) as error:
        raise fail(str(error)) from None
    except Exception as error:  # a batch that does not exist, a database that does not answer
        from heart.triage.replay import ReplayError

        if isinstance(error, ReplayError):
            raise fail(str(error)) from None
        raise
    finally:
        engine.dispose()
    fit.write_fitted(fitted, output=output, base_file=files.model)
    for note in fitted.notes:
        console.print(f"  {note}", highlight=False)
    console.print(f"wrote {output}; use it in a scenario with `model: {output.name}` (relative to the scenario)")


@app.command("scenarios")
def scenarios() -> None:
    """The shipped scenarios."""
    from heart.simulation.scenario import load_scenario, scenario_paths

    table = Table("name", "title", "file", title="Scenarios", title_justify="left")
    for name, path in scenario_paths().items():
        try:
            title = load_scenario(str(path)).title
        except YamlFileError as error:
            title = f"(cannot be read: {error.reason})"
        table.add_row(name, title, str(path))
    console.print(table)


def _compile(name: str) -> CompiledScenario:
    from heart.simulation.scenario import compile_scenario, load_scenario

    try:
        return compile_scenario(load_scenario(name))
    except YamlFileError as error:
        raise fail(str(error)) from None


@contextmanager
def _progress(label: str, total: int) -> Iterator[ProgressCallback]:
    """A progress bar on standard error (standard output stays clean for --format json)."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task(f"simulating {label}", total=total)
        yield lambda done, _: progress.update(task, completed=done)


def _signed(estimate: object, unit: str) -> str:
    from heart.simulation.report import interval
    from heart.simulation.stats import Estimate

    assert isinstance(estimate, Estimate)
    sign = "+" if estimate.mean >= 0 else ""
    text = interval(estimate, unit)
    return sign + text if text != "—" else text


def _print_summary(compiled: CompiledScenario, summary: Summary, seed: int) -> None:
    from heart.simulation.report import figures_of, interval, number, scaled, target_checks

    scenario = compiled.scenario
    period = scenario.period
    console.print(f"[bold]{scenario.scenario}[/]: {scenario.title}", highlight=False)
    console.print(f"{period.days} days from {period.start} after a {period.warmup_days}-day warm-up; "
                  f"{summary.replications} replications, seed {seed}; means with "
                  f"{summary.confidence:.0%} t-intervals; about {number(summary.estimate('calls').mean)} calls",
                  highlight=False)
    for code in compiled.simulation.program_codes():
        shifts = ", ".join(f"{s.start}-{s.end} × {s.teams}" for s in compiled.shifts.get(code, [])) or "none"
        table = Table("", "mean (95 % CI)", title=f"{code}: open {compiled.hours.get(code)}; shifts {shifts}; "
                      f"max wait {number(compiled.max_wait.get(code) or 0, 'min')} min", title_justify="left")
        for name, label, unit, scale in figures_of(compiled, code):
            table.add_row(label + (f" ({unit})" if unit else ""),
                          interval(scaled(summary.estimate(f"{code}.{name}"), scale), unit))
        console.print(table)
        _print_by_hour(code, summary)
    checks = target_checks(compiled, summary)
    if checks:
        table = Table("figure", "published", "accepted range", "simulated (95 % CI)", "", title="Published figures",
                      title_justify="left")
        for check in checks:
            table.add_row(check.figure, check.published, f"{check.low:g} – {check.high:g}",
                          interval(check.simulated, "min"), "[green]reproduced[/]" if check.met else "[red]off[/]")
        console.print(table)


def _print_by_hour(code: str, summary: Summary) -> None:
    from heart.simulation.report import BY_HOUR, number

    columns = [(name, label, unit) for name, label, unit in BY_HOUR if summary.by_hour(f"{code}.{name}")]
    table = Table("hour", *(label + (f" ({unit})" if unit else "") for _, label, unit in columns),
                  title=f"{code} by hour the call came in (means)", title_justify="left")
    for hour in range(24):
        table.add_row(f"{hour:02d}:00", *(number(summary.by_hour(f"{code}.{name}")[hour].mean, unit)
                                          for name, _, unit in columns))
    console.print(table)
