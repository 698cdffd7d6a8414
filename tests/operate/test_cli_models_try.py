"""`ftctl models list|delete` and `ftctl try` end to end on provider local, and the operate
commands on `provider: openai` (the same code path, pointed at an emulator on loopback)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler.cli import main

FAST = ("--poll-interval", "0.02")


@pytest.fixture
def deployed(project: Any, ftctl: Any) -> dict[str, str]:
    """bot (chat) and legacy (babbage-002) trained; returns name -> fine-tuned model id."""
    project.model("legacy", base="babbage-002")
    applied = ftctl("apply", "--auto-approve", "--no-wait")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    models = {}
    for name in ("bot", "legacy"):
        followed = ftctl("follow", name, *FAST)
        assert followed.exit_code == 0, followed.stderr
        models[name] = followed.stdout.strip()
    return models


def _hand_made_model(project: Any, like: str) -> str:
    """Train a model outside ftctl (no metadata) from the same file as a managed job."""
    with project.remote() as api:
        (job,) = [j for j in api.list_jobs() if j.fine_tuned_model == like]
        made = api.create_job({"model": job.model, "training_file": job.training_file})
        for _ in range(500):
            made = api.get_job(made.id)
            if made.status.is_terminal:
                break
            time.sleep(0.02)  # a real server on a real clock: a few simulated seconds pass
        assert made.fine_tuned_model, made
        return made.fine_tuned_model


def test_try_chat_and_completion_models(deployed: dict[str, str], ftctl: Any) -> None:
    chat = ftctl("try", "bot", "Where is order 5?", "--temperature", "0.3", "--max-tokens", "30",
                 "--system", "Answer briefly.")
    assert chat.exit_code == 0, chat.stderr
    assert chat.stdout == "Order 5 has tracking number T5.\n"
    assert chat.stderr == f"bot v1: {deployed['bot']} (chat)\n"
    legacy = ftctl("try", "legacy", "Colour of item 3 ->", "--format", "json")
    doc = json.loads(legacy.stdout)
    assert doc == {"name": "legacy", "version": 1, "model": deployed["legacy"],
                   "base_model": "babbage-002", "endpoint": "completions", "answer": " blue 3"}
    by_id = ftctl("try", deployed["legacy"], "Colour of item 8 ->")
    assert by_id.exit_code == 0 and by_id.stdout == " blue 8\n"


def test_try_errors_and_versions(deployed: dict[str, str], ftctl: Any) -> None:
    assert ftctl("try", "bot", "hi", "--version", "1").exit_code == 0
    missing = ftctl("try", "bot", "hi", "--version", "4")
    assert missing.exit_code == 1
    assert missing.stderr == ("Error: bot has no version 4 with a model "
                              "(versions with a model: 1)\n")
    unknown = ftctl("try", "ghost", "hi")
    assert unknown.exit_code == 1 and unknown.stderr.startswith("Error: no model named 'ghost'")
    bad = ftctl("try", "bot", "hi", "--temperature", "9")
    assert bad.exit_code == 1  # a usage error: never 2, which means "changes"


def test_models_list_shows_manager_version_and_retirement(
    deployed: dict[str, str], ftctl: Any, project: Any
) -> None:
    loose = _hand_made_model(project, deployed["bot"])
    result = ftctl("models", "list", "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = {m["id"]: m for m in json.loads(result.stdout)["models"]}
    assert set(rows) == {deployed["bot"], deployed["legacy"], loose}
    legacy = rows[deployed["legacy"]]
    assert legacy["base_model"] == "babbage-002" and legacy["base_shutdown_date"] == "2027-02-15"
    assert legacy["managed_by"]["name"] == "legacy" and legacy["managed_by"]["version"] == 1
    assert legacy["current"] is True
    assert rows[deployed["bot"]]["base_shutdown_date"] is None
    assert rows[loose]["managed_by"]["workspace"] is None and rows[loose]["current"] is False
    text = ftctl("models", "list").stdout.splitlines()
    assert text[0].split()[:2] == ["MODEL", "MANAGED"]
    line = next(t for t in text if t.startswith(deployed["legacy"]))
    assert "legacy v1 (current)" in line and "2027-02-15" in line


def test_models_delete_refuses_managed_models_unless_forced(
    deployed: dict[str, str], ftctl: Any
) -> None:
    refused = ftctl("models", "delete", deployed["bot"], "--yes")
    assert refused.exit_code == 1
    assert "is version 1 of bot, which a manifest manages" in refused.stderr
    assert "removing the manifest of bot" in refused.stderr and "--force" in refused.stderr
    no_tty = ftctl("models", "delete", deployed["bot"], "--force")
    assert no_tty.exit_code == 1 and "stdin is not a terminal" in no_tty.stderr
    forced = ftctl("models", "delete", deployed["bot"], "--force", "--yes", "--format", "json")
    assert forced.exit_code == 0, forced.stderr
    assert json.loads(forced.stdout)["deleted"] == deployed["bot"]
    assert "trains it again" in forced.stderr
    plan = json.loads(ftctl("plan", "--format", "json").stdout)
    assert plan["summary"]["create"] == 1  # deleted out of band: recreated


def test_models_delete_leftovers(deployed: dict[str, str], ftctl: Any, project: Any) -> None:
    loose = _hand_made_model(project, deployed["bot"])
    deleted = ftctl("models", "delete", loose, "--yes")
    assert deleted.exit_code == 0 and deleted.stdout == f"Deleted {loose}.\n"
    listed = json.loads(ftctl("models", "list", "--format", "json").stdout)["models"]
    assert loose not in {m["id"] for m in listed}
    project.remove("legacy")  # an orphan: its manifest is gone, so it is a leftover too
    orphan = ftctl("models", "delete", deployed["legacy"], "--yes")
    assert orphan.exit_code == 0, orphan.stderr
    assert "(legacy v1 (orphaned))" in orphan.stdout
    gone = ftctl("models", "delete", loose, "--yes")
    assert gone.exit_code == 1 and f"no fine-tuned model {loose}" in gone.stderr
    base = ftctl("models", "delete", "babbage-002", "--yes")
    assert base.exit_code == 1 and "is not a fine-tuned model" in base.stderr


def test_provider_openai_takes_the_same_path(
    emulator_server: Any, tmp_path: Path, project: Any
) -> None:
    """provider openai against an emulator on loopback; a wrong key fails like plan does."""
    project.settings(type="openai", base_url=emulator_server.base_url)

    def run(*args: str, key: str) -> Any:
        return CliRunner().invoke(main, ["-C", str(project.root), *args],
                                  env={"OPENAI_API_KEY": key, "OPENAI_BASE_URL": ""})

    applied = run("apply", "--auto-approve", "--no-wait", key="sk-test")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    followed = run("follow", "bot", *FAST, key="sk-test")
    assert followed.exit_code == 0 and followed.stdout.startswith("ft:")
    answered = run("try", "bot", "Where is order 2?", key="sk-test")
    assert answered.stdout == "Order 2 has tracking number T2.\n"
    listed = json.loads(run("models", "list", "--format", "json", key="sk-test").stdout)
    assert [m["managed_by"]["name"] for m in listed["models"]] == ["bot"]
    wrong = "sk-wrong-key-DO-NOT-PRINT-42"
    plan_error = run("plan", key=wrong)
    assert plan_error.exit_code == 1
    for args in (("jobs", "list"), ("follow", "bot"), ("models", "list"), ("try", "bot", "hi"),
                 ("jobs", "cancel", "bot", "--yes"), ("models", "delete", "ft:x", "--yes")):
        result = run(*args, key=wrong)
        assert result.exit_code == 1, args
        assert wrong not in result.stdout + result.stderr
        assert _no_request_id(result.stderr) == _no_request_id(plan_error.stderr), args
    assert "Error: Incorrect API key provided" in plan_error.stderr


def _no_request_id(text: str) -> str:
    return re.sub(r"request req_\w+", "request …", text.splitlines()[-1])
