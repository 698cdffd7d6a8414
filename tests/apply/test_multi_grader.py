"""The multi grader end to end: manifest -> the body apply sends -> the job the emulator keeps,
each held to OpenAI's contract, in which `graders` maps a name (a variable of
`calculate_output`) to a grader (tests/openapi: the reduced contract, corrected as
scripts/reduce_openapi.py explains)."""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from reconciler.app.apply import ApplyOptions, run_apply
from reconciler.client.api import RemoteApi
from reconciler.spec import Settings

from .conftest import FakeClock, Recorder

TESTS = Path(__file__).resolve().parents[1]
CONTRACT = json.loads((TESTS / "openapi" / "openai-fine-tuning.reduced.json").read_text())
GRADERS = {
    "exact": {"type": "string_check", "name": "exact", "input": "{{sample.output_text}}",
              "reference": "{{item.reference_answer}}", "operation": "eq"},
    "similar": {"type": "text_similarity", "name": "similar", "input": "{{sample.output_text}}",
                "reference": "{{item.reference_answer}}", "evaluation_metric": "fuzzy_match"},
}


def conforms(schema_name: str, value: Any) -> None:
    schema = {"$ref": f"#/components/schemas/{schema_name}",
              "components": CONTRACT["components"]}
    jsonschema.Draft202012Validator(schema).validate(value)


def test_the_contract_takes_a_map_of_graders_only() -> None:
    multi = {"type": "multi", "name": "m", "calculate_output": "exact", "graders": GRADERS}
    conforms("GraderMulti", multi)
    for wrong in (list(GRADERS.values()), GRADERS["exact"], {}):
        with pytest.raises(jsonschema.ValidationError):
            conforms("GraderMulti", {**multi, "graders": wrong})


def test_apply_sends_the_manifest_multi_grader_as_the_contract_types_it(
    tmp_path: Path, emulator: Any, api: RemoteApi, clock: FakeClock
) -> None:
    root = tmp_path / "project"
    shutil.copytree(TESTS / "fixtures" / "identity", root)

    @contextlib.contextmanager
    def open_remote(settings: Settings) -> Iterator[RemoteApi]:
        yield api

    report = run_apply(str(root), None,
                       ApplyOptions(auto_approve=True, wait=False, targets=("reasoning-multi",)),
                       open_remote=open_remote, reporter=Recorder(), clock=clock,
                       sleep=clock.advance)
    assert report.ok, report
    (job,) = api.list_jobs()
    with httpx.Client(transport=httpx.WSGITransport(app=emulator),
                      base_url="http://emulator.test/v1",
                      headers={"Authorization": "Bearer sk-test"}) as http:
        kept = http.get(f"/fine_tuning/jobs/{job.id}").json()
    grader = kept["method"]["reinforcement"]["grader"]
    assert grader == {"type": "multi", "name": "combined",
                      "calculate_output": "0.5 * exact + 0.5 * similar", "graders": GRADERS}
    conforms("FineTuningJob", kept)
    # What apply sent: the emulator keeps the method exactly as it was posted.
    conforms("CreateFineTuningJobRequest", {"model": kept["model"],
                                            "training_file": kept["training_file"],
                                            "method": kept["method"]})
