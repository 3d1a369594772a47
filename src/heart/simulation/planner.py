"""The capacity planner's form and results: what the page shows, from a scenario and a finished run.

Kept apart from the routes (``pages``), which import it when a request needs it, so that the simulator is
not loaded while a server process starts.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from heart.city.folder import city_settings
from heart.simulation.jobs import SimulatorBusy, start_run
from heart.simulation.report import FIELD_FIGURES, PHONE_FIGURES, number
from heart.simulation.scenario import (
    CompiledScenario,
    ProgramSpec,
    Scenario,
    ShiftSpec,
    compile_scenario,
    load_scenario,
    scenario_paths,
)
from heart.templating import render
from heart.triage.policy import parse_hours
from heart.yamlfile import YamlFileError

DEFAULT_REPLICATIONS = 20
MAX_REPLICATIONS = 200
EXTRA_SHIFT_ROWS = 1
COLORS = {"baseline": "#8a8590", "changed": "#7a1f3d"}


class FormError(ValueError):
    """A field of the planner's form that cannot be used; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def city_scenarios() -> list[str]:
    """The scenarios of the city in force (every shipped one when it has none)."""
    return list(scenario_paths(city_settings().key) or scenario_paths())


def planner_page(request: Request, scenario: str | None) -> HTMLResponse:
    """The form, filled in with the chosen scenario's hours and shifts."""
    names = city_scenarios()
    chosen = scenario if scenario in names else (names[0] if names else None)
    compiled, error = _compiled(chosen)
    return _form(request, names, chosen, compiled, values=None, errors={}, error=error)


def start_from_form(request: Request, values: dict[str, str]) -> Response:
    """Check the form, queue the run, and answer its page (303), or the form again with what is wrong."""
    names = city_scenarios()
    chosen = values.get("scenario")
    if chosen not in names:
        first = names[0] if names else None
        return _form(request, names, first, _compiled(first)[0], None, {}, "pick a scenario from the list",
                     status_code=422)
    compiled, error = _compiled(chosen)
    if compiled is None:
        return _form(request, names, chosen, None, values, {}, error, status_code=422)
    try:
        replications = _replications(values.get("replications", ""))
        changes = _changes(compiled, values)
        changed = _changed_scenario(compiled.scenario, changes)
        run_id = start_run(baseline=compiled.scenario, changed=changed, replications=replications,
                           seed=compiled.scenario.seed)
    except FormError as problem:
        return _form(request, names, chosen, compiled, values, {problem.field: str(problem)}, None,
                     status_code=422)
    except YamlFileError as problem:
        return _form(request, names, chosen, compiled, values, {}, problem.reason, status_code=422)
    except SimulatorBusy as problem:
        return _form(request, names, chosen, compiled, values, {}, str(problem), status_code=503)
    return RedirectResponse(f"/simulation/runs/{run_id}", status_code=303)


# --- the form ------------------------------------------------------------------------------------------------

def _compiled(name: str | None) -> tuple[CompiledScenario | None, str | None]:
    if name is None:
        return None, "no scenarios are shipped with this installation"
    try:
        return compile_scenario(load_scenario(name)), None
    except YamlFileError as problem:
        return None, str(problem)


def _form(request: Request, names: list[str], chosen: str | None, compiled: CompiledScenario | None,
          values: dict[str, str] | None, errors: dict[str, str], error: str | None, *,
          status_code: int = 200) -> HTMLResponse:
    programs = []
    if compiled is not None:
        for code in compiled.simulation.program_codes():
            shifts = compiled.shifts.get(code, [])
            rows = [{"start": s.start, "end": s.end, "teams": str(s.teams)} for s in shifts]
            rows += [{"start": "", "end": "", "teams": ""}] * EXTRA_SHIFT_ROWS
            if values is not None:  # what the person typed, when the form comes back with an error
                count = _row_count(values, code, len(rows))
                rows = [{part: values.get(f"shift_{code}_{i}_{part}", "") for part in ("start", "end", "teams")}
                        for i in range(count)]
            hours = values.get(f"hours_{code}", "") if values is not None else compiled.hours.get(code, "")
            programs.append({"code": code, "hours": hours, "rows": rows,
                             "max_wait": compiled.max_wait.get(code)})
    replications = (values or {}).get("replications") or str(DEFAULT_REPLICATIONS)
    return render(request, "simulation/planner.html", {
        "names": names, "chosen": chosen, "compiled": compiled, "programs": programs, "errors": errors,
        "error": error, "replications": replications, "max_replications": MAX_REPLICATIONS, "fmt": number,
    }, status_code=status_code)


def _row_count(values: dict[str, str], code: str, default: int) -> int:
    indexes = [int(key.split("_")[2]) for key in values
               if key.startswith(f"shift_{code}_") and key.split("_")[2].isdigit()]
    return max(indexes) + 1 if indexes else default


def _replications(text: str) -> int:
    try:
        value = int(text or DEFAULT_REPLICATIONS)
    except ValueError:
        raise FormError("replications", "replications must be a whole number") from None
    if not 2 <= value <= MAX_REPLICATIONS:
        raise FormError("replications", f"replications must be between 2 and {MAX_REPLICATIONS}")
    return value


