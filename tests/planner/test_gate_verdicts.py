"""A gate with an evaluation, as stamped on the provider: the literal gate identity (unchanged
for checks alone, so no fleet-wide re-verify), the literal verdict name and bytes with metrics,
and the model-state rules (a version with only an evaluation is gated; a refused one never
serves)."""

from __future__ import annotations

import json
from dataclasses import replace

from builders import a_desired, a_job_for, a_manifest, a_snapshot, files_for

from reconciler.checks import verdict_record
from reconciler.evaluation.verdict import Metric, Outcome
from reconciler.events import CheckResult
from reconciler.plan import VerifyModel
from reconciler.planner.state import ModelState, Verdict, build_state
from reconciler.planner.verdicts import (
    RecordedVerdict,
    gate_id,
    parse_verdict_file_name,
    recorded_metrics,
    verdict_bytes,
    verdict_file_name,
)
from reconciler.snapshot import RemoteFile
from reconciler.spec import Check, DatasetRef, Evaluation, Grader, GraderType, Promotion

CHECKS = (Check(prompt="Where is my order?", expect_contains="tracking"),)
EVALUATION = Evaluation(
    dataset=DatasetRef(path="../evals/support.jsonl", repo_path="evals/support.jsonl"),
    graders=(Grader(name="exact", type=GraderType.EXACT_MATCH),
             Grader(name="mentions", type=GraderType.CONTAINS)),
    promote=Promotion(minimum=(("exact", 0.5),), max_regression=(("exact", 0.05),)),
    dataset_sha256="5" * 64,
)
MODEL = "ft:gpt-4o-mini-2024-07-18:acme:support-bot:x2"
SERVING = "ft:gpt-4o-mini-2024-07-18:acme:support-bot:x1"


def test_checks_alone_keep_the_identity_their_verdicts_were_recorded_under() -> None:
    # The literal of test_verdicts.py's golden: a manifest with checks and no evaluation is
    # not verified again because evaluations now exist.
    assert gate_id(CHECKS, None) == "a82df04e8f36520b"


def test_golden_gate_identity_with_an_evaluation() -> None:
    assert gate_id(CHECKS, EVALUATION) == "d12d31384f748b14"
    assert gate_id((), EVALUATION) == "78fcd71f0d81ac34"


def test_the_eval_set_graders_and_rule_are_part_of_the_identity() -> None:
    changed = [
        replace(EVALUATION, dataset_sha256="6" * 64),
        replace(EVALUATION, graders=EVALUATION.graders[:1]),
        replace(EVALUATION, promote=Promotion(minimum=(("exact", 0.6),))),
        replace(EVALUATION, promote=Promotion(minimum=(("exact", 0.5),),
                                              max_regression=(("exact", 0.1),))),
    ]
    ids = {gate_id(CHECKS, e) for e in changed}
    assert len(ids) == len(changed) and gate_id(CHECKS, EVALUATION) not in ids
    # Where the eval set is written does not matter, only what it holds.
    moved = replace(EVALUATION, dataset=DatasetRef(path="e.jsonl", repo_path="e.jsonl"))
    assert gate_id(CHECKS, moved) == gate_id(CHECKS, EVALUATION)


def _outcome(candidate: float, refusals: tuple[str, ...] = ()) -> Outcome:
    return Outcome(name="support-bot", candidate=MODEL, serving=SERVING, examples=10,
                   metrics=(Metric(grader="exact", candidate=candidate, serving=0.9),
                            Metric(grader="mentions", candidate=1.0, serving=1.0)),
                   refusals=refusals)


def _request() -> VerifyModel:
    return VerifyModel(name="support-bot", job_id="ftjob-x2", model_id=MODEL,
                       base_model="gpt-4o-mini-2024-07-18", version=2, checks=CHECKS,
                       checks_id=gate_id(CHECKS, EVALUATION))


def _passed_check() -> CheckResult:
    return CheckResult(name="support-bot", model=MODEL, index=1, prompt="Where is my order?",
                       passed=True, answer="tracking 1")


