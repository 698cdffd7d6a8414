"""try (app level): the endpoint each model needs (seen on the wire), versions, ids, errors."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.app.operate import NotFound, Refused
from reconciler.app.try_model import Prompt, try_model


@pytest.fixture
def trained(local: Any) -> Any:
    local.project.model("legacy", base="babbage-002")
    local.apply_no_wait()
    local.clock.advance(10_000)
    return local


def test_fine_tuned_chat_model_answers_through_chat_completions(trained: Any) -> None:
    ws = trained.workspace()
    trained.paths.clear()
    result = try_model(ws, "bot", Prompt(text="Where is order 7?", temperature=0.2,
                                         max_tokens=20, system="Be brief."))
    assert result.answer == "Order 7 has tracking number T7."  # learned from its dataset
    assert result.endpoint == "chat" and result.target.name == "bot"
    assert result.target.version == 1 and result.target.model.startswith("ft:gpt-4o-mini")
    assert "POST /v1/chat/completions" in trained.paths
    assert "POST /v1/completions" not in trained.paths


def test_babbage_model_answers_through_completions(trained: Any) -> None:
    ws = trained.workspace()
    trained.paths.clear()
    result = try_model(ws, "legacy", Prompt(text="Colour of item 4 ->"))
    assert result.answer == " blue 4"
    assert result.endpoint == "completions"
    assert result.target.model.startswith("ft:babbage-002:")
    assert result.target.base_model == "babbage-002"
    assert "POST /v1/completions" in trained.paths
    assert "POST /v1/chat/completions" not in trained.paths


def test_raw_model_and_job_ids(trained: Any) -> None:
    ws = trained.workspace()
    jobs = {j.meta("ftctl-name"): j for j in ws.api.list_jobs()}
    legacy = jobs["legacy"]
    by_model = try_model(ws, str(legacy.fine_tuned_model), Prompt(text="Colour of item 2 ->"))
    assert by_model.endpoint == "completions" and by_model.answer == " blue 2"
    by_job = try_model(ws, jobs["bot"].id, Prompt(text="Where is order 1?"))
    assert by_job.endpoint == "chat" and by_job.target.model == jobs["bot"].fine_tuned_model


def test_versions_and_errors(trained: Any) -> None:
    ws = trained.workspace()
    assert try_model(ws, "bot", Prompt(text="hi"), version=1).target.version == 1
    with pytest.raises(NotFound, match=r"bot has no version 2 with a model \(versions with a "
                                       r"model: 1\)"):
        try_model(ws, "bot", Prompt(text="hi"), version=2)
    with pytest.raises(Refused, match="--version selects a version"):
        try_model(ws, "ft:x:y", Prompt(text="hi"), version=1)
    with pytest.raises(NotFound, match="no model named 'ghost'"):
        try_model(ws, "ghost", Prompt(text="hi"))


def test_a_name_without_a_current_version(local: Any) -> None:
    local.apply_no_wait()  # still training: nothing to ask yet
    with pytest.raises(NotFound, match="bot has no serving version"):
        try_model(local.workspace(), "bot", Prompt(text="hi"))
