"""The emulator refuses reinforcement graders OpenAI refuses: a multi grader's `graders` must
map a name to a grader that is not itself multi; a grader needs a known type."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

EXACT = {"type": "string_check", "name": "exact", "input": "{{sample.output_text}}",
         "reference": "{{item.answer}}", "operation": "eq"}
MULTI = {"type": "multi", "name": "m", "calculate_output": "exact", "graders": {"exact": EXACT}}


def create(http: httpx.Client, data: Path, grader: dict[str, Any]) -> httpx.Response:
    with data.open("rb") as fh:
        fid = http.post("/files", files={"file": ("t.jsonl", fh)},
                        data={"purpose": "fine-tune"}).json()["id"]
    return http.post("/fine_tuning/jobs", json={
        "model": "o4-mini-2025-04-16", "training_file": fid,
        "method": {"type": "reinforcement", "reinforcement": {"grader": grader}}})


def test_a_multi_grader_with_a_map_of_graders_is_taken_and_echoed(
    emulator_http: httpx.Client, chat_dataset: Path
) -> None:
    answer = create(emulator_http, chat_dataset, MULTI)
    assert answer.status_code == 200, answer.text
    assert answer.json()["method"]["reinforcement"]["grader"] == MULTI


@pytest.mark.parametrize(("grader", "param"), [
    ({**MULTI, "graders": [EXACT]}, "method.reinforcement.grader.graders"),
    ({**MULTI, "graders": EXACT}, "method.reinforcement.grader.graders.type"),
    ({**MULTI, "graders": {}}, "method.reinforcement.grader.graders"),
    ({**MULTI, "graders": {"inner": MULTI}}, "method.reinforcement.grader.graders.inner"),
    ({k: v for k, v in MULTI.items() if k != "calculate_output"},
     "method.reinforcement.grader.calculate_output"),
    ({**EXACT, "type": "exact_match"}, "method.reinforcement.grader.type"),
])
def test_graders_openai_refuses_are_refused(
    emulator_http: httpx.Client, chat_dataset: Path, grader: dict[str, Any], param: str
) -> None:
    answer = create(emulator_http, chat_dataset, grader)
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == param
    assert emulator_http.get("/fine_tuning/jobs").json()["data"] == []
