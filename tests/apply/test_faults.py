"""Apply under every fault kind the emulator injects (429, 5xx, reset, lost, slow) at ~20% of
requests: re-applying converges with nothing lost and nothing duplicated."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.client.api import RemoteApi
from reconciler.planner.identity import META_NAME

from .conftest import FakeClock, Project, api_for, check_records
from .test_lifecycle import apply, plan_now

EVERY_FAULT = "429:0.04,500:0.03,502:0.02,503:0.02,504:0.02,reset:0.03,lost:0.03,slow:0.01"




@pytest.mark.parametrize("seed", [1, 2])
def test_every_fault_kind_still_converges(make_emulator: Any, project: Project,
                                          clock: FakeClock, seed: int) -> None:
    faulty = api_for(make_emulator(faults=EVERY_FAULT, seed=seed), max_retries=6)
    names = {"alpha", "beta", "gamma", "child"}
    for name in ("alpha", "beta", "gamma"):
        project.model(name)
    project.model("child", base="ref:alpha", data=project.data("kid"))
    reports = []
    for _ in range(4):
        reports.append(apply(project, faulty, clock))
        if reports[-1].ok and not plan_now(project, faulty).changes:
            break
    clean = api_for(make_emulator())
    assert not plan_now(project, clean).changes, [r.results for r in reports]
    check_records(clean, names)


def test_a_provider_error_on_one_model_is_reported_and_others_proceed(
    project: Project, api: RemoteApi, clock: FakeClock
) -> None:
    project.model("good")
    project.model("bad", base="gpt-4o-mini-2024-07-18")
    # A base the provider lists (so plan has no objection) but refuses to fine-tune: a
    # permanent error, only for this model's chain.
    text = (project.root / "models" / "bad.yaml").read_text()
    (project.root / "models" / "bad.yaml").write_text(
        text.replace("gpt-4o-mini-2024-07-18", "gpt-4o-2024-05-13"))
    report = apply(project, api, clock)
    assert not report.ok
    failed = {r.key: r.message for r in report.results if r.status.value == "failed"}
    assert list(failed) == ["bad/create-job"] and "not available" in failed["bad/create-job"]
    assert [j.meta(META_NAME) for j in api.list_jobs()] == ["good"]
