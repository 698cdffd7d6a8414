"""Checks verdicts as stamped on the provider: literal golden name and bytes, parsing, and the
model-state rules they feed (which version serves)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from builders import (
    a_desired,
    a_job_for,
    a_manifest,
    a_snapshot,
    a_verdict_file,
    files_for,
)

from reconciler.plan import Action, CreateJob, NoChange, Reason
from reconciler.planner import plan
from reconciler.planner.state import ModelState, Verdict, build_state
from reconciler.planner.verdicts import (
    RecordedVerdict,
    VerdictRecord,
    checks_id,
    parse_verdict_file_name,
    verdict_bytes,
    verdict_file_name,
)
from reconciler.snapshot import RemoteJob
from reconciler.spec import Check, Manifest, UpdatePolicy

CHECKS = (Check(prompt="Where is my order?", expect_contains="tracking"),)


def test_golden_verdict_file_name_and_bytes() -> None:
    assert checks_id(CHECKS) == "a82df04e8f36520b"
    record = VerdictRecord(
        name="support-bot", job_id="ftjob-abc123",
        model_id="ft:gpt-4o-mini-2024-07-18:acme:support-bot:x1", checks_id=checks_id(CHECKS),
        passed=False, failures=((1, "expected it to contain 'tracking', got 'Sorry'"),),
    )
    assert record.file_name == "ftctl-verdict-ftjob-abc123-a82df04e8f36520b-failed.jsonl"
    assert verdict_bytes(record) == (
        b'{"checks":"a82df04e8f36520b","failures":[{"check":1,"reason":"expected it to contain '
        b'\'tracking\', got \'Sorry\'"}],"format":1,"job":"ftjob-abc123","metrics":{},'
        b'"model":"ft:gpt-4o-mini-2024-07-18:acme:support-bot:x1","name":"support-bot",'
        b'"verdict":"failed"}\n'
    )
    passed = replace(record, passed=True, failures=(),
                     metrics={"grader": {"serving": 0.71, "candidate": 0.8}})
    assert passed.file_name == "ftctl-verdict-ftjob-abc123-a82df04e8f36520b-passed.jsonl"
    assert verdict_bytes(passed) == (
        b'{"checks":"a82df04e8f36520b","failures":[],"format":1,"job":"ftjob-abc123",'
        b'"metrics":{"grader":{"candidate":0.8,"serving":0.71}},'
        b'"model":"ft:gpt-4o-mini-2024-07-18:acme:support-bot:x1","name":"support-bot",'
        b'"verdict":"passed"}\n'
    )


def test_any_change_to_the_checks_is_a_new_identity() -> None:
    assert checks_id(CHECKS) != checks_id((replace(CHECKS[0], expect_contains="Tracking"),))
    assert checks_id(CHECKS) != checks_id((*CHECKS, Check(prompt="Hi")))


@pytest.mark.parametrize(("name", "expected"), [
    ("ftctl-verdict-ftjob-a-b-0123456789abcdef-passed.jsonl",
     RecordedVerdict(job_id="ftjob-a-b", checks_id="0123456789abcdef", passed=True)),
    ("ftctl-verdict-ftjob-1-0123456789abcdef-failed.jsonl",
     RecordedVerdict(job_id="ftjob-1", checks_id="0123456789abcdef", passed=False)),
    ("ftctl-verdict-ftjob-1-0123456789abcdef-maybe.jsonl", None),
    ("ftctl-verdict-ftjob-1-0123456789ABCDEF-passed.jsonl", None),
    ("ftctl-verdict--0123456789abcdef-passed.jsonl", None),
    ("ftctl-" + "a" * 64 + ".jsonl", None),
    ("train.jsonl", None),
])
def test_parsing_verdict_file_names(name: str, expected: RecordedVerdict | None) -> None:
    assert parse_verdict_file_name(name) == expected
    if expected is not None:
        assert verdict_file_name(expected.job_id, expected.checks_id,
                                 passed=expected.passed) == name


def _state(*verdicts: bool, checks: tuple[Check, ...] = CHECKS,
           recorded_for: tuple[Check, ...] = CHECKS) -> tuple[ModelState, list[RemoteJob]]:
    """bot with one version per verdict (recorded for `recorded_for`) plus one unchecked."""
    manifest = a_manifest("bot")
    desired = a_desired(replace(manifest, spec=replace(manifest.spec, checks=checks)))
    jobs = [a_job_for(desired, "bot", id=f"ftjob-{n}", version=n)
            for n in range(1, len(verdicts) + 2)]
    files = (*files_for(desired), *(a_verdict_file(j, recorded_for, passed=p)
                                    for j, p in zip(jobs, verdicts, strict=False)))
    return build_state(desired, a_snapshot(jobs=jobs, files=files))["bot"], jobs


def test_the_newest_passed_version_serves_and_a_failed_one_never_does() -> None:
    state, jobs = _state(True, False)  # v1 passed, v2 failed, v3 not checked
    assert [v.verdict for v in state.versions] == [Verdict.PASSED, Verdict.FAILED,
                                                   Verdict.NOT_RUN]
    assert state.candidate is not None and state.candidate.job.id == jobs[2].id
    assert state.serving is not None and state.serving.job.id == jobs[0].id


def test_a_version_checked_under_earlier_checks_keeps_serving_until_checked_again() -> None:
    new = (Check(prompt="Hi", expect_contains="Hello"),)
    state, jobs = _state(True, checks=new)  # v1 passed the old checks, v2 never checked
    v1 = state.versions[0]
    assert (v1.verdict, v1.verified_before) == (Verdict.NOT_RUN, True)
    assert state.serving is not None and state.serving.job.id == jobs[0].id


def test_without_checks_every_trained_version_may_serve() -> None:
    state, jobs = _state(False, checks=())  # a failed verdict under checks since removed
    assert [v.verdict for v in state.versions] == [Verdict.NO_CHECKS, Verdict.NO_CHECKS]
    assert state.serving is not None and state.serving.job.id == jobs[1].id


def _checked(manifest: Manifest) -> Manifest:
    return replace(manifest, spec=replace(manifest.spec, checks=CHECKS))


def test_continue_trains_from_the_serving_version_never_from_a_failed_one() -> None:
    old = a_desired(_checked(a_manifest("bot", update=UpdatePolicy.CONTINUE)))
    v1 = a_job_for(old, "bot", id="ftjob-1")
    v2 = a_job_for(old, "bot", id="ftjob-2", version=2, model=v1.fine_tuned_model)
    files = (*files_for(old), a_verdict_file(v1, CHECKS, passed=True, created_at=2),
             a_verdict_file(v2, CHECKS, passed=False, created_at=3))
    new = a_desired(_checked(a_manifest("bot", update=UpdatePolicy.CONTINUE,
                                        hyperparameters={"n_epochs": 5})))
    result = plan(new, a_snapshot(jobs=[v1, v2], files=files))
    create = next(s for s in result.steps if s.key == "bot/create-job")
    assert create.action is Action.CONTINUE
    assert isinstance(create.payload, CreateJob) and create.payload.model == v1.fine_tuned_model


def test_going_back_to_the_serving_version_spec_trains_nothing() -> None:
    old = a_desired(_checked(a_manifest("bot", hyperparameters={"n_epochs": 2})))
    new = a_desired(_checked(a_manifest("bot", hyperparameters={"n_epochs": 4})))
    v1 = a_job_for(old, "bot", id="ftjob-1")
    v2 = a_job_for(new, "bot", id="ftjob-2", version=2)
    files = (*files_for(old), a_verdict_file(v1, CHECKS, passed=True, created_at=2),
             a_verdict_file(v2, CHECKS, passed=False, created_at=3))
    reverted = plan(old, a_snapshot(jobs=[v1, v2], files=files))
    assert not reverted.changes and reverted.converged
    (step,) = reverted.steps
    assert step.reason is Reason.UNCHANGED and step.payload == NoChange(
        job_id="ftjob-1", model_id=v1.fine_tuned_model, status="succeeded", version=1)
    stuck = plan(new, a_snapshot(jobs=[v1, v2], files=files))
    assert [s.reason for s in stuck.steps] == [Reason.CHECKS_FAILED] and not stuck.converged
