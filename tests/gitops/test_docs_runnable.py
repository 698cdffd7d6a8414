"""Every shell block in README.md and docs/*.md marked runnable is run, so the documented
commands cannot drift from the code.

A block is runnable when the line before its opening fence is `<!-- runnable -->` (run at the
root of a scratch repository holding a copy of examples/) or `<!-- runnable in examples -->`
(run inside that copy). The runnable blocks of one page run in order, in one scratch copy, as a
reader following the page would; each page gets a fresh copy. Every block must exit 0. `ftctl`
is this tree's, against the local provider (no network, no key).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
_BLOCK = re.compile(
    r"^<!-- runnable(?: in (?P<dir>[\w./-]+))? -->\n```(?:sh|bash|shell)\n(?P<body>.*?)^```",
    re.M | re.S,
)


@dataclass(frozen=True)
class Block:
    line: int
    directory: str  # relative to the scratch repository's root
    body: str


def runnable_blocks(text: str) -> list[Block]:
    return [
        Block(line=text.count("\n", 0, m.start()) + 2, directory=m["dir"] or ".",
              body=m["body"])
        for m in _BLOCK.finditer(text)
    ]


def test_the_marker_is_found_and_read() -> None:
    text = ("intro\n<!-- runnable -->\n```sh\nftctl validate\n```\n\n```sh\nnot marked\n```\n"
            "<!-- runnable in examples -->\n```bash\nftctl plan\nftctl show\n```\n")
    assert runnable_blocks(text) == [
        Block(line=3, directory=".", body="ftctl validate\n"),
        Block(line=11, directory="examples", body="ftctl plan\nftctl show\n"),
    ]


def test_enough_of_the_docs_is_runnable() -> None:
    per_page = {str(p.relative_to(REPO)): len(runnable_blocks(p.read_text("utf-8")))
                for p in PAGES}
    assert per_page["README.md"] >= 1 and per_page["docs/getting-started.md"] >= 5
    assert sum(per_page.values()) >= 10


def _env(tmp_path: Path) -> dict[str, str]:
    """PATH first finds an `ftctl` that runs this tree with this interpreter."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "ftctl"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m reconciler "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "GITHUB_", "FTCTL_"))}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", CI="1", NO_COLOR="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])))
    return env


@pytest.mark.parametrize("page", [p for p in PAGES if runnable_blocks(p.read_text("utf-8"))],
                         ids=lambda p: str(p.relative_to(REPO)))
def test_runnable_blocks_succeed(page: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(REPO / "examples", repo / "examples",
                    ignore=shutil.ignore_patterns(".ftctl", "*.bin", "plan.json"))
    settings = repo / "examples" / "ftctl.yaml"  # the emulator's pace only: jobs end sooner
    settings.write_text(re.sub(r"(?m)^(\s+speed:) \d+", r"\1 5000", settings.read_text()))
    env = _env(tmp_path)
    for block in runnable_blocks(page.read_text("utf-8")):
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", block.body],
                              cwd=repo / block.directory, env=env, capture_output=True,
                              text=True, timeout=120, check=False)
        assert done.returncode == 0, (
            f"{page.relative_to(REPO)}:{block.line}: exit {done.returncode}\n{block.body}\n"
            f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}")


TABLED = ("init", "validate", "plan", "apply", "drift", "show", "output", "try", "follow")


@pytest.mark.parametrize("name", TABLED)
def test_readme_command_table_lists_every_option(name: str) -> None:
    import click

    from reconciler.cli import main

    command = main.get_command(click.Context(main), name)
    assert command is not None
    rows = [line for line in (REPO / "README.md").read_text("utf-8").splitlines()
            if line.startswith(f"| `ftctl {name} ") or line.startswith(f"| `ftctl {name}`")]
    assert len(rows) == 1, rows
    usage = re.match(r"\| `([^`]*)`", rows[0])[1]  # type: ignore[index]
    flags = [opt for p in command.params if isinstance(p, click.Option) and not p.hidden
             for opt in p.opts + p.secondary_opts if opt.startswith("--") and opt != "--help"]
    missing = [flag for flag in flags if flag not in usage]
    assert missing == [], f"README.md's row for `ftctl {name}` lacks {missing}"


def test_plan_format_example_names_steps_as_plans_do() -> None:
    import json

    text = (REPO / "docs" / "plan-format.md").read_text("utf-8")
    [example] = [json.loads(m[1]) for m in re.finditer(r"```json\n(.*?)```", text, re.S)
                 if '"format_version"' in m[1]]
    changes = example["changes"]
    keys = {s["key"] for c in changes for s in c["steps"]}
    keys |= {f"upload/{u['path']}" for c in changes for u in c["uploads"]}
    keys |= {f"upload/{u['path']}" for u in example["uploads"]}
    needed = {d for c in changes for s in c["steps"] for d in s["depends_on"]}
    assert needed and needed <= keys, needed - keys
