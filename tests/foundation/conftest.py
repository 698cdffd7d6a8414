"""Fixtures for the foundation tests: a throwaway project directory on disk.

`make_project(manifests={"models/x.yaml": text}, settings=...)` writes ftctl.yaml, the
manifests, and two small chat datasets at data/train.jsonl and data/valid.jsonl.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from reconciler import yaml_document

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "manifests"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

SETTINGS = """\
apiVersion: ftctl/v1
kind: Project
workspace: test-ws
provider: {type: local}
manifests: [models/**/*.yaml]
"""


def _chat_lines(n: int, tag: str) -> str:
    rows = [
        {"messages": [
            {"role": "user", "content": f"{tag} question number {i}?"},
            {"role": "assistant", "content": f"{tag} answer number {i}."},
        ]}
        for i in range(n)
    ]
    return "".join(json.dumps(r) + "\n" for r in rows)


MakeProject = Callable[..., Path]


@pytest.fixture
def make_project(tmp_path: Path) -> MakeProject:
    def make(
        manifests: Mapping[str, str] | None = None, settings: str = SETTINGS
    ) -> Path:
        root = tmp_path / "project"
        (root / "data").mkdir(parents=True, exist_ok=True)
        (root / "data" / "train.jsonl").write_text(_chat_lines(12, "train"))
        (root / "data" / "valid.jsonl").write_text(_chat_lines(10, "valid"))
        (root / "ftctl.yaml").write_text(settings)
        for rel, text in (manifests or {}).items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return root

    return make


@pytest.fixture(params=yaml_document.PARSERS)
def yaml_parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a test once per YAML parser this PyYAML has (libyaml's C parser, pure Python)."""
    monkeypatch.setattr(yaml_document, "PARSER", request.param)
    return str(request.param)
