"""The capacity planner page: pick a scenario, change teams per shift and hours, run it, and read reach and
minutes to scene by hour beside the baseline (the scenario as shipped, on the same random streams).

The routes import the planner (and so the simulator) when a request needs it, not when the app starts.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from heart.deps import allow
from heart.simulation.jobs import read_run
from heart.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/simulation", dependencies=[allow("simulation.run")])
def planner(request: Request, scenario: str | None = None) -> HTMLResponse:
    """The form, filled in with the chosen scenario's hours and shifts."""
    from heart.simulation.planner import planner_page

    return planner_page(request, scenario)


@router.post("/simulation/runs", dependencies=[allow("simulation.run")])
async def start(request: Request) -> Response:
    """Start a run from the form; the answer is the run's page (303), or the form again with what is wrong.

    Reading the scenario files and queueing the run happen in a worker thread, never on the event loop."""
    from heart.simulation.planner import start_from_form

    form = await request.form()
    values = {key: str(value) for key, value in form.items() if isinstance(value, str)}
    return await run_in_threadpool(start_from_form, request, values)


@router.get("/simulation/runs/{run_id}", dependencies=[allow("simulation.run")])
def run_page(request: Request, run_id: str) -> HTMLResponse:
    """A run: its progress while it runs, then its figures and charts beside the baseline."""
    from heart.simulation.planner import results
    from heart.simulation.report import number

    state = read_run(run_id)
    if state is None:
        return render(request, "error.html", {"status": 404, "message": "There is no such simulation run "
                                              "(runs are kept for a day)."}, status_code=404)
    context: dict[str, Any] = {"run_id": run_id, "state": state, "fmt": number}
    if state.get("state") == "finished":
        context.update(results(state["result"]))
    return render(request, "simulation/run.html", context)


@router.get("/simulation/runs/{run_id}/status", dependencies=[allow("simulation.run")])
def run_status(run_id: str) -> JSONResponse:
    """How far along a run is (for the page's progress bar)."""
    state = read_run(run_id)
    if state is None:
        return JSONResponse({"detail": "no such run"}, status_code=404)
    return JSONResponse({key: state.get(key) for key in ("state", "done", "total", "error")},
                        headers={"Cache-Control": "no-store"})