def test_golden_verdict_of_a_refused_evaluation() -> None:
    refusal = ("exact fell 0.1 below the serving version (0.9 -> 0.8), more than "
               "max_regression 0.05")
    record = verdict_record(_request(), [_passed_check()], _outcome(0.8, (refusal,)))
    assert record.file_name == "ftctl-verdict-ftjob-x2-d12d31384f748b14-refused.jsonl"
    assert verdict_bytes(record) == (
        b'{"checks":"d12d31384f748b14","evaluation":{"examples":10,"refusals":["exact fell '
        b'0.1 below the serving version (0.9 -> 0.8), more than max_regression 0.05"],'
        b'"serving":"ft:gpt-4o-mini-2024-07-18:acme:support-bot:x1"},"failures":[],'
        b'"format":1,"job":"ftjob-x2","metrics":{"exact":{"candidate":0.8,"delta":-0.1,'
        b'"serving":0.9},"mentions":{"candidate":1.0,"delta":0.0,"serving":1.0}},'
        b'"model":"ft:gpt-4o-mini-2024-07-18:acme:support-bot:x2","name":"support-bot",'
        b'"verdict":"refused"}\n'
    )
    assert recorded_metrics(json.loads(verdict_bytes(record))) == {
        "exact": 0.8, "mentions": 1.0}


def test_golden_verdict_of_a_passed_evaluation_and_of_failed_checks() -> None:
    passed = verdict_record(_request(), [_passed_check()], _outcome(0.95))
    assert passed.file_name == "ftctl-verdict-ftjob-x2-d12d31384f748b14-passed.jsonl"
    assert b'"verdict":"passed"' in verdict_bytes(passed)
    failed_check = replace(_passed_check(), passed=False, reason="expected it to contain "
                                                                 "'tracking', got 'no'")
    failed = verdict_record(_request(), [failed_check], None)  # the evaluation never ran
    assert failed.file_name == "ftctl-verdict-ftjob-x2-d12d31384f748b14-failed.jsonl"
    assert b'"evaluation"' not in verdict_bytes(failed)


def test_parsing_a_refused_verdict() -> None:
    name = "ftctl-verdict-ftjob-1-0123456789abcdef-refused.jsonl"
    expected = RecordedVerdict(job_id="ftjob-1", checks_id="0123456789abcdef", passed=False,
                               refused=True)
    assert parse_verdict_file_name(name) == expected
    assert verdict_file_name("ftjob-1", "0123456789abcdef", passed=False, refused=True) == name


def _state(outcomes: tuple[str, ...], evaluation: Evaluation | None = EVALUATION,
           checks: tuple[Check, ...] = ()) -> ModelState:
    """bot with only an evaluation: one version per recorded outcome, plus one not checked."""
    manifest = a_manifest("bot")
    spec = replace(manifest.spec, checks=checks, evaluation=evaluation)
    desired = a_desired(replace(manifest, spec=spec))
    jobs = [a_job_for(desired, "bot", id=f"ftjob-{n}", version=n)
            for n in range(1, len(outcomes) + 2)]
    gate = gate_id(checks, EVALUATION)
    verdicts = tuple(
        RemoteFile(id=f"file-verdict-{job.id}", bytes=300, purpose="fine-tune", created_at=2,
                   status="processed", filename=verdict_file_name(
                       job.id, gate, passed=outcome == "passed", refused=outcome == "refused"))
        for job, outcome in zip(jobs, outcomes, strict=False)
    )
    return build_state(desired, a_snapshot(jobs=jobs, files=(*files_for(desired), *verdicts)))[
        "bot"]


def test_a_version_with_only_an_evaluation_is_gated() -> None:
    state = _state(("passed", "refused"))
    assert state.checks_id == gate_id((), EVALUATION)
    assert [v.verdict for v in state.versions] == [Verdict.PASSED, Verdict.REFUSED,
                                                   Verdict.NOT_RUN]
    assert [v.verdict_file for v in state.versions] == ["file-verdict-ftjob-1",
                                                        "file-verdict-ftjob-2", None]
    assert state.serving is not None and state.serving.number == 1
    assert state.versions[1].rejected and not state.versions[1].may_serve


def test_a_new_rule_keeps_the_measured_version_serving_until_verified_again() -> None:
    stricter = replace(EVALUATION, promote=Promotion(minimum=(("exact", 0.7),)))
    state = _state(("passed",), evaluation=stricter)
    first = state.versions[0]
    assert (first.verdict, first.verified_before) == (Verdict.NOT_RUN, True)
    assert first.verdict_file == "file-verdict-ftjob-1"  # where its metrics are recorded
    assert state.serving is first


def test_without_checks_or_evaluation_nothing_is_gated() -> None:
    state = _state(("refused",), evaluation=None)
    assert state.checks_id is None
    assert [v.verdict for v in state.versions] == [Verdict.NO_CHECKS, Verdict.NO_CHECKS]
