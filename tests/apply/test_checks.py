"""Manifest checks: the expectation rules, chat vs completions, and a real model's answers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reconciler.checks import (
    VerdictNotRecorded,
    gate,
    record_verdict,
    run_checks,
    uses_completions,
    verdict,
)
from reconciler.client.api import RemoteApi
from reconciler.errors import PermanentApiError
from reconciler.executor import ExecOptions, execute
from reconciler.plan import Plan, VerifyModel
from reconciler.planner.verdicts import VerdictRecord, verdict_bytes
from reconciler.spec import Check

from .conftest import WORKSPACE, FakeClock, Recorder, Steps


@pytest.mark.parametrize(
    ("check", "answer", "ok"),
    [
        (Check(prompt="p", expect_contains="track"), "your tracking id", True),
        (Check(prompt="p", expect_contains="track"), "no idea", False),
        (Check(prompt="p", expect_not_contains="sorry"), "sure", True),
        (Check(prompt="p", expect_not_contains="sorry"), "sorry, no", False),
        (Check(prompt="p", expect_equals="yes"), " yes\n", True),
        (Check(prompt="p", expect_equals="yes"), "yes!", False),
        (Check(prompt="p", expect_regex=r"^\d+$"), "42", True),
        (Check(prompt="p", expect_regex=r"^\d+$"), "forty-two", False),
        (Check(prompt="p", expect_contains="a", expect_not_contains="b"), "ab", False),
        (Check(prompt="p"), "anything", True),
    ],
)
def test_verdict(check: Check, answer: str, ok: bool) -> None:
    assert (verdict(check, answer) == "") is ok


def test_completion_models_are_recognised() -> None:
    assert uses_completions("babbage-002")
    assert uses_completions("ft:davinci-002:org:bot:abc")
    assert uses_completions("ft:x", base_model="babbage-002")
    assert not uses_completions("ft:gpt-4o-mini-2024-07-18:org:bot:abc")
    assert not uses_completions("gpt-4.1-mini-2025-04-14")


def _train(api: RemoteApi, steps: Steps, clock: FakeClock, name: str, base: str,
           text: str | None = None) -> str:
    up = steps.upload(name, text)
    from reconciler.plan import FromStep

    create = steps.create(name, training=FromStep(key=up.key, field="id"), model=base,
                          depends_on=(up.key,))
    plan = Plan(workspace=WORKSPACE, snapshot_fingerprint="x", steps=(up, create))
    done = execute(plan, api, Recorder(), ExecOptions(root=str(steps.root)), clock=clock,
                   sleep=clock.advance)
    model = done.jobs[0].fine_tuned_model
    assert model
    return model


def test_checks_run_against_a_chat_model_and_report_every_failure(
    api: RemoteApi, steps: Steps, clock: FakeClock
) -> None:
    model = _train(api, steps, clock, "bot", "gpt-4o-mini-2024-07-18")
    results = run_checks(api, "bot", model, [
        Check(prompt="bot question 4", expect_contains="bot answer 4"),
        Check(prompt="bot question 5", expect_contains="refund"),
        Check(prompt="bot question 6", expect_equals="nope"),
    ])
    assert [r.passed for r in results] == [True, False, False]
    assert [r.index for r in results] == [1, 2, 3]
    assert "refund" in results[1].reason and "bot answer 5" in results[1].reason


def test_checks_use_completions_for_completion_bases(api: RemoteApi, steps: Steps,
                                                     clock: FakeClock) -> None:
    rows = [json.dumps({"prompt": f"ask {i} ->", "completion": f" reply {i}"}) for i in range(12)]
    model = _train(api, steps, clock, "legacy", "babbage-002", "\n".join(rows) + "\n")
    results = run_checks(api, "legacy", model, [Check(prompt="ask 3 ->",
                                                      expect_contains="reply 3")])
    assert results[0].passed, results


def test_a_model_that_cannot_be_queried_fails_its_check(api: RemoteApi) -> None:
    results = run_checks(api, "bot", "ft:gpt-4o-mini-2024-07-18:org:bot:gone",
                         [Check(prompt="hi", expect_contains="x")])
    assert not results[0].passed
    assert "could not be queried" in results[0].reason


def test_a_checks_max_tokens_reaches_the_model(api: RemoteApi, steps: Steps,
                                               clock: FakeClock) -> None:
    model = _train(api, steps, clock, "bot", "gpt-4o-mini-2024-07-18")
    [short] = run_checks(api, "bot", model, [
        Check(prompt="bot question 4", expect_equals="bot answer 4", max_tokens=2)])
    assert short.answer == "bot answer"  # cut at two tokens, as the provider does
    assert not short.passed


def _record(passed: bool = True) -> VerdictRecord:
    return VerdictRecord(name="bot", job_id="ftjob-1", model_id="ft:m", checks_id="0" * 16,
                         passed=passed)


def test_a_verdict_is_recorded_once_under_its_name(api: RemoteApi) -> None:
    record_verdict(api, _record())
    record_verdict(api, _record())  # a retry, or a resumed apply
    (found,) = [f for f in api.list_files("fine-tune") if f.filename.startswith("ftctl-verdict")]
    assert found.filename == "ftctl-verdict-ftjob-1-0000000000000000-passed.jsonl"
    assert found.bytes == len(verdict_bytes(_record()))


class _Refusing:
    """A provider that does not accept the verdict file (e.g. an API without the Files API)."""

    def find_file(self, filename: str, size: int, purpose: str = "fine-tune") -> None:
        return None

    def upload_file(self, path: str, *, filename: str, purpose: str = "fine-tune") -> Any:
        raise PermanentApiError("Invalid purpose", status=400)


def test_a_provider_that_cannot_store_a_verdict_is_a_clear_error() -> None:
    with pytest.raises(VerdictNotRecorded) as info:
        record_verdict(_Refusing(), _record(passed=False))
    message = str(info.value)
    assert "refused to store the checks verdict of job ftjob-1" in message
    assert "ftctl-verdict-" in message and "Invalid purpose" in message


def test_a_model_that_cannot_be_queried_records_no_verdict(api: RemoteApi) -> None:
    request = VerifyModel(name="bot", job_id="ftjob-x", model_id="ft:gpt-4o-mini:org:gone:1",
                          base_model="gpt-4o-mini-2024-07-18", version=1,
                          checks=(Check(prompt="hi", expect_contains="hello"),),
                          checks_id="0" * 16)
    (result,) = gate(api, request)
    assert not result.passed and result.unanswered
    assert "could not be queried" in result.reason
    assert not [f for f in api.list_files("fine-tune") if f.filename.startswith("ftctl-verdict")]
