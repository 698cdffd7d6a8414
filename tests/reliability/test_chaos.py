"""Chaos: `apply` of 50 models converges against an emulator faulting 10%, 20% and 30% of
requests, with no surviving duplicate job and no duplicate upload (see chaos.py for the run).

Default run: 2 seeded runs per level. `-m slow`: 20 seeded runs per level, and the per-level
figures are written to benchmarks/results/chaos.json (and quoted in docs/reliability.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .chaos import RunResult, run_once, summarize

LEVELS = (0.10, 0.20, 0.30)
RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "chaos.json"


def check(result: RunResult) -> None:
    assert result.converged, result
    assert result.duplicate_jobs_surviving == 0, result
    assert result.duplicate_uploads == 0, result
    assert any(n for k, n in result.faults.items() if " " not in k), "no fault was injected"


@pytest.mark.timeout(240)
@pytest.mark.parametrize("seed", [101, 102])
@pytest.mark.parametrize("rate", LEVELS, ids=["10pct", "20pct", "30pct"])
def test_apply_of_50_models_converges_under_faults(rate: float, seed: int,
                                                   tmp_path: Path) -> None:
    check(run_once(tmp_path, seed=seed, rate=rate, models=50))


@pytest.mark.timeout(240)
def test_apply_converges_with_faults_on_real_sockets(tmp_path: Path) -> None:
    """The same over loopback TCP: resets and lost answers are really closed connections."""
    check(run_once(tmp_path, seed=7, rate=0.30, models=20, loopback=True))


@pytest.mark.slow
@pytest.mark.timeout(1200)
@pytest.mark.parametrize("seed", range(1, 6))
def test_loopback_runs_at_30pct_converge(seed: int, tmp_path: Path) -> None:
    check(run_once(tmp_path, seed=seed, rate=0.30, models=50, loopback=True))


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_twenty_seeded_runs_per_level_converge_and_publish_figures(tmp_path: Path) -> None:
    # A fault-free baseline first: what the same apply costs when nothing goes wrong.
    results = [run_once(tmp_path / f"0-{seed}", seed=seed, rate=0.0) for seed in (1, 2)]
    for rate in LEVELS:
        for seed in range(1, 21):
            results.append(run_once(tmp_path / f"{rate}-{seed}", seed=seed, rate=rate))
    figures = summarize(results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    for result in results:
        if result.rate:
            check(result)
        else:
            assert result.converged and result.applies == 1, result
