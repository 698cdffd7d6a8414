"""Azure OpenAI's per-resource limits refused by `apply` without a saved plan, before any
write, as `plan` refuses them; and the fine-tuned deployment limit (deployments there + new
ones - removed ones + one temporary deployment per gate running at once) at plan and apply.

Against the emulator's Azure dialect in process with its limits shrunk (the same numbers
given to ftctl), through run_apply / run_plan with the AzureApi the CLI would open. Every test
also shows the emulator would have refused the same write: ftctl's arithmetic is Azure's."""

from __future__ import annotations

from pathlib import Path

from reconciler.app.apply import ApplyReport
from reconciler.app.guardrails import (
    LIMIT_CODE,
    ResourceLimits,
    ResourceUsage,
    enforce_resource_limits,
    reading_usage,
)
from reconciler.app.plan import PlanRunOptions, run_plan
from tests.client.azure_helpers import chat_file
from tests.conftest import FakeClock
from tests.emulator.azure_support import Azure

from .azure_inprocess import apply, emulator, opener
from .conftest import Project, Recorder


def _apply(project: Project, azure: Azure, limits: ResourceLimits,
           recorder: Recorder) -> ApplyReport:
    return apply(project.root, azure, recorder, wait=False, limits=limits)


def _refusals(report: ApplyReport) -> list[str]:
    return [d.summary for d in report.diagnostics if d.is_error and d.code == LIMIT_CODE]


def _counts(azure: Azure) -> tuple[int, int, int]:
    files = azure.v1.get("/files").json()["data"]
    jobs = azure.v1.get("/fine_tuning/jobs", params={"limit": 100}).json()["data"]
    deployments = azure.arm.get("/deployments").json()["value"]
    return len(files), len(jobs), len(deployments)


def _refused_before_any_write(report: ApplyReport, azure: Azure,
                              before: tuple[int, int, int]) -> None:
    assert not report.ok and report.results == ()  # no step ran
    assert _counts(azure) == before


def test_apply_refuses_files_over_the_limit(
    azure_project: Project, fake_clock: FakeClock, tmp_path: Path, recorder: Recorder,
) -> None:
    azure = emulator(tmp_path, fake_clock, files=2)
    azure.upload(Path(chat_file(tmp_path / "other.jsonl")))  # another team's file
    azure_project.model("alpha")
    report = _apply(azure_project, azure, ResourceLimits(files=2), recorder)
    assert _refusals(report) == [
        "the plan would leave 4 fine-tune files on the Azure OpenAI resource, over its limit "
        "of 2 (1 there, 1 to upload, up to 2 identity records for the new jobs)"]
    _refused_before_any_write(report, azure, (1, 0, 0))
    azure.close()


def test_apply_refuses_file_bytes_over_the_limit(
    azure_project: Project, fake_clock: FakeClock, tmp_path: Path, recorder: Recorder,
) -> None:
    existing = Path(chat_file(tmp_path / "old.jsonl", n=40))
    cap = existing.stat().st_size + 100
    azure = emulator(tmp_path, fake_clock, file_bytes=cap)
    azure.upload(existing)
    azure_project.model("alpha")
    report = _apply(azure_project, azure, ResourceLimits(file_bytes=cap), recorder)
    [refusal] = _refusals(report)
    assert refusal.startswith("the plan would leave ") and "of fine-tune files" in refusal
    _refused_before_any_write(report, azure, (1, 0, 0))
    # The service would refuse that upload as well.
    big = azure.v1.post("/files", files={"file": ("x.jsonl", existing.read_bytes())},
                        data={"purpose": "fine-tune"})
    assert big.status_code == 400 and big.json()["error"]["code"] == "quotaExceeded"
    azure.close()


def test_apply_refuses_training_jobs_over_the_limit(
    azure_project: Project, fake_clock: FakeClock, tmp_path: Path, recorder: Recorder,
) -> None:
    azure = emulator(tmp_path, fake_clock, training_jobs=1)
    azure.train(Path(chat_file(tmp_path / "other.jsonl")))
    azure_project.model("alpha")
    before = _counts(azure)
    report = _apply(azure_project, azure, ResourceLimits(training_jobs=1), recorder)
    assert _refusals(report) == [
        "the plan would leave 2 training jobs on the Azure OpenAI resource, over its limit "
        "of 1 (1 there, 1 to create)"]
    _refused_before_any_write(report, azure, before)
    azure.close()


def _deployed_elsewhere(azure: Azure, tmp_path: Path) -> str:
    """Another team's fine-tuned model, deployed: one of the resource's deployments."""
    model = azure.train(Path(chat_file(tmp_path / "other.jsonl")))["fine_tuned_model"]
    azure.deploy("their-bot", model)
    return str(model)


def test_a_gate_needs_a_temporary_deployment_refused_at_the_deployment_limit(
    azure_project: Project, fake_clock: FakeClock, tmp_path: Path, recorder: Recorder,
) -> None:
    azure = emulator(tmp_path, fake_clock, fine_tuned_deployments=1)
    model = _deployed_elsewhere(azure, tmp_path)
    azure_project.model("alpha", checks=[("Where is my order?", "ships")])
    expected = [
        "the plan would need 2 fine-tuned deployments on the Azure OpenAI resource, over its "
        "limit of 1 (1 there, 0 to create, 0 to remove, 1 temporary for checks at once)"]
    limits = ResourceLimits(deployments=1)
    before = _counts(azure)
    usage = ResourceUsage()
    run = run_plan(str(azure_project.root), options=PlanRunOptions(),
                   open_remote=reading_usage(opener(azure, azure_project.root), usage))
    run = enforce_resource_limits(run, usage, limits)
    assert run.plan is not None and run.plan.has_errors
    assert [d.summary for d in run.plan.notes if d.code == LIMIT_CODE] == expected
    report = _apply(azure_project, azure, limits, recorder)
    assert _refusals(report) == expected
    _refused_before_any_write(report, azure, before)
    # The emulator refuses a second fine-tuned deployment too.
    assert azure.put_deployment("alpha-ftctl-verify", model, "DeveloperTier").status_code >= 400
    azure.close()


def test_an_ungated_model_needs_no_deployment_and_applies(
    azure_project: Project, fake_clock: FakeClock, tmp_path: Path, recorder: Recorder,
) -> None:
    azure = emulator(tmp_path, fake_clock, fine_tuned_deployments=1)
    _deployed_elsewhere(azure, tmp_path)
    azure_project.model("alpha")
    report = _apply(azure_project, azure, ResourceLimits(deployments=1), recorder)
    assert _refusals(report) == [] and report.ok, report.diagnostics
    assert _counts(azure)[1] == 2  # the job was created
    azure.close()
