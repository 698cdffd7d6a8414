"""examples/azure end to end on a temporary copy: it validates, `apply --auto-approve` uploads
its datasets and trains on the local Azure dialect, the model answers to Azure's `BASE.ft-HEX`
id, and the next `plan` says "No changes"."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from reconciler.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "azure"
NO_SECRETS = {"OPENAI_BASE_URL": "", "OPENAI_API_KEY": "", "AZURE_OPENAI_API_KEY": "",
              "AZURE_ACCESS_TOKEN": "", "CI": "1"}


def _ftctl(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["-C", str(root), *args], env=NO_SECRETS)
    return result.exit_code, result.output


def test_the_azure_example_applies_then_plans_no_changes(tmp_path: Path) -> None:
    root = tmp_path / "azure"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".ftctl"))
    settings = root / "ftctl.yaml"
    text = settings.read_text(encoding="utf-8")
    assert "dialect: azure" in text
    settings.write_text(text.replace("speed: 200", "speed: 5000"), encoding="utf-8")

    code, out = _ftctl(root, "validate")
    assert code == 0 and "0 warning(s)" in out, out  # spec.deployment is not ignored here
    code, out = _ftctl(root, "apply", "--auto-approve")
    assert code == 0, out
    assert "done: upload data/support/train.jsonl" in out
    assert "done: upload data/support/valid.jsonl" in out
    assert "done: create support-bot (version 1)" in out and "Apply complete" in out
    code, out = _ftctl(root, "output", "--format", "text")
    [(name, model)] = [line.split("\t") for line in out.splitlines()]
    assert name == "support-bot" and model.startswith("gpt-4o-mini-2024-07-18.ft-"), out
    code, out = _ftctl(root, "plan")
    assert code == 0 and "No changes" in out, out
