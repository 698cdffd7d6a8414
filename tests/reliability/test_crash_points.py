"""Crash safety: `ftctl apply` SIGKILLed at chosen points (uploads, creates, waiting, checks,
retiring; before the work or after it committed), then apply again: converged, nothing
duplicated, nothing deleted that should live (see crash.py). Complements
tests/apply/test_crash.py (kill on progress lines while creating) with kill points driven by
the emulator, a second version and retiring.

Default run: three points (create, wait, retire). `-m slow`: 30 points drawn with a fixed
seed from all 40.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import pytest

from .crash import MODELS, KillPoint, Outcome, all_points, run_point

# Each default point costs a Python start-up and a tokenizer load (~3-6 s): three only.
DEFAULT_POINTS = [KillPoint("create", 3, "after"), KillPoint("wait", 1, "before"),
                  KillPoint("retire", 2, "after")]
RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "crash.json"
SLOW_POINTS = sorted(random.Random(2026).sample(all_points(), 30), key=lambda p: p.id)


def check(outcome: Outcome, output: str) -> None:
    assert outcome.killed, f"the kill point was never reached:\n{output[-3000:]}"
    assert outcome.converged, outcome
    assert outcome.duplicate_jobs_surviving == 0, outcome
    assert outcome.duplicate_uploads == 0, outcome
    assert outcome.wrongly_deleted == (), outcome
    assert outcome.serving_versions == dict.fromkeys(sorted(MODELS), 2), outcome
    assert os.environ["OPENAI_API_KEY"] not in output


@pytest.mark.timeout(180)
@pytest.mark.parametrize("point", DEFAULT_POINTS, ids=[p.id for p in DEFAULT_POINTS])
def test_sigkill_then_apply_again_converges(point: KillPoint, tmp_path: Path) -> None:
    outcome, output = run_point(tmp_path, point, os.environ["OPENAI_API_KEY"])
    check(outcome, output)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_sigkill_at_thirty_points_then_apply_again_converges(tmp_path: Path) -> None:
    """All 30 points, then the figures go to benchmarks/results/crash.json."""
    runs = [(p, *run_point(tmp_path / p.id, p, os.environ["OPENAI_API_KEY"]))
            for p in SLOW_POINTS]
    outcomes = [o for _, o, _ in runs]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "models": len(MODELS),
        "points": len(outcomes),
        "killed": sum(o.killed for o in outcomes),
        "converged": sum(o.converged for o in outcomes),
        "max_recovery_applies": max(o.recovery_applies for o in outcomes),
        "duplicate_jobs_created": sum(o.duplicate_jobs_created for o in outcomes),
        "duplicate_jobs_surviving": sum(o.duplicate_jobs_surviving for o in outcomes),
        "duplicate_uploads": sum(o.duplicate_uploads for o in outcomes),
        "wrongly_deleted": sum(len(o.wrongly_deleted) for o in outcomes),
        "by_phase": dict(Counter(p.phase for p in SLOW_POINTS)),
        "outcomes": [asdict(o) for o in outcomes],
    }, indent=2) + "\n")
    for _point, outcome, output in runs:
        check(outcome, output)
