"""The JSON Schema files: valid Draft 2020-12, usable by editors, and worded diagnostics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from reconciler.loader import MANIFEST_SCHEMA, PROJECT_SCHEMA, schema_text
from reconciler.schema import SchemaChecker
from reconciler.yaml_document import parse

from .conftest import EXAMPLES

REPO = Path(__file__).resolve().parents[2]
MANIFEST = json.loads(schema_text(MANIFEST_SCHEMA))


@pytest.mark.parametrize("name", [MANIFEST_SCHEMA, PROJECT_SCHEMA])
def test_schemas_are_valid_draft_2020_12(name: str) -> None:
    schema = json.loads((REPO / "schemas" / name).read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("name", [MANIFEST_SCHEMA, PROJECT_SCHEMA])
def test_packaged_schema_is_the_repository_file(name: str) -> None:
    # reconciler/schemas links to schemas/: one definition, shipped in the wheel as package data.
    assert schema_text(name) == (REPO / "schemas" / name).read_text()


def test_examples_point_editors_at_the_schemas_and_validate_with_plain_jsonschema() -> None:
    for path in [EXAMPLES / "ftctl.yaml", *sorted((EXAMPLES / "models").glob("*.yaml"))]:
        first = path.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema=")
        target = (path.parent / first.split("$schema=", 1)[1]).resolve()
        schema = json.loads(target.read_text())
        for doc in yaml.safe_load_all(path.read_text()):
            Draft202012Validator(schema).validate(doc)


def _check(text: str) -> list[tuple[str, str]]:
    [doc], _ = parse(text, "m.yaml")
    return [(str(d.subject), d.summary) for d in SchemaChecker(MANIFEST).check(doc)]


BASE = """\
apiVersion: ftctl/v1
kind: FineTunedModel
metadata:
  name: x
spec:
  model: gpt-4o-mini-2024-07-18
  training_file: t.jsonl
"""


def test_valid_document_has_no_problems() -> None:
    assert _check(BASE) == []


def test_epochs_typo_is_reported_at_the_value() -> None:
    text = BASE + "  method:\n    hyperparameters:\n      n_epochs: \"three\"\n"
    assert _check(text) == [
        ("m.yaml:10:17", 'n_epochs: expected "auto" or an integer from 1 to 50, got "three"')
    ]


def test_unknown_key_suggests_the_closest_valid_key() -> None:
    text = BASE + "  lifecycle:\n    keep_version: 2\n"
    [(where, summary)] = _check(text)
    assert where == "m.yaml:9:5"
    assert summary == "unknown key 'keep_version' (did you mean 'keep_versions'?)"


def test_missing_required_key_is_reported_on_the_parent_key() -> None:
    text = BASE.replace("  training_file: t.jsonl\n", "")
    assert _check(text) == [("m.yaml:5:1", "missing required key 'training_file' in spec")]


def test_missing_key_at_top_level_is_reported_at_document_start() -> None:
    text = "\n".join(BASE.splitlines()[1:]) + "\n"
    assert _check(text) == [("m.yaml:1:1", "missing required key 'apiVersion' at the top level")]


def test_every_problem_of_a_document_is_reported() -> None:
    text = BASE + "  seed: -3\n  suffix: ''\n  update: never\n  bogus: 1\n"
    summaries = [s for _, s in _check(text)]
    assert summaries == [
        "seed: must be at least 0, got -3",
        "suffix must not be empty",
        'update: expected one of "retrain", "continue", got "never"',
        "unknown key 'bogus'",
    ]


def test_reinforcement_hyperparameters_and_grader_shapes() -> None:
    text = BASE + (
        "  method:\n    type: reinforcement\n"
        "    hyperparameters: {eval_samples: 0, reasoning_effort: extreme}\n"
        "    grader: {type: python, name: g}\n"
    )
    summaries = sorted(s for _, s in _check(text))
    assert summaries == [
        'eval_samples: expected "auto" or an integer of at least 1, got 0',
        "missing required key 'source' in spec.method.grader",
        'reasoning_effort: expected one of "default", "low", "medium", "high", got "extreme"',
    ]


def test_integrations_limited_to_five() -> None:
    item = "    - {type: wandb, wandb: {project: p}}\n"
    text = BASE + "  integrations:\n" + item * 6
    assert _check(text) == [("m.yaml:9:5", "integrations: at most 5 items allowed, got 6")]
