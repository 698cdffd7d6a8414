"""Every malformed input in the corpus, through the real command line (`validate` and `plan`):
exit 1, a located message (FILE:LINE), no traceback, nothing read from outside the repository
shown, and no remote request that changes anything (counted on the emulator).

`plan` talks to a counting emulator on loopback (OPENAI_BASE_URL); `validate` needs no network.
A few cases also run as real `python -m reconciler` processes, to see the bytes a user sees.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import main

from .harness import OUTSIDE_MARKER, Case, CountingEmulator, all_cases, make_project

LOCATED = re.compile(r"^(?P<file>[^\s:][^:\n]*):(?P<line>\d+)(?::\d+)?: error\b", re.MULTILINE)
CASES = all_cases()
# Problems with a file as a whole (too big, empty, too few examples): the file is the location.
WHOLE_FILE = frozenset({"generated/huge_manifest_3mb", "datasets/empty.jsonl",
                        "datasets/too_few_examples.jsonl"})
KNOWN_BUGS: dict[str, str] = {}  # case id -> reason, for strict xfails


def params(ids: list[str] | None = None) -> list[object]:
    chosen = CASES if ids is None else [c for c in CASES if c.id in ids]
    return [
        pytest.param(c, id=c.id, marks=pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[c.id]))
        if c.id in KNOWN_BUGS else pytest.param(c, id=c.id)
        for c in chosen
    ]


@pytest.fixture(scope="module")
def counting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CountingEmulator]:
    server = CountingEmulator(str(tmp_path_factory.mktemp("emu") / "db.sqlite"), "sk-any")
    yield server
    server.stop()


def run_cli(root: Path, command: str, base_url: str) -> tuple[int, str, str, BaseException | None]:
    env = {"OPENAI_BASE_URL": base_url, "NO_COLOR": "1", "CI": "1"}
    result = CliRunner().invoke(main, ["-C", str(root), command], env=env)
    exc = result.exception if not isinstance(result.exception, SystemExit) else None
    return result.exit_code, result.stdout, result.stderr, exc


def check_outcome(case: Case, code: int, out: str, err: str) -> None:
    text = out + err
    assert "Traceback" not in text and "unexpected error" not in text, text[-2000:]
    assert OUTSIDE_MARKER not in text, "content from outside the repository was shown"
    assert code == 1, (code, text[-2000:])
    if case.id in WHOLE_FILE:
        assert re.search(r"^[^\s:][^:\n]*: error\b", err, re.MULTILINE), err[-2000:]
        return
    located = LOCATED.findall(err)
    assert located, f"no FILE:LINE location in:\n{err[-2000:]}"


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 60
    kinds = {c.kind for c in CASES}
    assert kinds == {"manifests", "settings", "datasets", "generated"}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", params())
def test_bad_input_is_refused_with_a_located_message(
    case: Case, tmp_path: Path, counting: CountingEmulator
) -> None:
    root = make_project(tmp_path, case)
    before = counting.recording.writes
    for command in ("validate", "plan"):
        code, out, err, exc = run_cli(root, command, counting.base_url)
        assert exc is None, f"{command} raised {type(exc).__name__}: {exc}"
        check_outcome(case, code, out, err)
    assert counting.recording.writes == before, counting.recording.methods
    assert not Path("/tmp/ftctl-pwned").exists()


PROCESS_CASES = ["manifests/yaml_bomb_billion_laughs.yaml", "datasets/not_json.jsonl",
                 "generated/symlink_dataset_out"]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("case", params(PROCESS_CASES))
def test_a_real_process_shows_no_traceback(case: Case, tmp_path: Path,
                                          counting: CountingEmulator) -> None:
    root = make_project(tmp_path, case)
    env = {**os.environ, "OPENAI_BASE_URL": counting.base_url, "NO_COLOR": "1", "CI": "1"}
    before = counting.recording.writes
    done = subprocess.run([sys.executable, "-m", "reconciler", "-C", str(root), "plan"],
                          capture_output=True, text=True, env=env, timeout=100,
                          errors="replace")
    check_outcome(case, done.returncode, done.stdout, done.stderr)
    assert counting.recording.writes == before
