"""Azure OpenAI's per-resource limits checked on the finished plan, before any write: files
after the plan's uploads (identity records included), their total size, and training jobs.
Against the emulator's Azure dialect with its limits shrunk (the same numbers given to the
guardrail), through run_plan and the CLI's `reading_usage` wrapper, as `ftctl plan` runs it."""

from __future__ import annotations

from pathlib import Path

from reconciler.app.guardrails import (
    LIMIT_CODE,
    ResourceLimits,
    ResourceUsage,
    enforce_resource_limits,
    reading_usage,
)
from reconciler.app.plan import PlanRun, PlanRunOptions, run_plan
from reconciler.emulator import make_app
from tests.client.azure_helpers import chat_file
from tests.conftest import EMULATOR_KEY, EmulatorTransport, FakeClock
from tests.emulator.azure_support import Azure

from .azure_inprocess import emulator, opener
from .conftest import Project


def _plan(project: Project, azure: Azure, limits: ResourceLimits,
          out: str | None = None) -> PlanRun:
    usage = ResourceUsage()
    run = run_plan(str(project.root), options=PlanRunOptions(out=out),
                   open_remote=reading_usage(opener(azure, project.root), usage))
    assert usage.observed
    return enforce_resource_limits(run, usage, limits)


def _errors(run: PlanRun) -> list[str]:
    assert run.plan is not None
    return [d.summary for d in run.plan.notes if d.is_error and d.code == LIMIT_CODE]


def _counts(azure: Azure) -> tuple[int, int]:
    files = azure.v1.get("/files").json()["data"]
    jobs = azure.v1.get("/fine_tuning/jobs", params={"limit": 100}).json()["data"]
    return len(files), len(jobs)


def _close(azure: Azure) -> None:
    azure.close()
    azure.app.close()


def test_files_after_uploads_and_identity_records_over_the_limit_are_refused(
    azure_project: Project, fake_clock: FakeClock, tmp_path: Path,
) -> None:
    azure = emulator(tmp_path, fake_clock, files=2)
    azure_project.model("alpha")  # one upload, one create: up to two identity records
    run = _plan(azure_project, azure, ResourceLimits(files=2),
                out=str(tmp_path / "plan.bin"))
    assert _errors(run) == [
        "the plan would leave 3 fine-tune files on the Azure OpenAI resource, over its limit "
        "of 2 (0 there, 1 to upload, up to 2 identity records for the new jobs)"]
    assert run.plan is not None and run.plan.has_errors
    assert run.saved_to is None and not (tmp_path / "plan.bin").exists()
    assert _counts(azure) == (0, 0)  # nothing written
    # The guardrail's arithmetic is the service's: a third file is refused there too.
    for n in range(2):
        azure.upload(Path(chat_file(tmp_path / f"f{n}.jsonl")))
    third = azure.v1.post("/files", files={"file": ("x.jsonl", b"{}\n")},
                          data={"purpose": "fine-tune"})
    assert third.status_code == 400 and third.json()["error"]["code"] == "quotaExceeded"
    _close(azure)


def test_a_plan_that_fits_exactly_is_not_refused(
    azure_project: Project, fake_clock: FakeClock, tmp_path: Path,
) -> None:
    azure = emulator(tmp_path, fake_clock, files=3, training_jobs=1)
    azure_project.model("alpha")
    run = _plan(azure_project, azure, ResourceLimits(files=3, training_jobs=1))
    assert run.plan is not None and _errors(run) == [] and not run.plan.has_errors
    _close(azure)


def test_total_file_size_over_the_limit_is_refused(
    azure_project: Project, fake_clock: FakeClock, tmp_path: Path,
) -> None:
    existing = Path(chat_file(tmp_path / "old.jsonl", n=40))
    size = existing.stat().st_size
    azure = emulator(tmp_path, fake_clock, file_bytes=size + 100)
    azure.upload(existing)
    azure_project.model("alpha")
    run = _plan(azure_project, azure, ResourceLimits(file_bytes=size + 100))
    upload = (azure_project.root / "data" / "alpha.jsonl").stat().st_size
    kib = lambda n: f"{n / 1024:,.1f} KiB"  # noqa: E731
    assert _errors(run) == [
        f"the plan would leave {kib(size + upload)} of fine-tune files on the Azure OpenAI "
        f"resource, over its limit of {kib(size + 100)} ({kib(size)} there, {kib(upload)} "
        "to upload)"]
    assert _counts(azure) == (1, 0)
    _close(azure)


def test_training_jobs_of_every_workspace_count_against_the_limit(
    azure_project: Project, fake_clock: FakeClock, tmp_path: Path,
) -> None:
    azure = emulator(tmp_path, fake_clock, training_jobs=2)
    for n in range(2):  # another team's jobs on the same resource
        azure.train(Path(chat_file(tmp_path / f"other{n}.jsonl")))
    azure_project.model("alpha")
    before = _counts(azure)
    run = _plan(azure_project, azure, ResourceLimits(training_jobs=2))
    assert _errors(run) == [
        "the plan would leave 3 training jobs on the Azure OpenAI resource, over its limit "
        "of 2 (2 there, 1 to create)"]
    assert _counts(azure) == before  # nothing written
    refused = azure.v1.post("/fine_tuning/jobs", json={
        "model": "gpt-4o-mini-2024-07-18", "training_file": azure.upload(
            Path(chat_file(tmp_path / "third.jsonl")))})
    assert refused.status_code >= 400  # the service refuses the third job as well
    _close(azure)


def test_ftctl_plan_refuses_at_azures_real_limits_with_exit_1(
    azure_project: Project, fake_clock: FakeClock,
) -> None:
    # The embedded emulator's database, filled by another team to 99 of its 100 files.
    from click.testing import CliRunner

    from reconciler.cli import main

    state = azure_project.root / ".ftctl"
    state.mkdir()
    app = make_app(str(state / "emulator.db"), api_key=EMULATOR_KEY, clock=fake_clock,
                   dialect="azure")
    azure = Azure(lambda **o: (app, EmulatorTransport(app=app)), fake_clock)
    for n in range(99):
        r = azure.v1.post("/files", files={"file": (f"other-{n}.jsonl", b"{}\n")},
                          data={"purpose": "fine-tune"})
        assert r.status_code == 200, r.text
    _close(azure)  # `ftctl plan` starts its own emulator on this database
    azure_project.model("alpha")
    result = CliRunner().invoke(main, ["-C", str(azure_project.root), "plan", "--out", "p.bin"],
                                env={"AZURE_OPENAI_API_KEY": "", "AZURE_ACCESS_TOKEN": ""})
    assert result.exit_code == 1, result.output
    assert ("the plan would leave 102 fine-tune files on the Azure OpenAI resource, over its "
            "limit of 100 (99 there, 1 to upload, up to 2 identity records for the new jobs)"
            ) in result.stderr
    assert not (azure_project.root / "p.bin").exists()
