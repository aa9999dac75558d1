"""The evaluation gate: quality on public Vietnamese QA sets may not drop below the floors.

Floors live in eval_floors.json and only go up. Each run takes about a minute
per file on 2 cores, so the gate runs the full files, not a sample.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hoidap.evaluate import squad

from .conftest import EVAL, need

FLOORS = json.loads((Path(__file__).parent / "eval_floors.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("name", [k for k in FLOORS if k.endswith(".json")])
def test_squad_scores_stay_above_the_floors(name: str) -> None:
    report = squad(need(EVAL / name))
    print(f"{name}: {report}")
    for metric, floor in FLOORS[name].items():
        assert getattr(report, metric) >= floor, f"{name} {metric} {getattr(report, metric)} < floor {floor}"


@pytest.mark.slow
@pytest.mark.parametrize(("setting", "share", "name"), [
    (setting, share, name) for setting, share in (("unmarked", 1.0), ("half_unmarked", 0.5), ("few_unmarked", 0.2))
    for name in FLOORS[setting]])
def test_squad_scores_asked_without_marks_stay_above_the_floors(setting: str, share: float, name: str) -> None:
    report = squad(need(EVAL / name), unmarked=share)
    print(f"{name}, {setting}: {report}")
    for metric, floor in FLOORS[setting][name].items():
        assert getattr(report, metric) >= floor, f"{name} {setting} {metric} {getattr(report, metric)} < floor {floor}"


@pytest.mark.slow
def test_sources_disagree_stays_above_the_floors() -> None:
    """benchmarks/conflicts.py over the hand-labelled clusters (tests/data/conflict_*.jsonl)."""
    import subprocess
    import sys

    need(EVAL / "vims_300clusters.jsonl")
    floors = json.loads((Path(__file__).parent / "conflict_floors.json").read_text())
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "conflicts.py"
    out = subprocess.run([sys.executable, str(script), "--eval-dir", str(EVAL), "--json"],
                         capture_output=True, text=True, check=True, timeout=900)
    res = json.loads(out.stdout)
    for half, metrics in floors.items():
        if half.startswith("_") or half == "recall":
            continue
        for metric, floor in metrics.items():
            assert res[half][metric] >= floor, f"{half} {metric} {res[half][metric]} < floor {floor}"
    for which, floor in floors["recall"].items():
        assert res["recall"][which]["recall"] >= floor, f"recall {which} < {floor}"
