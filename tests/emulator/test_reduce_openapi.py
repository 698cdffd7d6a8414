"""scripts/reduce_openapi.py keeps structure, drops prose, and modernises 3.0 leftovers."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "reduce_openapi.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("reduce_openapi", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reduce_keeps_structure_and_names():
    reduce = load().reduce
    schema = {
        "type": "object", "description": "prose", "x-oaiMeta": {"a": 1},
        "required": ["description"],
        "properties": {
            "description": {"type": "string", "description": "a field named description"},
            "lr": {"type": "number", "minimum": 0, "exclusiveMinimum": True},
            "maybe": {"type": "object", "nullable": True},
        },
    }
    out = reduce(schema)
    assert out == {
        "type": "object", "required": ["description"],
        "properties": {
            "description": {"type": "string"},
            "lr": {"type": "number", "exclusiveMinimum": 0},
            "maybe": {"type": ["object", "null"]},
        },
    }


def test_build_names_its_source():
    module = load()
    doc = {"openapi": "3.1.0", "info": {"title": "t", "version": "1", "description": "d"},
           "paths": {"/x": {"get": {"summary": "s", "responses": {"200": {"description": "OK"}}}}},
           "components": {"schemas": {"A": {"type": "string", "title": "A"}}}}
    built = module.build(doc)
    assert "openai/openai-openapi" in built["x-source"] and "MIT" in built["x-source"]
    assert built["paths"] == {"/x": {"get": {"responses": {"200": {}}}}}
    assert built["components"] == {"schemas": {"A": {"type": "string"}}}


def test_the_multi_grader_correction_makes_graders_a_map():
    module = load()
    single = {"oneOf": [{"$ref": "#/components/schemas/GraderStringCheck"}]}
    doc = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {},
           "components": {"schemas": {"GraderMulti": {
               "type": "object", "properties": {"graders": single}}}}}
    built = module.build(doc)
    graders = built["components"]["schemas"]["GraderMulti"]["properties"]["graders"]
    assert graders == {"type": "object", "minProperties": 1, "additionalProperties": single}
    assert built["x-corrections"] and "GraderMulti.graders" in built["x-corrections"][0]
