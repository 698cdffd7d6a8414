"""Run a manifest's `checks` against a newly trained model: the gate before retiring old versions.

`run_gate` is the whole gate: the checks, then the evaluation against the serving version when
the manifest has one (its result carries the metrics). Chat models are asked through chat
completions; the legacy completion bases (babbage-002, davinci-002) and models fine-tuned from
them through completions. Only reads the remote.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol

from reconciler.errors import ApiError
from reconciler.evaluation.runner import EvalRequest, evaluate
from reconciler.events import CheckResult
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
        try:
            answer = ask(api, model, check, completions=completions)
            reason = verdict(check, answer)
        except ApiError as exc:
            answer, reason = "", f"the model could not be queried: {exc}"
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
            )
        )
    return tuple(results)


def run_gate(
    api: ModelCaller,
    name: str,
    model: str,
    checks: Sequence[Check],
    *,
    base_model: str | None = None,
    evaluation: EvalRequest | None = None,
) -> tuple[CheckResult, ...]:
    """The gate a new version must pass before it serves: every check, then the evaluation."""
    results = run_checks(api, name, model, checks, base_model=base_model)
    if evaluation is None:
        return results
    return (*results, run_evaluation(api, name, model, evaluation, base_model=base_model))


def run_evaluation(api: ModelCaller, name: str, model: str, request: EvalRequest, *,
                   base_model: str | None = None) -> CheckResult:
    """The evaluation of `model` against request.serving, as the gate's result."""

    def answer(target: str, messages: list[dict[str, Any]]) -> str:
        # Greedy decoding: the same model gives the same answers, so scores can be cached.
        if uses_completions(target, base_model):
            prompt = "\n\n".join(str(m.get("content") or "") for m in messages)
            return api.complete(target, prompt, temperature=0)
        return api.chat(target, messages, temperature=0)

    outcome = evaluate(answer, name, model, request)
    return CheckResult(name=name, model=model, index=0,
                       prompt=f"evaluation on {request.evalset.repo_path}",
                       passed=outcome.passed, reason=outcome.reason, evaluation=outcome)


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
