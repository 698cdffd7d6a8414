"""Severities in a project: `datasets.rules` in ftctl.yaml, validated, and used alike by
`data check`, `validate` and `plan`; `data check --strict`; and the cookbook's drone dataset,
which the provider trains on, passing with warnings and accepted by `plan`."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from reconciler.app.plan import run_plan
from reconciler.app.project import load
from reconciler.cli import main
from reconciler.client import LOCAL_API_KEY, RemoteApi, connect
from reconciler.plan import Action
from reconciler.spec import Settings

DRONE = Path(__file__).parent / "fixtures" / "cookbook" / "drone_training_first12.jsonl"
DRONE_SHA256 = "92a384823521e2005578161ee460cf41dff061338b8241a18265cdb257ec307e"
MODEL = "gpt-4o-mini-2024-07-18"


def _project(root: Path, data: bytes, rules: str = "") -> Path:
    (root / "models").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "ftctl.yaml").write_text(
        "apiVersion: ftctl/v1\nkind: Project\nworkspace: rules\nprovider:\n  type: local\n"
        "prices:\n  - model: gpt-4o-mini\n    training_per_1m: 3.0\n" + rules)
    (root / "models" / "bot.yaml").write_text(
        "apiVersion: ftctl/v1\nkind: FineTunedModel\nmetadata:\n  name: bot\n"
        f"spec:\n  model: {MODEL}\n  training_file: ../data/train.jsonl\n"
        "  method:\n    type: supervised\n")
    (root / "data" / "train.jsonl").write_bytes(data)
    return root / "data" / "train.jsonl"


def _rows() -> bytes:
    """12 examples, a blank line after the fifth, and a call to an undeclared function."""
    lines = [orjson.dumps({"messages": [{"role": "user", "content": f"q{i}"},
                                        {"role": "assistant", "content": f"a{i}"}]})
             for i in range(11)]
    call = {"id": "c1", "type": "function", "function": {"name": "nope", "arguments": "{}"}}
    lines.append(orjson.dumps({"messages": [{"role": "user", "content": "call"},
                                            {"role": "assistant", "tool_calls": [call]}]}))
    lines.insert(5, b"")
    return b"\n".join(lines) + b"\n"


def _by_code(root: Path) -> dict[str, str]:
    result = load(str(root))
    return {d.code or d.summary: d.severity.value for d in result.diagnostics}


def test_defaults_warn_about_a_blank_line_and_an_undeclared_function(tmp_path: Path) -> None:
    _project(tmp_path, _rows())
    found = _by_code(tmp_path)
    assert found["blank_line"] == "warning" and found["undeclared_function"] == "warning"
    assert "error" not in found.values()


def test_project_rules_change_severities_everywhere(tmp_path: Path) -> None:
    rules = "datasets:\n  rules:\n    undeclared_function: error\n    blank_line: off\n"
    path = _project(tmp_path, _rows(), rules)
    found = _by_code(tmp_path)
    assert found["undeclared_function"] == "error" and "blank_line" not in found
    # data check inside the project uses the same rules (and the manifest's base model).
    result = CliRunner().invoke(main, ["-C", str(tmp_path), "data", "check", str(path),
                                       "--format", "json"])
    assert result.exit_code == 1, result.output
    (report,) = orjson.loads(result.stdout)["files"]
    assert "blank_line" not in report["codes"] and report["codes"]["undeclared_function"] == 1
    assert report["errors"] == 1 and report["model"] == MODEL


def test_a_misspelt_rule_is_reported_at_its_line_with_a_did_you_mean(tmp_path: Path) -> None:
    rules = "datasets:\n  rules:\n    blank_lines: off\n"
    path = _project(tmp_path, _rows(), rules)
    result = load(str(tmp_path))
    (diag,) = [d for d in result.diagnostics if d.is_error]
    assert diag.summary == "unknown dataset rule 'blank_lines' (did you mean 'blank_line'?)"
    assert (diag.subject.file, diag.subject.line, diag.subject.column) == ("ftctl.yaml", 11, 5)
    check = CliRunner().invoke(main, ["-C", str(tmp_path), "data", "check", str(path)])
    assert check.exit_code == 1
    assert "ftctl.yaml:11:5: error: unknown dataset rule 'blank_lines'" in check.stderr


def test_a_level_that_does_not_exist_is_a_schema_error(tmp_path: Path) -> None:
    _project(tmp_path, _rows(), "datasets:\n  rules:\n    blank_line: ignore\n")
    result = load(str(tmp_path))
    errors = [d for d in result.diagnostics if d.is_error]
    assert errors and errors[0].subject is not None and errors[0].subject.line == 11


def test_strict_turns_warnings_into_errors_for_one_run(write_jsonl: Callable[..., str]) -> None:
    rows: list[object] = [{"messages": [{"role": "user", "content": f"q{i}"},
                                        {"role": "assistant", "content": f"a{i}"}]}
                          for i in range(12)]
    rows.insert(4, b"")
    path = write_jsonl("t.jsonl", rows)
    relaxed = CliRunner().invoke(main, ["data", "check", path, "--no-tokens"])
    assert relaxed.exit_code == 0 and f"{path}:5: warning: blank_line:" in relaxed.stderr
    strict = CliRunner().invoke(main, ["data", "check", path, "--no-tokens", "--strict"])
    assert strict.exit_code == 1 and f"{path}:5: error: blank_line:" in strict.stderr


def test_the_cookbook_drone_dataset_passes_with_warnings(tmp_path: Path) -> None:
    import hashlib

    assert hashlib.sha256(DRONE.read_bytes()).hexdigest() == DRONE_SHA256  # copied verbatim
    result = CliRunner().invoke(main, ["-C", str(tmp_path), "data", "check", str(DRONE),
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    (report,) = orjson.loads(result.stdout)["files"]
    assert report["errors"] == 0 and report["examples"] == 12
    assert report["codes"]["invalid_tool_arguments"] == 6  # lines 3 to 8: encoded twice
    assert report["warnings"] == 6


@pytest.fixture
def open_remote(make_emulator: Callable[..., tuple[Any, Any]]) -> Callable[[Settings], Any]:
    _, transport = make_emulator(api_key=LOCAL_API_KEY)

    @contextlib.contextmanager
    def opener(settings: Settings) -> Iterator[RemoteApi]:
        api = connect(settings, {}, transport=transport, base_url="http://127.0.0.1/v1")
        try:
            yield api
        finally:
            api.close()

    return opener


def test_plan_accepts_the_cookbook_drone_dataset(
        tmp_path: Path, open_remote: Callable[[Settings], Any], fake_clock: Any) -> None:
    path = _project(tmp_path, b"")
    shutil.copyfile(DRONE, path)
    run = run_plan(str(tmp_path), open_remote=open_remote, clock=fake_clock)
    assert run.ok and run.plan is not None, run.diagnostics
    assert {d.code for d in run.diagnostics if d.code} >= {"invalid_tool_arguments"}
    assert not any(d.is_error for d in run.diagnostics)
    actions = {s.action for s in run.plan.steps}
    assert Action.UPLOAD in actions and Action.CREATE in actions
