"""schema_fast: the compiled yes/no check agrees with jsonschema on every document.

Differential tests: the packaged schemas against every YAML document the tests and the project
ship, and against random edits of valid manifests (hypothesis); plus the JSON Schema corners
where Python and JSON differ (true is not 1, 1.0 is an integer).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from reconciler.loader import MANIFEST_SCHEMA, PROJECT_SCHEMA, schema_text
from reconciler.schema_fast import compile_check
from reconciler.yaml_document import parse

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = {name: json.loads(schema_text(name)) for name in (MANIFEST_SCHEMA, PROJECT_SCHEMA)}


def _pair(name: str) -> tuple[Any, Any]:
    fast = compile_check(SCHEMAS[name])
    assert fast is not None, f"{name} should compile"
    return fast, Draft202012Validator(SCHEMAS[name]).is_valid


def _documents() -> list[tuple[str, Any]]:
    roots = [REPO / "tests" / "fixtures", REPO / "tests" / "badinput" / "corpus",
             REPO / "examples", REPO / "reconciler" / "templates"]
    out = []
    for path in sorted(p for r in roots for p in r.rglob("*") if p.suffix in (".yaml", ".yml")):
        docs, _ = parse(path.read_text(encoding="utf-8", errors="replace"), path.name)
        out += [(f"{path.name}#{i}", d.data) for i, d in enumerate(docs)]
    return out


DOCUMENTS = _documents()
VALID = [data for _, data in DOCUMENTS if _pair(MANIFEST_SCHEMA)[1](data)]


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_packaged_schemas_are_valid_and_compile(name: str) -> None:
    # SchemaChecker meets jsonschema only on a failing document, so check the schemas here.
    Draft202012Validator.check_schema(SCHEMAS[name])
    assert compile_check(SCHEMAS[name]) is not None


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_fast_check_agrees_on_every_document_we_have(name: str) -> None:
    fast, slow = _pair(name)
    assert len(DOCUMENTS) > 100
    verdicts = {label: (fast(data), slow(data)) for label, data in DOCUMENTS}
    assert {k: v for k, v in verdicts.items() if v[0] != v[1]} == {}
    assert {v[1] for v in verdicts.values()} == {True, False}  # both kinds were seen


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 300) | st.floats(-2, 2, allow_nan=False)
    | st.sampled_from([0, 1, 1.0, 0.5, "", "auto", "x" * 70, "dpo", "supervised",
                       "reinforcement", "a-b", "Bad Name", "../x.jsonl", "retrain"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["type", "name", "n_epochs", "beta", "ref", "x", "prompt"]), inner,
        max_size=3),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def edited_manifests(draw: st.DrawFn) -> Any:
    """A valid manifest with one to three values replaced, keys added or keys removed."""
    doc = copy.deepcopy(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(doc)[1:] or [()]))
        if not path:
            break
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "beta", "grader", "seed", "type"]))] = \
                draw(JSON_VALUES)
        else:
            parent[path[-1]] = draw(JSON_VALUES)
    return doc


@settings(max_examples=400, deadline=None)
@given(edited_manifests())
def test_fast_check_agrees_on_edited_manifests(doc: Any) -> None:
    fast, slow = _pair(MANIFEST_SCHEMA)
    assert fast(doc) == slow(doc)


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES)
def test_fast_check_agrees_on_arbitrary_values(value: Any) -> None:
    for name in SCHEMAS:
        fast, slow = _pair(name)
        assert fast(value) == slow(value)


@pytest.mark.parametrize(("schema", "instance", "valid"), [
    ({"type": "integer"}, True, False),
    ({"type": "integer"}, 1.0, True),
    ({"type": "number"}, False, False),
    ({"const": 1}, True, False),
    ({"enum": [1]}, 1.0, True),
    ({"uniqueItems": True}, [1, True], True),
    ({"uniqueItems": True}, [1, 1.0], False),
    ({"pattern": "^a$"}, "a\n", True),  # re.search: `$` also matches before a final newline
    ({"minimum": 1}, "text", True),
    ({"properties": {"a": {"type": "string"}}, "additionalProperties": False}, {"b": 1}, False),
    ({"patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": False},
     {"x-a": "s"}, True),
    ({"if": {"required": ["a"]}, "then": {"required": ["b"]}}, {"a": 1}, False),
    ({"minProperties": 1}, {}, False),
    ({"minProperties": 1}, [], True),
    ({"maxProperties": 1}, {"a": 1, "b": 2}, False),
    ({"propertyNames": {"pattern": "^[a-z]+$"}}, {"ok": 1, "Not": 2}, False),
    ({"propertyNames": {"pattern": "^[a-z]+$"}}, {"ok": 1}, True),
])
def test_json_semantics(schema: dict[str, Any], instance: Any, valid: bool) -> None:
    fast = compile_check(schema)
    assert fast is not None
    assert fast(instance) is valid
    assert Draft202012Validator(schema).is_valid(instance) is valid


@pytest.mark.parametrize("schema", [
    {"format": "date"},  # a keyword it does not compile
    {"$ref": "https://example.com/other.json"},  # a reference outside the schema
])
def test_what_it_cannot_compile_is_left_to_jsonschema(schema: dict[str, Any]) -> None:
    assert compile_check(schema) is None
