"""Reduce OpenAI's OpenAPI subset to structure only, for the emulator's contract tests.

Reads ../shared/openapi/openai-fine-tuning.json (from openai/openai-openapi, MIT) and writes
tests/openapi/openai-fine-tuning.reduced.json: paths (parameters and response schema refs) and
every component schema, keeping types, required, enums, formats, bounds and refs; dropping
descriptions, summaries, examples, titles and vendor metadata. Two OpenAPI 3.0 leftovers are
rewritten so JSON Schema 2020-12 reads them as meant: `exclusiveMinimum: true` next to
`minimum: X` becomes `exclusiveMinimum: X`, and `nullable: true` becomes a null alternative.

One correction (CORRECTIONS below): the multi grader's `graders`. The spec types it as a single
grader and its own example shows an array; what the API accepts is a map from a name to a
grader (not a multi grader), and `calculate_output` refers to those names. That is the form of
OpenAI's graders guide ("graders": {"name": {...}, "email": {...}} with "(name + email) / 2")
and of the openai-python SDK's MultiGraderParam when reinforcement fine-tuning shipped
(`graders: Required[Dict[str, Graders]]`), before the spec's regression.

Usage: python scripts/reduce_openapi.py [SOURCE] [DEST]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "openapi" / "openai-fine-tuning.json"
DEST = ROOT / "tests" / "openapi" / "openai-fine-tuning.reduced.json"
DROP = {"description", "summary", "example", "examples", "title", "x-oaiMeta", "tags",
        "x-oaiTypeLabel", "x-stainless-const", "deprecated", "default", "externalDocs"}
NAME_MAPS = {"properties", "schemas", "paths", "responses", "content", "securitySchemes"}
SOURCE_NOTE = (
    "Reduced from openai/openai-openapi (openapi.json, commit f85dbe2 of 2026-08-21), "
    "MIT licence, Copyright (c) OpenAI, by scripts/reduce_openapi.py: structure only."
)


def reduce(node: Any, *, names: bool = False) -> Any:
    """Strip annotations; under a name map (properties, paths ...) keys are names, kept."""
    if isinstance(node, list):
        return [reduce(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if not names and key in DROP:
            continue
        out[key] = reduce(value, names=(not names and key in NAME_MAPS))
    return out if names else _modernise(out)


def _modernise(schema: dict[str, Any]) -> dict[str, Any]:
    if schema.get("exclusiveMinimum") is True and "minimum" in schema:
        schema["exclusiveMinimum"] = schema.pop("minimum")
    if schema.get("exclusiveMaximum") is True and "maximum" in schema:
        schema["exclusiveMaximum"] = schema.pop("maximum")
    if schema.pop("nullable", False) is True:
        if isinstance(schema.get("type"), str):
            schema["type"] = [schema["type"], "null"]
        else:
            inner = dict(schema)
            schema.clear()
            schema["anyOf"] = [inner, {"type": "null"}]
    return schema


def _multi_graders(schemas: dict[str, Any]) -> None:
    """GraderMulti.graders: a map of name -> one of the other graders (see the docstring)."""
    if "GraderMulti" not in schemas:
        return
    graders = schemas["GraderMulti"]["properties"]["graders"]
    one_of = graders.get("oneOf") or graders["additionalProperties"]["oneOf"]
    schemas["GraderMulti"]["properties"]["graders"] = {
        "type": "object", "minProperties": 1, "additionalProperties": {"oneOf": one_of},
    }


CORRECTIONS = (_multi_graders,)


def build(source: dict[str, Any]) -> dict[str, Any]:
    schemas = reduce(source["components"]["schemas"], names=True)
    for correct in CORRECTIONS:
        correct(schemas)
    return {
        "x-source": SOURCE_NOTE,
        "x-corrections": [c.__doc__ for c in CORRECTIONS],
        "openapi": source["openapi"],
        "info": {"title": source["info"]["title"], "version": source["info"]["version"]},
        "paths": reduce(source["paths"], names=True),
        "components": {"schemas": schemas},
    }


def main(argv: list[str]) -> int:
    src = Path(argv[1]) if len(argv) > 1 else SOURCE
    dest = Path(argv[2]) if len(argv) > 2 else DEST
    reduced = build(json.loads(src.read_text(encoding="utf-8")))
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(reduced, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {dest} ({dest.stat().st_size} bytes) from {src}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
