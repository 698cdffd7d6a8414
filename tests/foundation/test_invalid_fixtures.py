"""Every invalid manifest fixture is reported on its `# ERROR:` line with that message.

Each fixture in tests/fixtures/manifests/invalid marks its bad line(s) with
`# ERROR: <summary>`. The loader must report an error on exactly those lines whose summary
contains the marked text, and no error anywhere else; with each YAML parser (libyaml's C parser
and the pure-Python one), with the same lines and columns.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reconciler import yaml_document
from reconciler.loader import load_project

from .conftest import FIXTURES, MakeProject

INVALID = sorted((FIXTURES / "invalid").glob("*.yaml"))
MARKER = re.compile(r"#\s*ERROR:\s*(.+?)\s*$")


def _expected(text: str) -> dict[int, str]:
    return {
        n: m.group(1)
        for n, line in enumerate(text.splitlines(), start=1)
        if (m := MARKER.search(line))
    }


def test_there_are_enough_invalid_fixtures() -> None:
    assert len(INVALID) >= 25
    for path in INVALID:
        assert _expected(path.read_text()), f"{path.name} has no # ERROR: marker"


@pytest.mark.usefixtures("yaml_parser")
@pytest.mark.parametrize("fixture", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_fixture_reported_at_marked_line(
    fixture: Path, make_project: MakeProject
) -> None:
    text = fixture.read_text()
    rel = f"models/{fixture.name}"
    root = make_project({rel: text})
    result = load_project(str(root))
    errors = [d for d in result.diagnostics if d.is_error]
    expected = _expected(text)
    for line, message in expected.items():
        here = [d.summary for d in errors if d.subject and d.subject.line == line]
        assert any(message in s for s in here), (
            f"{fixture.name}:{line}: expected {message!r}, got {here or 'nothing'}; "
            f"all: {[(d.subject and d.subject.line, d.summary) for d in errors]}"
        )
    stray = [d for d in errors if not (d.subject and d.subject.line in expected)]
    assert not stray, f"unmarked errors: {[(str(d.subject), d.summary) for d in stray]}"
    assert all(d.subject and d.subject.file == rel for d in errors)


@pytest.mark.skipif(len(yaml_document.PARSERS) < 2, reason="PyYAML was built without libyaml")
@pytest.mark.parametrize("fixture", INVALID, ids=[p.stem for p in INVALID])
def test_both_parsers_report_the_same_diagnostics(
    fixture: Path, make_project: MakeProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    rel = f"models/{fixture.name}"
    root = make_project({rel: fixture.read_text()})
    seen = {}
    for parser in yaml_document.PARSERS:
        monkeypatch.setattr(yaml_document, "PARSER", parser)
        seen[parser] = load_project(str(root)).diagnostics
    assert seen["libyaml"] == seen["python"]
