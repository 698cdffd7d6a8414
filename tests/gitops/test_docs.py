"""The docs: the manifest reference matches the JSON Schemas, and command lines in the docs
use only commands and flags that exist."""

from __future__ import annotations

import copy
import importlib.util
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from reconciler import errors

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"


def _generator() -> ModuleType:
    path = REPO / "scripts" / "gen_manifest_docs.py"
    spec = importlib.util.spec_from_file_location("gen_manifest_docs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    return _generator()


def _schemas(gen: ModuleType) -> tuple[dict[str, Any], dict[str, Any]]:
    return gen.load(gen.MANIFEST_SCHEMA), gen.load(gen.PROJECT_SCHEMA)


def _property_names(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.get("properties", {}).items():
            yield key
            yield from _property_names(value)
        for key, value in node.items():
            if key != "properties":
                yield from _property_names(value)
    elif isinstance(node, list):
        for item in node:
            yield from _property_names(item)


def test_manifest_reference_matches_the_schemas(gen: ModuleType) -> None:
    expected = gen.render(*_schemas(gen))
    actual = (DOCS / "manifest-reference.md").read_text(encoding="utf-8")
    assert actual == expected, (
        "docs/manifest-reference.md is out of date with schemas/; "
        "run: python scripts/gen_manifest_docs.py"
    )


def test_every_schema_property_is_documented(gen: ModuleType) -> None:
    page = (DOCS / "manifest-reference.md").read_text(encoding="utf-8")
    for schema in _schemas(gen):
        for name in set(_property_names(schema)):
            assert re.search(rf"`[^`]*\b{re.escape(name)}`", page), name


def test_a_schema_change_changes_the_page(gen: ModuleType) -> None:
    # The drift check above must be able to fail: a new field shows up in the output.
    manifest, project = _schemas(gen)
    changed = copy.deepcopy(manifest)
    changed["properties"]["spec"]["properties"]["brand_new_field"] = {
        "type": "integer", "minimum": 3, "description": "Something new."
    }
    page = gen.render(changed, project)
    assert page != gen.render(manifest, project)
    assert "| `spec.brand_new_field` | integer |  | Something new. Value at least 3. |" in page


def test_check_mode_agrees(gen: ModuleType) -> None:
    assert gen.main(["--check"]) == 0


REQUIRED_PAGES = (
    "getting-started.md",
    "manifest-reference.md",
    "commands.md",
    "plan-format.md",
    "identity.md",
    "migrating-providers.md",
    "troubleshooting.md",
    "architecture.md",
    "github-actions.md",
)


@pytest.mark.parametrize("page", REQUIRED_PAGES)
def test_page_exists(page: str) -> None:
    assert (DOCS / page).is_file()


def test_troubleshooting_covers_every_error_class() -> None:
    text = (DOCS / "troubleshooting.md").read_text(encoding="utf-8")
    classes = [
        name for name, obj in vars(errors).items()
        if isinstance(obj, type)
        and issubclass(obj, Exception)
        and obj.__module__ == errors.__name__
    ]
    assert len(classes) >= 7
    missing = [name for name in classes if f"`{name}`" not in text]
    assert missing == []


def _code_blocks(text: str) -> Iterator[str]:
    for match in re.finditer(r"```(?:sh|bash|console|shell)\n(.*?)```", text, re.S):
        yield "\n".join(line.removeprefix("$ ") for line in match.group(1).splitlines())


def test_docs_command_lines_use_real_commands_and_flags(
    cli_surface: Any, invocations: Any
) -> None:
    problems: dict[str, list[str]] = {}
    count = 0
    for page in sorted(DOCS.glob("*.md")):
        for block in _code_blocks(page.read_text(encoding="utf-8")):
            for argv in invocations(block):
                count += 1
                found = cli_surface.problems(argv)
                if found:
                    problems[f"{page.name}: ftctl {' '.join(argv)}"] = found
    assert count >= 20
    assert problems == {}


def test_command_reference_covers_every_command() -> None:
    from reconciler.cli import main

    page = (DOCS / "commands.md").read_text(encoding="utf-8")
    for name in main.load_all():
        assert f"## `ftctl {name}`" in page, (
            f"docs/commands.md lacks `ftctl {name}`; run: python scripts/gen_command_docs.py"
        )


def _yaml_blocks(text: str) -> Iterator[str]:
    for match in re.finditer(r"```yaml\n(.*?)```", text, re.S):
        yield match.group(1)


def test_complete_yaml_examples_in_the_docs_follow_the_schemas(gen: ModuleType) -> None:
    import jsonschema
    import yaml

    manifest, project = _schemas(gen)
    by_kind = {"FineTunedModel": manifest, "Project": project}
    checked = 0
    for page in sorted(DOCS.glob("*.md")):
        for block in _yaml_blocks(page.read_text(encoding="utf-8")):
            doc = yaml.safe_load(block)
            if not isinstance(doc, dict) or doc.get("kind") not in by_kind:
                continue  # a fragment, not a whole file
            errors = list(jsonschema.Draft202012Validator(by_kind[doc["kind"]]).iter_errors(doc))
            assert errors == [], (page.name, [e.message for e in errors])
            checked += 1
    assert checked >= 3
