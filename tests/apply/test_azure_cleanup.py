"""Cleanup on Azure OpenAI, end to end against the emulator's Azure dialect in process:
apply deletes ftctl's own dataset uploads nothing needs any more (on by default,
`delete_unneeded_files: false` keeps them), never another file and never one a job of any
workspace names; `prune: true` deletes the finished jobs of retired versions through the dated
API. Deployments are the deployment steps' tests."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from reconciler.plan import DeleteFile, DeleteJob, DeleteModel, Plan
from reconciler.planner.identity import file_name, sha_from_file_name
from reconciler.render import render
from tests.client.azure_helpers import chat_file
from tests.conftest import FakeClock
from tests.emulator.azure_support import Azure

from .azure_inprocess import LOCAL_AZURE, apply, emulator, plan
from .conftest import WORKSPACE, Project, Recorder


def settings(project: Project, **extra: str) -> None:
    lines = [f"{k}: {v}" for k, v in extra.items()]
    (project.root / "ftctl.yaml").write_text(
        f"apiVersion: ftctl/v1\nkind: Project\nworkspace: {WORKSPACE}\n{LOCAL_AZURE}"
        + "".join(line + "\n" for line in lines))


@pytest.fixture
def azure(tmp_path: Path, fake_clock: FakeClock) -> Any:
    found = emulator(tmp_path, fake_clock)
    yield found
    found.close()


def files(azure: Azure) -> dict[str, str]:
    """file id -> name, of every file on the resource."""
    return {f["id"]: f["filename"] for f in azure.v1.get("/files").json()["data"]}


def datasets(azure: Azure) -> dict[str, str]:
    """file id -> name, of ftctl's content-addressed dataset uploads."""
    return {i: n for i, n in files(azure).items() if sha_from_file_name(n) is not None}


def records(azure: Azure) -> set[str]:
    """The names of identity records (written while the service's metadata is untested)."""
    return {n for n in files(azure).values() if n.startswith("ftctl-identity.")}


def jobs(azure: Azure) -> dict[str, str]:
    """job id -> status, of every job on the resource."""
    listed = azure.v1.get("/fine_tuning/jobs", params={"limit": 100}).json()["data"]
    return {j["id"]: j["status"] for j in listed}


def made(project: Project, azure: Azure) -> Plan:
    run = plan(project.root, azure)
    assert run.plan is not None and not run.plan.has_errors, run.diagnostics
    return run.plan


def upload_as(azure: Azure, name: str, content: bytes) -> str:
    r = azure.v1.post("/files", files={"file": (name, content)}, data={"purpose": "fine-tune"})
    assert r.status_code == 200, r.text
    azure.clock.advance(60)  # processed
    return str(r.json()["id"])


def content_addressed(path: Path) -> tuple[str, bytes]:
    data = path.read_bytes()
    return file_name(hashlib.sha256(data).hexdigest()), data


def test_a_retrain_deletes_the_old_dataset_file_once_the_old_version_is_gone(
    project: Project, azure: Azure, recorder: Recorder,
) -> None:
    settings(project)
    project.model("alpha")
    assert apply(project.root, azure, recorder).ok
    [old_file] = datasets(azure)
    kept_records = records(azure)
    assert kept_records  # the first create writes one (metadata not yet known kept)
    project.data("alpha", n=14)  # a changed dataset: version 2 on a new file
    planned = made(project, azure)
    [delete_model] = [s for s in planned.steps if isinstance(s.payload, DeleteModel)]
    [delete_file] = [s for s in planned.steps if isinstance(s.payload, DeleteFile)]
    assert delete_file.payload == DeleteFile(file_id=old_file, filename=files(azure)[old_file],
                                             bytes=delete_file.payload.bytes)
    # The file goes only after the job naming it (deleted with its model on Azure).
    assert delete_file.depends_on == (delete_model.key,)
    text = render(planned, "text")
    assert f"- delete file {old_file} (ftctl-" in text
    assert "dataset files no manifest, job or kept version needs any more" in text
    assert "1 dataset file" in render(planned, "markdown")
    report = apply(project.root, azure, recorder)
    assert report.ok, report.diagnostics
    left = datasets(azure)
    assert old_file not in left and len(left) == 1  # only version 2's dataset
    assert kept_records <= records(azure)  # identity records are never cleaned up
    after = made(project, azure)
    assert after.converged, render(after, "text")


