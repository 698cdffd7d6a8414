"""A malicious manifest or settings file in a pull request cannot make `plan` read files outside
the repository: every file the process opens during `ftctl plan` is recorded with a Python
audit hook (PEP 578), and none may lie outside the project (symlinks resolved). Also: dataset
paths cannot escape the repository, and a tampered saved plan cannot upload a file from
outside it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.loader import check_dataset_path

MARKER = "SECRET-OUTSIDE-c0ffee"
_recording: list[str] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _recording is not None and event == "open" and args:
        path = args[0]
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if isinstance(path, str | os.PathLike):
            _recording.append(os.path.realpath(os.fspath(path)))


sys.addaudithook(_audit)  # cannot be removed: it records only inside opened_files()


@contextlib.contextmanager
def opened_files() -> Iterator[list[str]]:
    global _recording
    _recording = []
    try:
        yield _recording
    finally:
        _recording = None


def chat(n: int = 12, tag: str = "q") -> str:
    return "".join(json.dumps({"messages": [{"role": "user", "content": f"{tag} {i}"},
                                            {"role": "assistant", "content": f"{tag} a{i}"}]})
                   + "\n" for i in range(n))


def manifest(training: str = "../data/train.jsonl", validation: str | None = None) -> str:
    text = ("apiVersion: ftctl/v1\nkind: FineTunedModel\nmetadata: {name: m}\nspec:\n"
            f"  model: gpt-4o-mini-2024-07-18\n  training_file: {training}\n")
    return text + (f"  validation_file: {validation}\n" if validation else "")


def settings(manifests: str | None = None) -> str:
    text = "apiVersion: ftctl/v1\nkind: Project\nworkspace: w\nprovider: {type: local}\n"
    return text + (f"manifests: {manifests}\n" if manifests else "")


def layout(base: Path) -> tuple[Path, Path]:
    root, outside = base / "repo", base / "outside"
    (root / "models").mkdir(parents=True)
    (root / "data").mkdir()
    outside.mkdir()
    (root / "ftctl.yaml").write_text(settings())
    (root / "data" / "train.jsonl").write_text(chat())
    (outside / "secret.jsonl").write_text(chat(tag=MARKER))
    (outside / "secret.yaml").write_text(manifest().replace("name: m", f"name: {MARKER}"))
    return root, outside


Attack = Callable[[Path, Path], None]


def _escape_relative(root: Path, out: Path) -> None:
    (root / "models" / "m.yaml").write_text(manifest("../../outside/secret.jsonl"))


def _escape_absolute(root: Path, out: Path) -> None:
    (root / "models" / "m.yaml").write_text(manifest(str(out / "secret.jsonl")))


def _etc_passwd(root: Path, out: Path) -> None:
    (root / "models" / "m.yaml").write_text(manifest("../../../../../../../../etc/passwd"))


def _symlinked_dataset(root: Path, out: Path) -> None:
    (root / "data" / "train.jsonl").unlink()
    os.symlink(out / "secret.jsonl", root / "data" / "train.jsonl")
    (root / "models" / "m.yaml").write_text(manifest())


def _symlinked_validation_chain(root: Path, out: Path) -> None:
    os.symlink("../../outside/secret.jsonl", root / "data" / "hop.jsonl")
    os.symlink("hop.jsonl", root / "data" / "valid.jsonl")
    (root / "models" / "m.yaml").write_text(manifest(validation="../data/valid.jsonl"))


def _glob_escape_relative(root: Path, out: Path) -> None:
    (root / "ftctl.yaml").write_text(settings("['../outside/*.yaml']"))


def _glob_escape_absolute(root: Path, out: Path) -> None:
    (root / "ftctl.yaml").write_text(settings(f"['{out}/*.yaml']"))


def _glob_escape_dotdot_inside(root: Path, out: Path) -> None:
    (root / "ftctl.yaml").write_text(settings("['models/../../outside/*.yaml']"))


def _symlinked_manifest_file(root: Path, out: Path) -> None:
    (root / "models" / "m.yaml").write_text(manifest())
    os.symlink(out / "secret.yaml", root / "models" / "evil.yaml")


def _symlinked_manifest_dir(root: Path, out: Path) -> None:
    (root / "models" / "m.yaml").write_text(manifest())
    os.symlink(out, root / "models" / "vendor")


def _symlinked_settings(root: Path, out: Path) -> None:
    """ftctl.yaml itself replaced by a symlink to a file outside the repository."""
    (root / "models" / "m.yaml").write_text(manifest())
    (out / "ftctl.yaml").write_text(settings().replace("workspace: w", f"workspace: {MARKER}")
                                    + "bogus: 1\n")
    (root / "ftctl.yaml").unlink()
    os.symlink(out / "ftctl.yaml", root / "ftctl.yaml")


ATTACKS = [
    pytest.param(_escape_relative, id="dataset-dotdot"),
    pytest.param(_escape_absolute, id="dataset-absolute"),
    pytest.param(_etc_passwd, id="dataset-etc-passwd"),
    pytest.param(_symlinked_dataset, id="dataset-symlink"),
    pytest.param(_symlinked_validation_chain, id="validation-symlink-chain"),
    pytest.param(_glob_escape_relative, id="glob-dotdot"),
    pytest.param(_glob_escape_absolute, id="glob-absolute"),
    pytest.param(_glob_escape_dotdot_inside, id="glob-dotdot-inside"),
    pytest.param(_symlinked_manifest_file, id="manifest-symlink"),
    pytest.param(_symlinked_manifest_dir, id="manifest-dir-symlink"),
    pytest.param(_symlinked_settings, id="settings-symlink"),
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_plan_reads_nothing_outside_the_repository(tmp_path: Path, attack: Attack) -> None:
    root, outside = layout(tmp_path)
    attack(root, outside)
    env = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "NO_COLOR": "1", "CI": "1"}
    with opened_files() as opened:
        result = CliRunner().invoke(main, ["-C", str(root), "plan"], env=env)
    real_outside = os.path.realpath(outside)
    escaped = [p for p in opened
               if p.startswith(real_outside + os.sep) or p in ("/etc/passwd", "/etc/hosts")]
    assert escaped == [], f"plan opened files outside the repository: {escaped}"
    assert MARKER not in result.stdout + result.stderr
    assert result.exit_code == 1, result.stdout + result.stderr


def test_a_settings_symlink_to_the_environment_leaks_nothing(tmp_path: Path) -> None:
    """A real process: /proc/self/environ is the environment it was started with."""
    root, _ = layout(tmp_path)
    (root / "models" / "m.yaml").write_text(manifest())
    (root / "ftctl.yaml").unlink()
    os.symlink("/proc/self/environ", root / "ftctl.yaml")
    env = {"AAA_SECRET": MARKER, **os.environ, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    done = subprocess.run([sys.executable, "-m", "reconciler", "-C", str(root), "plan"],
                          env=env, capture_output=True, text=True, timeout=120,
                          errors="replace")
    shown = done.stdout + done.stderr
    assert MARKER not in shown and os.environ["OPENAI_API_KEY"] not in shown, shown
    assert done.returncode == 1


def test_a_committed_state_dir_symlink_writes_nothing_outside(tmp_path: Path) -> None:
    root, outside = layout(tmp_path)
    (root / "models" / "m.yaml").write_text(manifest())
    os.symlink(outside, root / ".ftctl")
    before = sorted(p.name for p in outside.rglob("*"))
    validated = CliRunner().invoke(main, ["-C", str(root), "validate"])
    planned = CliRunner().invoke(main, ["-C", str(root), "plan"], env={"OPENAI_BASE_URL": ""})
    assert sorted(p.name for p in outside.rglob("*")) == before
    assert validated.exit_code == 0, validated.stderr  # the cache is skipped, not an error
    assert planned.exit_code == 1 and ".ftctl" in planned.stderr, planned.stderr


def test_the_recorder_sees_what_plan_reads(tmp_path: Path) -> None:
    """Control for the test above: the dataset inside the repository is seen being read."""
    root, _ = layout(tmp_path)
    (root / "models" / "m.yaml").write_text(manifest())
    with opened_files() as opened:
        CliRunner().invoke(main, ["-C", str(root), "validate"])
    assert os.path.realpath(root / "data" / "train.jsonl") in opened


@pytest.mark.parametrize("path", ["../../outside/secret.jsonl", "../../../../etc/passwd",
                                  "/etc/passwd", "../data/../../outside/secret.jsonl",
                                  "../data/link.jsonl", "../data/linkdir/secret.jsonl",
                                  "C:/Windows/win.ini", "\\\\server\\share\\x.jsonl"])
def test_dataset_paths_cannot_escape_the_repository(tmp_path: Path, path: str) -> None:
    """Paths as written in models/m.yaml; the one good path is the control."""
    root, outside = layout(tmp_path)
    os.symlink(outside / "secret.jsonl", root / "data" / "link.jsonl")
    os.symlink(outside, root / "data" / "linkdir")
    assert check_dataset_path("../data/train.jsonl", "models", str(root), None) == ()
    problems = check_dataset_path(path, "models", str(root), None)
    assert problems and problems[0].severity.value == "error", f"{path} was accepted"


def _saved_plan_pointing_outside(tmp_path: Path) -> tuple[Path, Path]:
    """A real saved plan whose upload is edited to name a file outside the repository."""
    root, outside = layout(tmp_path)
    (root / "models" / "m.yaml").write_text(manifest())
    saved = root / "plan.json"
    result = CliRunner().invoke(main, ["-C", str(root), "plan", "--out", str(saved)],
                                env={"OPENAI_BASE_URL": ""})
    assert result.exit_code == 0, result.stdout + result.stderr
    text = saved.read_text()
    secret = (outside / "secret.jsonl").read_bytes()
    sha = hashlib.sha256(secret).hexdigest()
    original = json.loads(text)
    upload = next(s for s in original["plan"]["steps"]
                  if s["payload"]["type"] == "upload_file")
    fields = upload["payload"]
    text = (text.replace(fields["repo_path"], "../outside/secret.jsonl")
                .replace(fields["sha256"], sha)
                .replace(f'"bytes": {fields["bytes"]}', f'"bytes": {len(secret)}'))
    saved.write_text(text)
    return root, saved


def test_a_tampered_saved_plan_cannot_upload_a_file_from_outside(tmp_path: Path) -> None:
    root, saved = _saved_plan_pointing_outside(tmp_path)
    result = CliRunner().invoke(main, ["-C", str(root), "apply", str(saved), "--auto-approve",
                                       "--no-wait"], env={"OPENAI_BASE_URL": ""})
    db = root / ".ftctl" / "emulator.db"
    with contextlib.closing(sqlite3.connect(db)) as conn:
        files = conn.execute("SELECT COUNT(*) FROM files").fetchone()[0]
    assert files == 0, f"a file from outside was uploaded:\n{result.stdout}{result.stderr}"
    assert result.exit_code == 1
