"""`ftctl follow` and `ftctl jobs …` end to end on provider local (the emulator on loopback, its
database under .ftctl/): exit codes, text and json formats, confirmation, cancel and the next
plan."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reconciler.cli import cmd_jobs

FAST = ("--poll-interval", "0.02")


def _apply_no_wait(ftctl: Any) -> None:
    result = ftctl("apply", "--auto-approve", "--no-wait")
    assert result.exit_code == 0, result.output + result.stderr


@pytest.fixture
def slow(project: Any) -> Any:
    """A project whose jobs take minutes: they are still running while the test acts."""
    project.speed = 1.0
    project.settings()
    return project


def test_follow_prints_progress_then_the_model_id(ftctl: Any) -> None:
    _apply_no_wait(ftctl)
    result = ftctl("follow", "bot", *FAST)
    assert result.exit_code == 0, result.stderr
    model = result.stdout.strip()
    assert model.startswith("ft:gpt-4o-mini-2024-07-18:") and "\n" not in model
    assert "bot: info: The job has successfully completed" in result.stderr  # apply's display
    assert "succeeded, step 12/12" in result.stderr
    assert result.stderr.rstrip().endswith("succeeded.")
    # Following again (a finished job) exits with the same outcome and model at once.
    again = ftctl("follow", "bot", *FAST)
    assert again.exit_code == 0 and again.stdout.strip() == model


def test_follow_reattaches_to_a_job_in_mid_run(project: Any, ftctl: Any) -> None:
    project.speed = 15.0  # a job takes about 6 real seconds: still training when follow starts
    project.settings()
    _apply_no_wait(ftctl)
    result = ftctl("follow", "bot", *FAST)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("Following bot: ftjob-")
    statuses = [line.split(",")[0].split()[-1].rstrip(".") for line in result.stderr.splitlines()
                if line.startswith("bot: ftjob-")]
    assert statuses[0] != "succeeded" and statuses[-1] == "succeeded"
    assert result.stdout.startswith("ft:gpt-4o-mini-2024-07-18:")


def test_follow_exits_1_for_a_cancelled_job(slow: Any, ftctl: Any) -> None:
    _apply_no_wait(ftctl)
    listed = json.loads(ftctl("jobs", "list", "--format", "json").stdout)["jobs"]
    (job,) = listed
    assert job["status"] in ("validating_files", "queued", "running")
    assert ftctl("jobs", "cancel", "bot", "--yes").exit_code == 0
    result = ftctl("follow", job["id"], *FAST)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"bot: {job['id']} cancelled." in result.stderr


def test_follow_unknown_name_is_an_error(ftctl: Any) -> None:
    result = ftctl("follow", "ghost", *FAST)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no model named 'ghost' in workspace 'ops'")


def test_cancel_refuses_without_a_terminal_then_cancels_with_yes(slow: Any, ftctl: Any) -> None:
    _apply_no_wait(ftctl)
    refused = ftctl("jobs", "cancel", "bot")
    assert refused.exit_code == 1
    assert "stdin is not a terminal; rerun with --yes" in refused.stderr
    assert json.loads(ftctl("jobs", "get", "bot", "--format", "json").stdout)["status"] != (
        "cancelled")
    done = ftctl("jobs", "cancel", "bot", "--yes")
    assert done.exit_code == 0, done.stderr
    assert "Cancelled ftjob-" in done.stdout and "of bot" in done.stdout
    assert "Warning: the manifest of bot still asks for this version" in done.stderr
    again = ftctl("jobs", "cancel", "bot", "--yes")
    assert again.exit_code == 1
    assert "bot has no job in progress (latest: ftjob-" in again.stderr
    assert "cancelled); nothing to cancel" in again.stderr


def test_cancel_asks_on_a_terminal(slow: Any, ftctl: Any, monkeypatch: Any) -> None:
    _apply_no_wait(ftctl)
    monkeypatch.setattr(cmd_jobs, "stdin_is_terminal", lambda: True)  # CliRunner has no tty
    declined = ftctl("jobs", "cancel", "bot", input="n\n")
    assert declined.exit_code == 1 and "Nothing was changed." in declined.stderr
    assert "Cancel 1 job(s) of bot: ftjob-" in declined.stderr
    accepted = ftctl("jobs", "cancel", "bot", "--format", "json", input="y\n")
    assert accepted.exit_code == 0, accepted.stderr
    doc = json.loads(accepted.stdout)
    assert [j["status"] for j in doc["cancelled"]] == ["cancelled"]
    assert "next `ftctl apply` starts the job again" in doc["warning"]


def test_cancel_effect_on_the_next_plan(slow: Any, ftctl: Any) -> None:
    _apply_no_wait(ftctl)
    job_id = json.loads(ftctl("jobs", "get", "bot", "--format", "json").stdout)["id"]
    in_flight = json.loads(ftctl("plan", "--format", "json").stdout)
    assert in_flight["summary"].get("create", 0) == 0  # the job in progress is left alone
    assert ftctl("jobs", "cancel", job_id, "--yes").exit_code == 0
    # As the warning says: the next plan starts the job again (the manifest still wants it).
    after = ftctl("plan", "--format", "json", "--detailed-exitcode")
    assert after.exit_code == 2, after.stdout + after.stderr
    doc = json.loads(after.stdout)
    assert doc["summary"]["create"] == 1
    assert [c["reason"] for c in doc["changes"] if c["action"] == "create"] == ["cancelled"]
    cancelled_twice = ftctl("jobs", "cancel", job_id, "--yes")
    assert cancelled_twice.exit_code == 1
    assert f"job {job_id} has already cancelled; nothing to cancel" in cancelled_twice.stderr


def test_jobs_list_marks_what_this_workspace_manages(ftctl: Any, project: Any) -> None:
    _apply_no_wait(ftctl)
    with project.remote() as api:
        (mine,) = api.list_jobs()
        hand_made = api.create_job({"model": mine.model, "training_file": mine.training_file})
        other = api.create_job({"model": mine.model, "training_file": mine.training_file,
                                "metadata": {"ftctl-workspace": "elsewhere",
                                             "ftctl-name": "theirs", "ftctl-version": "3"}})
    default = json.loads(ftctl("jobs", "list", "--format", "json").stdout)["jobs"]
    assert [j["id"] for j in default] == [mine.id]
    assert default[0]["managed_by"] == {"workspace": "ops", "name": "bot", "version": 1,
                                        "managed": True, "manifest": True}
    everything = ftctl("jobs", "list", "--all", "--format", "json")
    rows = {j["id"]: j["managed_by"] for j in json.loads(everything.stdout)["jobs"]}
    assert set(rows) == {mine.id, hand_made.id, other.id}
    assert rows[hand_made.id]["managed"] is False and rows[hand_made.id]["workspace"] is None
    assert rows[other.id]["workspace"] == "elsewhere" and rows[other.id]["managed"] is False
    text = ftctl("jobs", "list", "--all")
    assert text.exit_code == 0
    lines = {line.split()[0]: line for line in text.stdout.splitlines()[1:]}
    assert " bot v1 " in lines[mine.id]
    assert "theirs v3 (workspace elsewhere)" in lines[other.id]
    assert lines[hand_made.id].split()[2] == "-"


def test_orphaned_jobs_are_marked(ftctl: Any, project: Any) -> None:
    _apply_no_wait(ftctl)
    project.remove("bot")
    project.model("other")
    rows = json.loads(ftctl("jobs", "list", "--format", "json").stdout)["jobs"]
    assert rows[0]["managed_by"]["name"] == "bot" and rows[0]["managed_by"]["manifest"] is False
    assert "bot v1 (orphaned)" in ftctl("jobs", "list").stdout


def test_jobs_get_and_events(ftctl: Any) -> None:
    _apply_no_wait(ftctl)
    assert ftctl("follow", "bot", *FAST).exit_code == 0
    doc = json.loads(ftctl("jobs", "get", "bot", "--format", "json").stdout)
    assert doc["status"] == "succeeded" and doc["fine_tuned_model"].startswith("ft:")
    assert doc["metadata"]["ftctl-name"] == "bot" and doc["managed_by"]["version"] == 1
    assert doc["error"] is None and doc["hyperparameters"]["n_epochs"] == 1
    text = ftctl("jobs", "get", doc["id"])
    assert text.exit_code == 0
    fields = dict(line.split(":", 1) for line in text.stdout.splitlines())
    assert fields["id"].strip() == doc["id"]
    assert fields["fine-tuned model"].strip() == doc["fine_tuned_model"]
    events = json.loads(ftctl("jobs", "events", "bot", "--format", "json").stdout)
    messages = [e["message"] for e in events["events"]]
    assert messages[0].startswith("Created fine-tuning job") and events["job"] == doc["id"]
    assert messages[-1] == "The job has successfully completed"
    lines = ftctl("jobs", "events", doc["id"]).stdout.splitlines()
    assert lines[0].endswith(messages[0]) and len(lines) == len(messages)
    missing = ftctl("jobs", "get", "ftjob-nope")
    assert missing.exit_code == 1
    assert "Error: no fine-tuning job ftjob-nope in this organization" in missing.stderr


def test_events_follow_streams_json_lines_until_the_end(ftctl: Any) -> None:
    _apply_no_wait(ftctl)
    result = ftctl("jobs", "events", "bot", "--follow", "--format", "json", *FAST)
    assert result.exit_code == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[0]["message"].startswith("Created fine-tuning job")
    assert events[-1]["message"] == "The job has successfully completed"
    assert len({e["id"] for e in events}) == len(events)
    assert "succeeded." in result.stderr


def test_invalid_project_prints_diagnostics(ftctl: Any, project: Any) -> None:
    (project.root / "models" / "bot.yaml").write_text(
        "apiVersion: ftctl/v1\nkind: FineTunedModel\nmetadata: {name: bot}\nspec:\n  n_epoch: 3\n")
    for args in (("jobs", "list"), ("follow", "bot"), ("models", "list"), ("try", "bot", "x")):
        result = ftctl(*args)
        assert result.exit_code == 1, args
        assert "models/bot.yaml:" in result.stderr and result.stdout == ""
