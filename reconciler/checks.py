"""The gate: a trained version's `checks`, then its evaluation, and the one verdict recorded.

A version serves, and older versions are retired, only once its gate passed: every check, then
(when the manifest has `spec.evaluation`) the evaluation against the version serving when the
step was planned. Chat models are asked through chat completions; the legacy completion bases
(babbage-002, davinci-002) and models fine-tuned from them through completions. The verdict,
with the evaluation's metrics, is recorded on the provider as a small file (planner.verdicts),
so it outlives the machine that reached it; that upload is the only write here.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from typing import Any, Protocol

from reconciler.errors import ApiError, FtctlError, PermanentApiError
from reconciler.evaluation.runner import EvalRequest, evaluate
from reconciler.evaluation.verdict import Outcome
from reconciler.events import CheckResult
from reconciler.plan import VerifyModel
from reconciler.planner.verdicts import (
    VERDICT_PREFIX,
    VERDICT_PURPOSE,
    EvaluationRecord,
    VerdictRecord,
    verdict_bytes,
)
from reconciler.snapshot import RemoteFile
from reconciler.spec import Check

COMPLETION_BASES = ("babbage-002", "davinci-002")


class ModelCaller(Protocol):
    """The part of RemoteApi the checks need."""

    def chat(
        self,
        model: str,
        messages: list[dict[str, Any]],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> str: ...

    def complete(
        self,
        model: str,
        prompt: str,
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> str: ...


class VerdictStore(Protocol):
    """The part of RemoteApi that records verdicts."""

    def find_file(self, filename: str, size: int, purpose: str = ...) -> RemoteFile | None: ...

    def upload_file(self, path: str, *, filename: str, purpose: str = ...) -> RemoteFile: ...


class GateApi(ModelCaller, VerdictStore, Protocol):
    """What the gate needs of the remote: ask the model, record the verdict."""


class VerdictNotRecorded(FtctlError):
    """The provider did not store a checks verdict: without it no later run can tell whether
    the version passed, so the version is not treated as checked."""


def gate(
    api: GateApi, request: VerifyModel, *, evaluation: EvalRequest | None = None
) -> tuple[CheckResult, ...]:
    """Run the gate of a trained version, then record its verdict on the provider.

    The one call the executor makes for a version's gate: every check, then, when they all
    passed and the manifest has one, the evaluation (request.checks_id is the identity of the
    whole gate). Not gated: nothing to run or record. A model that could not be asked (the
    provider failed, after the client's retries) records nothing: the step fails and the next
    plan verifies the version again, rather than a passing model being marked failed for good."""
    checks = [c for c in request.checks if isinstance(c, Check)]
    if not checks and evaluation is None:
        return ()
    results = run_checks(api, request.name, request.model_id, checks,
                         base_model=request.base_model)
    if any(r.unanswered for r in results):
        return results
    outcome = None
    if evaluation is not None and all(r.passed for r in results):
        evaluated = run_evaluation(api, request.name, request.model_id, evaluation,
                                   base_model=request.base_model)
        results, outcome = (*results, evaluated), evaluated.evaluation
        if evaluated.unanswered:
            return results
    record_verdict(api, verdict_record(request, results, outcome))
    return results


def verdict_record(request: VerifyModel, results: Sequence[CheckResult],
                   outcome: Outcome | None) -> VerdictRecord:
    """What the verdict file says: passed, the failed checks, the evaluation's metrics."""
    failures = tuple((r.index, r.reason) for r in results if not r.passed and r.index)
    if outcome is None:
        return VerdictRecord(name=request.name, job_id=request.job_id,
                             model_id=request.model_id, checks_id=request.checks_id,
                             passed=not failures, failures=failures)
    metrics: dict[str, object] = {
        m.grader: {"serving": m.serving, "candidate": m.candidate, "delta": m.delta}
        for m in outcome.metrics
    }
    return VerdictRecord(
        name=request.name, job_id=request.job_id, model_id=request.model_id,
        checks_id=request.checks_id, passed=not failures and outcome.passed,
        failures=failures, metrics=metrics,
        evaluation=EvaluationRecord(serving=outcome.serving, examples=outcome.examples,
                                    refusals=outcome.refusals),
    )


def record_verdict(api: VerdictStore, record: VerdictRecord) -> None:
    """Upload the verdict file once: a retry or a resumed apply finds it and stops."""
    data = verdict_bytes(record)
    name = record.file_name
    if api.find_file(name, len(data), VERDICT_PURPOSE) is not None:
        return
    with tempfile.TemporaryDirectory(prefix="ftctl-verdict") as tmp:
        path = os.path.join(tmp, name)
        with open(path, "wb") as fh:
            fh.write(data)
        try:
            api.upload_file(path, filename=name, purpose=VERDICT_PURPOSE)
        except PermanentApiError as exc:
            raise VerdictNotRecorded(
                f"the provider refused to store the checks verdict of job {record.job_id} "
                f"({exc}); ftctl records verdicts as small files named {VERDICT_PREFIX}…, "
                f"purpose {VERDICT_PURPOSE}, and without one it cannot tell later whether "
                f"{record.model_id} passed its checks"
            ) from exc


def uses_completions(model: str, base_model: str | None = None) -> bool:
    """True for the completion-only bases and models fine-tuned from them (ft:babbage-002:...)."""
    candidates = [model, base_model or ""]
    if model.startswith("ft:"):
        candidates.append(model.split(":")[1])
    return any(c.startswith(base) for c in candidates for base in COMPLETION_BASES)


def verdict(check: Check, answer: str) -> str:
    """Empty when the answer meets every expectation of the check, else why it does not."""
    if check.expect_equals is not None and answer.strip() != check.expect_equals.strip():
        return f"expected exactly {check.expect_equals!r}"
    if check.expect_contains is not None and check.expect_contains not in answer:
        return f"expected it to contain {check.expect_contains!r}"
    if check.expect_not_contains is not None and check.expect_not_contains in answer:
        return f"expected it not to contain {check.expect_not_contains!r}"
    if check.expect_regex is not None and re.search(check.expect_regex, answer) is None:
        return f"expected it to match /{check.expect_regex}/"
    return ""


def ask(api: ModelCaller, model: str, check: Check, *, completions: bool) -> str:
    """The model's answer to the check's prompt."""
    if completions:
        prompt = f"{check.system}\n\n{check.prompt}" if check.system else check.prompt
        return api.complete(
            model, prompt, max_tokens=check.max_tokens, temperature=check.temperature
        )
    messages = [{"role": "system", "content": check.system}] if check.system else []
    messages.append({"role": "user", "content": check.prompt})
    return api.chat(model, messages, max_tokens=check.max_tokens, temperature=check.temperature)


def run_checks(
    api: ModelCaller,
    name: str,
    model: str,
    checks: Sequence[Check],
    *,
    base_model: str | None = None,
) -> tuple[CheckResult, ...]:
    """Run every check (not stopping at the first failure, so the user sees them all)."""
    completions = uses_completions(model, base_model)
    results = []
    for index, check in enumerate(checks, start=1):
        unanswered = False
        try:
            answer = ask(api, model, check, completions=completions)
            reason = verdict(check, answer)
        except ApiError as exc:
            answer, reason, unanswered = "", f"the model could not be queried: {exc}", True
        if reason:
            reason = f"{reason}, got {_clip(answer)!r}" if answer else reason
        results.append(
            CheckResult(
                name=name,
                model=model,
                index=index,
                prompt=check.prompt,
                passed=not reason,
                answer=answer,
                reason=reason,
                unanswered=unanswered,
            )
        )
    return tuple(results)


def run_evaluation(api: ModelCaller, name: str, model: str, request: EvalRequest, *,
                   base_model: str | None = None) -> CheckResult:
    """The evaluation of `model` against request.serving, as the gate's result (index 0;
    unanswered when a model could not be asked: no verdict is reached then)."""

    def answer(target: str, messages: list[dict[str, Any]]) -> str:
        # Greedy decoding: the same model gives the same answers, so scores can be cached.
        if uses_completions(target, base_model):
            prompt = "\n\n".join(str(m.get("content") or "") for m in messages)
            return api.complete(target, prompt, temperature=0)
        return api.chat(target, messages, temperature=0)

    outcome = evaluate(answer, name, model, request)
    return CheckResult(name=name, model=model, index=0,
                       prompt=f"evaluation on {request.evalset.repo_path}",
                       passed=outcome.passed, reason=outcome.reason, evaluation=outcome,
                       unanswered=bool(outcome.error))


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
