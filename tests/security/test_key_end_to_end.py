"""The API key through every command, end to end: a project whose provider is an
OpenAI-compatible server (the emulator on loopback, which requires exactly this key) is
validated, planned, saved, applied, shown, inspected and drift-checked; then the key is wrong
(401) and the commands fail, with and without --debug. The key appears in no output and in no
file the commands leave in the project (plan files, caches, state).
"""

from __future__ import annotations

import json
import os
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.emulator.server import RunningServer, start_in_background
from tests.security_plugin import files_containing, new_canary


@pytest.fixture
def key() -> str:
    return new_canary()


@pytest.fixture
def server(tmp_path: Path, key: str) -> Iterator[RunningServer]:
    with start_in_background(str(tmp_path / "remote.db"), api_key=key, speed=5000.0) as running:
        yield running


def project(root: Path) -> Path:
    (root / "models").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "ftctl.yaml").write_text(
        "apiVersion: ftctl/v1\nkind: Project\nworkspace: sec\nprovider: {type: openai}\n")
    rows = [json.dumps({"messages": [{"role": "user", "content": f"order {i}?"},
                                     {"role": "assistant", "content": f"tracking {i}"}]})
            for i in range(12)]
    (root / "data" / "train.jsonl").write_text("\n".join(rows) + "\n")
    (root / "models" / "bot.yaml").write_text(
        "apiVersion: ftctl/v1\nkind: FineTunedModel\nmetadata: {name: bot}\nspec:\n"
        "  model: gpt-4o-mini-2024-07-18\n  training_file: ../data/train.jsonl\n"
        "  checks:\n    - {prompt: 'order 3?', expect_contains: 'tracking'}\n")
    return root


def run(root: Path, env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["-C", str(root), *args], env=env)
    return result.exit_code, result.stdout + result.stderr


COMMANDS = [
    ("validate",), ("plan",), ("plan", "--format", "json"), ("plan", "--format", "markdown"),
    ("plan", "--out", "{root}/saved.json"), ("apply", "--auto-approve"), ("show",),
    ("show", "--format", "json"), ("output",), ("drift",), ("jobs", "list"),
    ("models", "list"), ("try", "bot", "order 3?"), ("plan", "--detailed-exitcode"),
]


def test_the_key_never_appears_in_any_output_or_file(tmp_path: Path, key: str,
                                                     server: RunningServer) -> None:
    root = project(tmp_path / "repo")
    env = {"OPENAI_API_KEY": key, "OPENAI_BASE_URL": server.base_url, "NO_COLOR": "1"}
    codes = {}
    for template in COMMANDS:
        args = tuple(a.format(root=root) for a in template)
        code, output = run(root, env, *args)
        codes[" ".join(args)] = code
        assert key not in output, f"`ftctl {' '.join(args)}` printed the key"
    # Every command succeeded (apply trained, the check passed, the last plan saw no changes).
    assert all(c == 0 for c in codes.values()), codes
    assert (root / "saved.json").exists()
    assert files_containing(root, key) == []


@pytest.mark.parametrize("debug", [False, True])
def test_a_rejected_key_is_not_shown_even_with_debug(tmp_path: Path, server: RunningServer,
                                                     debug: bool) -> None:
    root = project(tmp_path / "repo")
    wrong = new_canary()
    env = {"OPENAI_API_KEY": wrong, "OPENAI_BASE_URL": server.base_url, "NO_COLOR": "1"}
    flags = ["--debug"] if debug else []
    for args in (("plan",), ("apply", "--auto-approve"), ("models", "list"), ("drift",)):
        result = CliRunner().invoke(main, [*flags, "-C", str(root), *args], env=env)
        shown = result.stdout + result.stderr + repr(result.exception)
        if result.exc_info is not None:
            shown += "".join(traceback.format_exception(*result.exc_info))
        assert result.exit_code == 1, shown
        assert wrong not in shown and wrong[-12:] not in shown
    assert files_containing(root, wrong) == []
    assert os.environ["OPENAI_API_KEY"] not in shown
