"""Keep the benchmark code from rotting: the plan benchmark end to end at a tiny size (seeded
emulator on loopback, cold and warm plan, naive baseline), and RESULTS.md rendering.
No timing assertions: only that the figures are there and the invariants hold.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import plan as plan_bench
from benchmarks import report
from benchmarks.__main__ import selected


def test_tiny_no_change_plan_counts_pages_not_models(tmp_path: Path) -> None:
    res = plan_bench.run(12, 3, 40, data_dir=tmp_path, runs=2)
    assert res["seeded"] == {**res["seeded"], "manifests": 12, "jobs": 36, "files": 40}
    assert res["cold"]["changes"] == res["warm"]["changes"] == 0
    assert res["cold"]["noop_steps"] == 12 and len(res["warm"]["all_wall_s"]) == 2
    # One page of jobs, one of files, the model list: not one request per model.
    assert res["pages"] == 3 and res["cold"]["requests"] == 3 == res["warm"]["requests"]
    assert res["refresh"]["naive_requests"] == 12 and res["refresh"]["jobs_seen"] == 36
    assert res["requests_within_pages"]


def test_report_renders_every_section_and_survives_missing_results(tmp_path: Path) -> None:
    (tmp_path / "plan.json").write_text(json.dumps({
        "seeded": {"manifests": 2, "jobs": 4, "files": 3, "seed_s": 0.1}, "pages": 3,
        "cold": {"wall_s": 2.0, "requests": 3}, "warm": {"wall_s": 1.0, "requests": 3},
        "refresh": {"observe_s": 0.5, "observe_requests": 3, "naive_s": 1.0,
                    "naive_requests": 2}, "requests_within_pages": True}))
    (tmp_path / "apply.json").write_text("{broken")
    text = report.render(tmp_path, {"plan": {"exit": 0, "quick": True, "args": ["--x"]}})
    assert "| plan, warm hash cache | 1.00 s, 3 requests | 2.00 s cold | 2.00x as fast |" in text
    assert "quick mode (--x); exit 0" in text
    assert "_no results: the benchmark has not produced results/apply.json" in text
    assert text.count("\n## ") == len(report.SECTIONS)


def test_only_selects_known_benchmarks() -> None:
    assert [b.name for b in selected(["apply"])] == ["apply", "apply_ratelimit", "apply_upload"]
    assert [b.name for b in selected(["plan", "scaling"])] == ["plan", "scaling"]
    with pytest.raises(SystemExit, match="unknown benchmark"):
        selected(["nope"])


def test_report_shows_the_goals_against_the_earlier_commit(tmp_path: Path) -> None:
    (tmp_path / "plan.json").write_text(json.dumps({
        "seeded": {"manifests": 2000, "jobs": 20000, "files": 20000, "seed_s": 1.0},
        "pages": 203, "cold": {"wall_s": 2.0, "requests": 203},
        "warm": {"wall_s": 1.0, "requests": 203}, "refresh": {}, "requests_within_pages": True,
        "versus": {"commit": "abc1234", "runs": 1, "plan_before": 9.0, "plan_now": 3.0,
                   "validate_before": 8.0, "validate_now": 2.0, "plan_speedup": 3.0,
                   "validate_speedup": 4.0}}))
    (tmp_path / "scaling.json").write_text(json.dumps({"plan": [
        {"manifests": 1000, "cold_s": 2.0, "warm_s": 1.0, "requests": 12, "pages": 12},
        {"manifests": 10000, "cold_s": 24.0, "warm_s": 12.0, "requests": 102, "pages": 102},
    ]}))
    text = report.render(tmp_path, {})
    assert "the earlier code is commit `abc1234`" in text
    assert "| `ftctl validate`, 2,000 manifests: `abc1234` / now | 4.00x faster |" in text
    assert "| time per manifest at 10,000 / at 1,000 (warm plan) | 1.20x |" in text
    assert "| no-change plan, 2,000 manifests, warm hash cache | 3.00 s | 9.00 s | 3.00x |" \
        in text
