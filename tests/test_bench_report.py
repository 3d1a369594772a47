"""The benchmark report (benchmarks/report.py, issue 16): in its short mode every data path's answer agrees with its
floor's and its naive peer's, and the report fails when an answer differs or a script breaks — never on a time."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
REPORT = BENCHMARKS / "report.py"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


report = load("report")


def run_report(*args: str, timeout: float = 600) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    finished = subprocess.run([sys.executable, str(REPORT), "--format", "json", *args], capture_output=True,
                              text=True, timeout=timeout, cwd=ROOT)
    return finished, json.loads(finished.stdout)


@pytest.mark.parametrize("name", report.SCRIPTS)
def test_each_data_path_agrees_with_its_floor_and_its_peer(name: str) -> None:
    if name in report.NOT_YET_REPORTING:
        pytest.skip(f"{name}.py does not report yet (report.py NOT_YET_REPORTING): {report.NOT_YET_REPORTING[name]}")
    finished, document = run_report("--short", name)
    outcome = document["scripts"][0]
    assert (finished.returncode, outcome["status"]) == (0, "ok"), (outcome, finished.stderr[-3000:])
    assert document["paths"], finished.stderr[-3000:]
    for path in document["paths"]:
        assert path["answers_match"], path["answer_note"]
        # Each side was measured in this run, in a process of its own.
        assert path["product_seconds"] > 0 and path["floor_seconds"] > 0, path
        assert path["product_peak_mb"] > 0 and path["floor_peak_mb"] > 0, path
        assert path["times_floor"] == pytest.approx(path["product_seconds"] / path["floor_seconds"])


def fake_script(folder: Path, name: str, body: str) -> Path:
    script = folder / f"{name}.py"
    script.write_text(textwrap.dedent(body))
    return script


def entry(path: str, scale: int, product_mb: float, answers_match: bool = True) -> dict[str, Any]:
    return {"path": path, "size": f"{scale} rows", "scale": scale,
            "product": {"seconds": 2.0 * scale, "cpu_seconds": 3.0 * scale, "peak_mb": product_mb},
            "floor": {"what": "a bare scan", "seconds": 1.0 * scale, "cpu_seconds": 1.0 * scale, "peak_mb": 50.0},
            "peer": {"what": "pandas", "seconds": 8.0 * scale, "peak_mb": 400.0},
            "answers_match": answers_match, "answer_note": "totals compared"}


def reporting_script(folder: Path, name: str, paths: list[dict[str, Any]], status: int = 0, after: str = "") -> Path:
    document = json.dumps({"paths": paths, "load_average": [0.5, 0.5, 0.5]})
    return fake_script(folder, name, f"""
        import sys
        assert sys.argv[1:] == ["--report", "--short"], sys.argv
        print("human-readable figures first")
        print({document!r})
        print({after!r})
        sys.exit({status})
    """)


def test_the_report_tables_each_path_with_its_ratios_and_memory_at_both_sizes(tmp_path: Path) -> None:
    script = reporting_script(tmp_path, "fine", [entry("figures", 1, 100.0), entry("figures", 10, 110.0)])
    finished = subprocess.run([sys.executable, str(REPORT), "--short", str(script)], capture_output=True, text=True,
                              timeout=120)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "human-readable figures first" in finished.stdout  # the script's own output stays visible
    cells = [[cell.strip() for cell in line.split(" | ")] for line in finished.stdout.split("Benchmark report")[1]
             .splitlines() if " | " in line]
    assert cells == [
        ["path", "size", "product s", "product MB", "floor s", "×floor", "×floor CPU", "peer s", "×peer", "answers"],
        ["figures", "1 rows", "2.00", "100", "1.00", "2.00×", "3.00×", "8.00", "0.25×", "agree"],
        ["figures", "10 rows", "20.00", "110", "10.00", "2.00×", "3.00×", "80.00", "0.25×", "agree"],
        ["path", "size 1×", "MB 1×", "size 10×", "MB 10×", "10× / 1×"],
        ["figures", "1 rows", "100", "10 rows", "110", "1.10×"],
    ]

    _, document = run_report("--short", str(script))
    assert [(p["scale"], p["times_floor"], p["times_peer"]) for p in document["paths"]] == [(1, 2.0, 0.25),
                                                                                           (10, 2.0, 0.25)]
    assert document["memory"] == [{"path": "figures", "size_1x": "1 rows", "peak_mb_1x": 100.0, "size_10x": "10 rows",
                                   "peak_mb_10x": 110.0, "growth": pytest.approx(1.1)}]
    assert document["ok"] is True


def test_the_report_fails_when_an_answer_differs_and_says_which(tmp_path: Path) -> None:
    differs = reporting_script(tmp_path, "differs", [entry("figures", 1, 100.0, answers_match=False)], status=1,
                               after="FAILED: the figures differ")  # a message after the report still fails it
    fine = reporting_script(tmp_path, "fine", [entry("other figures", 1, 100.0)])
    finished, document = run_report("--short", str(differs), str(fine))
    assert finished.returncode == 1
    assert [(s["script"], s["status"]) for s in document["scripts"]] == [("differs", "mismatch"), ("fine", "ok")]
    assert document["scripts"][0]["detail"] == ("answers differ: figures; printed after its report: "
                                                "'FAILED: the figures differ'")
    assert document["ok"] is False
    table = subprocess.run([sys.executable, str(REPORT), "--short", str(differs)], capture_output=True, text=True,
                           timeout=120).stdout
    assert "DIFFER" in table and "differs: MISMATCH: answers differ: figures" in table


def test_the_report_fails_when_a_script_breaks_or_prints_no_report(tmp_path: Path) -> None:
    broken = fake_script(tmp_path, "broken", "raise RuntimeError('no data')\n")
    silent = fake_script(tmp_path, "silent", "print('figures, but no report')\n")
    liar = reporting_script(tmp_path, "liar", [entry("figures", 1, 100.0)], status=3)  # agreed, yet failed
    finished, document = run_report("--short", str(broken), str(silent), str(liar))
    assert finished.returncode == 1
    assert [(s["script"], s["status"]) for s in document["scripts"]] == [
        ("broken", "error"), ("silent", "error"), ("liar", "error")]
    assert "no report" in document["scripts"][0]["detail"] and "exited with 1" in document["scripts"][0]["detail"]
    assert "exited with 3" in document["scripts"][2]["detail"]


def test_a_script_that_hangs_is_stopped_and_counts_as_failed(tmp_path: Path) -> None:
    hangs = fake_script(tmp_path, "hangs", "import time\ntime.sleep(60)\n")
    finished, document = run_report("--short", "--timeout", "2", str(hangs), timeout=30)
    assert finished.returncode == 1
    assert document["scripts"][0]["status"] == "error" and "stopped" in document["scripts"][0]["detail"]


def test_the_report_names_the_scripts_it_skips() -> None:
    scripts, skipped = report.resolve([])
    assert {path.stem for path in scripts} == set(report.SCRIPTS) - set(report.NOT_YET_REPORTING)
    assert skipped == {name: why for name, why in report.NOT_YET_REPORTING.items() if name in report.SCRIPTS}
    printed = _printed_table({"cad_import": "not yet"})
    assert "skipped (not yet reporting" in printed and "cad_import: not yet" in printed


def _printed_table(skipped: dict[str, str]) -> str:
    import io

    out = io.StringIO()
    report.print_table([], skipped, ([1.0, 1.0, 1.0], [1.0, 1.0, 1.0]), out=out)
    return out.getvalue()


# --- benchmarks/common.py: each measured thing in a process of its own ---------------------------------------

def test_a_measured_function_reports_its_own_peak_memory_not_the_callers(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "bench_helpers.py").write_text(textwrap.dedent("""
        def hold(megabytes):
            block = bytearray(megabytes * 1024 * 1024)
            block[::4096] = b"x" * len(block[::4096])  # touch every page: resident, not just reserved
            return len(block) // (1024 * 1024)
    """))
    common = importlib.import_module("common")
    helpers = importlib.import_module("bench_helpers")
    ballast = bytearray(300 * 1024 * 1024)
    ballast[::4096] = b"x" * len(ballast[::4096])  # the caller holds 300 MB: a fresh process does not inherit it
    small = common.measure_child(helpers.hold, 1)
    large = common.measure_child(helpers.hold, 200)
    del ballast
    assert (small.result, large.result) == (1, 200)
    assert small.peak_mb < 200 < large.peak_mb < 500
    assert large.seconds >= 0 and large.cpu_seconds >= 0


def test_a_measured_command_reports_its_peak_memory_and_last_json_line() -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        common = importlib.import_module("common")
    finally:
        sys.path.remove(str(BENCHMARKS))
    # The memory is held a few of the sampler's looks (every 50 ms): its last look before the exit is what it knows.
    code = ("import time; b = bytearray(150 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); time.sleep(0.3); "
            "print('working'); print('[1, 2]')")
    measured = common.measure_child([sys.executable, "-c", code])
    assert measured.result == [1, 2]
    assert measured.peak_mb > 150
    with pytest.raises(common.ChildFailed, match="exited with 2"):
        common.measure_child([sys.executable, "-c", "import sys; sys.exit(2)"])
