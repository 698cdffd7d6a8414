"""The packaged JSON Schema files (schemas/ in the repository) and their compiled checkers."""

from __future__ import annotations

import functools
import json
from importlib import resources

from reconciler.schema import SchemaChecker

MANIFEST_SCHEMA = "ftctl-manifest.schema.json"
PROJECT_SCHEMA = "ftctl-project.schema.json"


@functools.cache
def schema_text(name: str) -> str:
    """The text of one of the packaged JSON Schema files (schemas/ in the repository)."""
    return (resources.files("reconciler") / "schemas" / name).read_text(encoding="utf-8")


@functools.cache
def checker(name: str) -> SchemaChecker:
    return SchemaChecker(json.loads(schema_text(name)))
