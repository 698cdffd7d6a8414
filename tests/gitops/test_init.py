"""`ftctl init`: the scaffold, refusing to overwrite, and plan working right after it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from reconciler.app import init as init_app
from reconciler.cli import main
from reconciler.errors import ConfigError

EXPECTED = {
    "ftctl.yaml",
    "models/support-bot.yaml",
    "data/support-bot/train.jsonl",
    ".github/workflows/ftctl.yml",
    ".gitignore",
}


def test_scaffold_writes_every_file(tmp_path: Path) -> None:
    result = init_app.scaffold(str(tmp_path / "ml-models"))
    assert set(result.written) == EXPECTED
    assert result.workspace == "ml-models"
    for rel in EXPECTED:
        assert (tmp_path / "ml-models" / rel).is_file()
    settings = yaml.safe_load((tmp_path / "ml-models" / "ftctl.yaml").read_text("utf-8"))
    assert settings["provider"]["type"] == "local"
    assert settings["workspace"] == "ml-models"
    assert ".ftctl/" in (tmp_path / "ml-models" / ".gitignore").read_text("utf-8").split()


def test_manifest_points_at_the_dataset(tmp_path: Path) -> None:
    init_app.scaffold(str(tmp_path), name="faq-bot", workspace="demo")
    manifest = yaml.safe_load((tmp_path / "models" / "faq-bot.yaml").read_text("utf-8"))
    assert manifest["metadata"]["name"] == "faq-bot"
    dataset = (tmp_path / "models" / manifest["spec"]["training_file"]).resolve()
    assert dataset == (tmp_path / "data" / "faq-bot" / "train.jsonl").resolve()
    text = (tmp_path / ".github" / "workflows" / "ftctl.yml").read_text("utf-8")
    assert "__" not in text.replace("__init__", "")  # every placeholder was filled


def test_dataset_has_twenty_valid_chat_examples(tmp_path: Path) -> None:
    init_app.scaffold(str(tmp_path))
    lines = (tmp_path / "data" / "support-bot" / "train.jsonl").read_text("utf-8").splitlines()
    assert len(lines) >= 20
    seen = set()
    for line in lines:
        messages = json.loads(line)["messages"]
        assert [m["role"] for m in messages] == ["system", "user", "assistant"]
        assert all(isinstance(m["content"], str) and m["content"].strip() for m in messages)
        seen.add(messages[1]["content"])
    assert len(seen) == len(lines)  # no duplicate prompts


def test_refuses_to_overwrite_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "ftctl.yaml").write_text("mine\n", encoding="utf-8")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "support-bot.yaml").write_text("mine\n", encoding="utf-8")
    (tmp_path / ".gitignore").write_text("mine\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        init_app.scaffold(str(tmp_path))
    assert "ftctl.yaml" in str(err.value) and "models/support-bot.yaml" in str(err.value)
    assert ".gitignore" not in str(err.value)  # appended to, never overwritten
    assert "--force" in str(err.value)
    assert (tmp_path / "ftctl.yaml").read_text("utf-8") == "mine\n"
    assert (tmp_path / ".gitignore").read_text("utf-8") == "mine\n"
    assert not (tmp_path / "data").exists()


def test_existing_gitignore_gets_the_missing_lines(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("node_modules/\nplan.bin", encoding="utf-8")
    result = init_app.scaffold(str(tmp_path))
    assert result.appended == (".gitignore",)
    text = (tmp_path / ".gitignore").read_text("utf-8")
    assert text.startswith("node_modules/\nplan.bin\n")
    assert text.splitlines().count("plan.bin") == 1 and ".ftctl/" in text.split()
    assert "Saved plans" not in text  # the comment goes with the line it explains
    assert "(lines added)" in init_app.next_steps(result, shown_dir=".")
    again = init_app.scaffold(str(tmp_path), force=True)
    assert again.unchanged == (".gitignore",)
    assert (tmp_path / ".gitignore").read_text("utf-8") == text


def test_a_file_in_the_way_of_the_directory(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x", encoding="utf-8")
    with pytest.raises(ConfigError, match="not a directory"):
        init_app.scaffold(str(tmp_path / "f"))


def test_force_overwrites(tmp_path: Path) -> None:
    (tmp_path / "ftctl.yaml").write_text("mine\n", encoding="utf-8")
    result = init_app.scaffold(str(tmp_path), force=True)
    assert result.overwritten == ("ftctl.yaml",)
    assert "workspace:" in (tmp_path / "ftctl.yaml").read_text("utf-8")


@pytest.mark.parametrize("name", ["Bad", "-x", "a_b", "x" * 65, ""])
def test_invalid_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError):
        init_app.scaffold(str(tmp_path), name=name or "ok", workspace=name or "Bad!")


def test_slug() -> None:
    assert init_app.slug("My Models_2") == "my-models-2"
    assert init_app.slug("___") == "ftctl"


def test_cli_init_and_refusal(tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["-C", str(tmp_path), "init", "proj"])
    assert first.exit_code == 0, first.output
    assert "Next steps:" in first.output and "ftctl plan" in first.output
    assert (tmp_path / "proj" / "ftctl.yaml").is_file()
    again = runner.invoke(main, ["-C", str(tmp_path), "init", "proj"])
    assert again.exit_code == 1
    assert "Refusing to overwrite" in again.output
    forced = runner.invoke(main, ["-C", str(tmp_path), "init", "proj", "--force"])
    assert forced.exit_code == 0


def test_note_when_inside_a_larger_git_repository(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    result = init_app.scaffold(str(tmp_path / "sub"))
    assert result.git_root == str(tmp_path)
    assert "working-directory" in init_app.next_steps(result, shown_dir="sub")
    at_root = init_app.scaffold(str(tmp_path), force=True)
    assert "working-directory" not in init_app.next_steps(at_root, shown_dir=".")


def test_scaffold_is_independent_of_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = init_app.scaffold("here")
    assert result.root == os.path.join(str(tmp_path), "here")


def test_init_then_validate_is_clean(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["init", str(tmp_path / "p")]).exit_code == 0
    result = runner.invoke(main, ["-C", str(tmp_path / "p"), "validate", "--format", "json"])
    assert result.exit_code == 0, result.output
    diags = json.loads(result.output)
    assert [d for d in diags if d["severity"] in ("error", "warning")] == []


def test_init_then_plan_against_the_local_provider(tmp_path: Path) -> None:
    runner = CliRunner()
    project = str(tmp_path / "p")
    assert runner.invoke(main, ["init", project]).exit_code == 0
    result = runner.invoke(main, ["-C", project, "plan", "--format", "json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["workspace"] == "p"
    [change] = plan["changes"]
    assert change["name"] == "support-bot" and change["action"] == "create"
    assert change["uploads"][0]["path"] == "data/support-bot/train.jsonl"
    assert plan["summary"]["create"] == 1 and plan["summary"]["upload"] == 1
    assert plan["errored"] is False


def test_templates_have_no_hidden_files() -> None:
    # Packaging globs skip names starting with a dot; `dot-` stands in for the dot.
    root = Path(init_app.__file__).resolve().parents[1] / "templates"
    names = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]
    assert len(names) >= 5
    assert [n for n in names if any(part.startswith(".") for part in n.split("/"))] == []


def test_init_apply_then_plan_has_no_changes(tmp_path: Path) -> None:
    """The whole first-run loop of the getting-started guide, on the local provider."""
    runner = CliRunner()
    project = str(tmp_path / "p")
    assert runner.invoke(main, ["init", project]).exit_code == 0
    applied = runner.invoke(main, ["-C", project, "apply", "--auto-approve"])
    assert applied.exit_code == 0, applied.output
    assert "Checks: 1 passed, 0 failed." in applied.output
    again = runner.invoke(main, ["-C", project, "plan", "--detailed-exitcode"])
    assert again.exit_code == 0, again.output
    assert "No changes" in again.stdout