def _changes(compiled: CompiledScenario, values: dict[str, str]) -> dict[str, ProgramSpec]:
    """Each program's hours and shifts as the form says, where they differ from the scenario's."""
    changes: dict[str, ProgramSpec] = {}
    for code in compiled.simulation.program_codes():
        field = f"hours_{code}"
        hours_text = values.get(field, "").strip()
        windows = [w.strip() for w in hours_text.split(",") if w.strip()]
        try:
            for window in windows:
                parse_hours(window)
        except ValueError as problem:
            raise FormError(field, f"{code} hours: {problem}") from None
        shifts = _shifts(code, values)
        current = compiled.scenario.programs.get(code, ProgramSpec())
        if ", ".join(windows) != compiled.hours.get(code, "") or shifts != compiled.shifts.get(code, []):
            changes[code] = current.model_copy(update={"hours": windows, "shifts": shifts})
    return changes


def _shifts(code: str, values: dict[str, str]) -> list[ShiftSpec]:
    shifts = []
    for index in range(_row_count(values, code, 0)):
        start, end, teams = (values.get(f"shift_{code}_{index}_{part}", "").strip()
                             for part in ("start", "end", "teams"))
        if not (start or end or teams):
            continue
        field = f"shift_{code}_{index}"
        if not (start and end and teams):
            raise FormError(field, f"{code} shift {index + 1}: give its start, its end and its number of teams")
        try:
            count = int(teams)
            shift = ShiftSpec(start=start, end=end, teams=count)
        except ValueError as problem:
            message = str(problem).splitlines()[-1] if "validation error" in str(problem) else str(problem)
            raise FormError(field, f"{code} shift {index + 1}: {_plain(message)}") from None
        if count > 0:
            shifts.append(shift)
    return shifts


def _plain(message: str) -> str:
    return message.strip().removeprefix("Value error, ").split(" [type=")[0]


def _changed_scenario(scenario: Scenario, changes: dict[str, ProgramSpec]) -> Scenario | None:
    if not changes:
        return None
    described = "; ".join(f"{code} open {', '.join(spec.hours or ['never'])}, "
                          f"{_teams(spec.shifts or [])}" for code, spec in changes.items())
    return scenario.with_changes(changes, name=f"{scenario.scenario} changed").model_copy(
        update={"title": f"{scenario.title} — changed: {described}", "targets": []})


def _teams(shifts: list[ShiftSpec]) -> str:
    teams = sum(s.teams for s in shifts)
    return f"{teams} team{'s' if teams != 1 else ''} on {len(shifts)} shift{'s' if len(shifts) != 1 else ''}"


# --- the results ---------------------------------------------------------------------------------------------

def results(result: dict[str, Any]) -> dict[str, Any]:
    """What the run page shows: per program a table of figures and, by hour, charts with their tables."""
    baseline, scenario = result["baseline"], result.get("scenario")
    shown = scenario or baseline
    sections, charts = [], {}
    for code, program in shown["programs"].items():
        base_program = baseline["programs"].get(code)
        figures = FIELD_FIGURES if "responses" in program["figures"] else PHONE_FIGURES
        rows = []
        for name, label, unit, _ in figures:
            rows.append({"label": label, "unit": unit,
                         "baseline": base_program["figures"].get(name) if base_program else None,
                         "scenario": program["figures"].get(name) if scenario else None,
                         "difference": result["differences"].get(code, {}).get(name)})
        hourly = []
        for key, label, unit in (("reach_pct", "Reach of eligible calls", "%"),
                                 ("minutes_call_to_scene", "Minutes from call to on scene", "min"),
                                 ("minutes_to_scene", "Minutes to scene (dispatch → on scene)", "min")):
            if key not in program["by_hour"]:
                continue
            chart_id = f"{code}-{key}"
            base_hours = base_program["by_hour"].get(key, []) if base_program else []
            this_hours = program["by_hour"][key] if scenario else []
            charts[chart_id] = _chart(label, unit, base_hours, this_hours)
            hourly.append({"id": chart_id, "label": label, "unit": unit,
                           "rows": [(hour, base_hours[hour] if base_hours else None,
                                     this_hours[hour] if this_hours else None) for hour in range(24)]})
        sections.append({"code": code, "program": program, "baseline_program": base_program, "rows": rows,
                         "hourly": hourly})
    return {"baseline": baseline, "scenario": scenario, "sections": sections, "charts": charts}


def _chart(label: str, unit: str, baseline: list[dict[str, Any]], scenario: list[dict[str, Any]]) -> dict[str, Any]:
    hours = [f"{hour:02d}" for hour in range(24)]
    data = []
    for name, series in (("baseline", baseline), ("changed", scenario)):
        if not series:
            continue
        means = [point["mean"] for point in series]
        errors = [None if point["mean"] is None or point["high"] is None else point["high"] - point["mean"]
                  for point in series]
        data.append({"type": "scatter", "mode": "lines+markers", "name": name, "x": hours, "y": means,
                     "line": {"color": COLORS[name], "dash": "dot" if name == "baseline" else "solid"},
                     "error_y": {"type": "data", "array": [e if e is not None and math.isfinite(e) else 0
                                                           for e in errors], "visible": True, "thickness": 1}})
    layout = {"height": 300, "margin": {"l": 50, "r": 10, "t": 10, "b": 40},
              "legend": {"orientation": "h", "y": 1.15}, "font": {"family": "system-ui, sans-serif"},
              "xaxis": {"title": {"text": "local hour the call came in"}, "type": "category"},
              "yaxis": {"title": {"text": f"{label} ({unit})" if unit else label}, "rangemode": "tozero"},
              "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}
    return {"data": data, "layout": layout}