def test_never_a_foreign_file_nor_one_another_workspaces_job_names(
    project: Project, azure: Azure, recorder: Recorder, tmp_path: Path,
) -> None:
    settings(project)
    project.model("alpha")
    # Another workspace on the same resource trains on an ftctl upload this project never
    # needs: content-addressed files are shared, so its job keeps the file.
    theirs_name, theirs_data = content_addressed(Path(chat_file(tmp_path / "theirs.jsonl")))
    theirs = upload_as(azure, theirs_name, theirs_data)
    azure.create_job(theirs)
    foreign = upload_as(azure, "notes.jsonl", b'{"not": "ftctl"}\n')  # not ftctl's name
    stray_name, stray_data = content_addressed(Path(chat_file(tmp_path / "stray.jsonl", n=11)))
    stray = upload_as(azure, stray_name, stray_data)  # ftctl's, nothing names it
    planned = made(project, azure)
    deleted = [s.payload.file_id for s in planned.steps if isinstance(s.payload, DeleteFile)]
    assert deleted == [stray]
    assert apply(project.root, azure, recorder).ok
    left = files(azure)
    assert theirs in left and foreign in left and stray not in left


def test_delete_unneeded_files_false_keeps_them(
    project: Project, azure: Azure, recorder: Recorder, tmp_path: Path,
) -> None:
    settings(project, delete_unneeded_files="false")
    project.model("alpha")
    stray_name, stray_data = content_addressed(Path(chat_file(tmp_path / "stray.jsonl", n=11)))
    stray = upload_as(azure, stray_name, stray_data)
    planned = made(project, azure)
    assert not [s for s in planned.steps if isinstance(s.payload, DeleteFile)]
    assert apply(project.root, azure, recorder).ok
    assert stray in files(azure)


def _cancelled_version(project: Project, azure: Azure, recorder: Recorder, name: str) -> str:
    """A version of `name` whose job was cancelled before it trained."""
    report = apply(project.root, azure, recorder, wait=False)
    assert report.ok, report.diagnostics
    [job] = [j for j in report.jobs if j.meta("ftctl-name") == name]
    r = azure.v1.post(f"/fine_tuning/jobs/{job.id}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    return job.id


def test_prune_deletes_the_jobs_of_retired_versions(
    project: Project, azure: Azure, recorder: Recorder,
) -> None:
    settings(project, prune="true")
    project.model("alpha")
    project.model("beta")
    cancelled = _cancelled_version(project, azure, recorder, "alpha")
    beta_job = next(j for j, s in jobs(azure).items() if j != cancelled)
    azure.v1.post(f"/fine_tuning/jobs/{beta_job}/cancel")
    project.remove("beta")  # beta's manifest is gone; its only job was cancelled
    planned = made(project, azure)
    job_deletes = {s.key: s.payload.job_id for s in planned.steps
                   if isinstance(s.payload, DeleteJob)}
    assert job_deletes == {f"alpha/delete-job/{cancelled}": cancelled,
                           f"beta/delete-job/{beta_job}": beta_job}
    assert "delete job " + cancelled in render(planned, "text")
    report = apply(project.root, azure, recorder)
    assert report.ok, [(r.key, r.message) for r in report.results]
    left = jobs(azure)
    assert cancelled not in left and beta_job not in left
    assert list(left.values()) == ["succeeded"]  # alpha's version 2
    assert made(project, azure).converged


def test_without_prune_the_retired_jobs_stay(
    project: Project, azure: Azure, recorder: Recorder,
) -> None:
    settings(project)
    project.model("alpha")
    cancelled = _cancelled_version(project, azure, recorder, "alpha")
    assert not [s for s in made(project, azure).steps if isinstance(s.payload, DeleteJob)]
    assert apply(project.root, azure, recorder).ok
    assert jobs(azure)[cancelled] == "cancelled"
