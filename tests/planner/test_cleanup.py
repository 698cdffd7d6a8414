"""The planner's cleanup on Azure (planner.scope.plan_cleanup), as pure rules: which finished
jobs `prune` deletes (never the latest failure it does not replace, never an adopted job) and
which dataset uploads are unneeded (never without every job of the resource, nor when the
manifests' datasets were not read), and none of it on OpenAI."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

from reconciler.plan import Action, CreateJob, DeleteFile, DeleteJob, PlanOptions, Reason
from reconciler.planner import plan
from reconciler.snapshot import JobStatus, RemoteJob, Snapshot
from reconciler.spec import Desired, Dialect, ProviderSettings, ProviderType
from tests.builders import (
    a_desired,
    a_file,
    a_hand_made_job,
    a_job_for,
    a_manifest,
    a_settings,
    a_snapshot,
    files_for,
    sha_of,
)

AZURE = ProviderSettings(type=ProviderType.LOCAL, dialect=Dialect.AZURE)


def azure_desired(*manifests: object, prune: bool = True, files: bool = True,
                  openai: bool = False) -> Desired:
    settings = dataclasses.replace(a_settings(prune=prune), delete_unneeded_files=files)
    if not openai:
        settings = dataclasses.replace(settings, provider=AZURE)
    return a_desired(*manifests, settings=settings)  # type: ignore[arg-type]


def azure_snapshot(desired: Desired, jobs: list[RemoteJob], *extra_files: object,
                   others: tuple[RemoteJob, ...] = ()) -> Snapshot:
    """This workspace's jobs, plus every job of the resource (others: other workspaces')."""
    snap = a_snapshot(jobs=jobs, files=[*files_for(desired), *extra_files])  # type: ignore[list-item]
    return dataclasses.replace(snap, resource_jobs=(*snap.jobs, *others))


def deleted_jobs(desired: Desired, snap: Snapshot, options: PlanOptions | None = None
                 ) -> dict[str, tuple[str, ...]]:
    steps = plan(desired, snap, options).steps
    return {s.payload.job_id: s.depends_on for s in steps if isinstance(s.payload, DeleteJob)}


def test_prune_deletes_older_failures_but_keeps_the_latest_one() -> None:
    desired = azure_desired(a_manifest("bot"))
    old = a_job_for(desired, "bot", id="ftjob-1", version=1, status=JobStatus.FAILED)
    new = a_job_for(desired, "bot", id="ftjob-2", version=2, status=JobStatus.FAILED)
    snap = azure_snapshot(desired, [old, new])
    result = plan(desired, snap)
    steps = {s.key: s for s in result.steps}
    assert steps["bot/delete-job/ftjob-1"].reason is Reason.UNNEEDED
    assert deleted_jobs(desired, snap) == {"ftjob-1": ()}  # the latest is what stops retries
    assert steps["bot"].reason is Reason.FAILED


def test_a_latest_failure_the_plan_replaces_goes_once_the_new_job_exists() -> None:
    desired = azure_desired(a_manifest("bot"))
    failed = a_job_for(desired, "bot", id="ftjob-1", status=JobStatus.FAILED)
    snap = azure_snapshot(desired, [failed])
    result = plan(desired, snap, PlanOptions(retry_failed=True))
    [create] = [s for s in result.steps if isinstance(s.payload, CreateJob)]
    assert deleted_jobs(desired, snap, PlanOptions(retry_failed=True)) == {
        "ftjob-1": (create.key,)}


def test_without_prune_on_openai_or_without_every_job_nothing_is_cleaned_up() -> None:
    for desired in (azure_desired(a_manifest("bot"), prune=False),
                    azure_desired(a_manifest("bot"), openai=True)):
        old = a_job_for(desired, "bot", id="ftjob-1", version=1, status=JobStatus.CANCELLED)
        new = a_job_for(desired, "bot", id="ftjob-2", version=2)
        stray = a_file(sha_of("stray"), id="file-stray")
        snap = azure_snapshot(desired, [old, new], stray)
        steps = plan(desired, snap).steps
        assert not [s for s in steps if isinstance(s.payload, DeleteJob)]
        if desired.settings.provider == AZURE:  # files: on by default on Azure
            assert [s.payload.file_id for s in steps if isinstance(s.payload, DeleteFile)] \
                == ["file-stray"]
        else:
            assert not [s for s in steps if s.action is Action.DELETE]
    desired = azure_desired(a_manifest("bot"))
    old = a_job_for(desired, "bot", id="ftjob-1", version=1, status=JobStatus.CANCELLED)
    new = a_job_for(desired, "bot", id="ftjob-2", version=2)
    unlisted = dataclasses.replace(azure_snapshot(desired, [old, new]), resource_jobs=None)
    assert not [s for s in plan(desired, unlisted).steps if s.action is Action.DELETE]


def test_an_adopted_hand_made_job_is_never_deleted() -> None:
    desired = azure_desired(a_manifest("bot", adopt="ftjob-hand"))
    hand = dataclasses.replace(a_hand_made_job("ftjob-hand", training_file="file-x"),
                               status=JobStatus.FAILED, fine_tuned_model=None)
    new = a_job_for(desired, "bot", id="ftjob-2", version=2)
    assert deleted_jobs(desired, azure_snapshot(desired, [hand, new])) == {}


def test_files_any_job_names_or_a_manifest_needs_are_kept() -> None:
    desired = azure_desired(a_manifest("bot"))
    job = a_job_for(desired, "bot", id="ftjob-1")
    theirs = a_file(sha_of("theirs"), id="file-theirs")
    other_job = dataclasses.replace(job, id="ftjob-other", metadata=(),
                                    training_file="file-theirs")
    stray = a_file(sha_of("stray"), id="file-stray")
    snap = azure_snapshot(desired, [job], theirs, stray, others=(other_job,))
    steps = plan(desired, snap).steps
    [delete] = [s for s in steps if isinstance(s.payload, DeleteFile)]
    assert delete.key == "delete-file/file-stray" and delete.reason is Reason.UNNEEDED
    assert delete.payload == DeleteFile(file_id="file-stray", filename=stray.filename,
                                        bytes=stray.bytes)
    # --target plans only the named models: no cleanup.
    targeted = plan(desired, snap, PlanOptions(targets=("bot",))).steps
    assert not [s for s in targeted if isinstance(s.payload, DeleteFile)]


def test_no_file_is_unneeded_when_the_datasets_were_not_read_or_no_manifest_found() -> None:
    desired = azure_desired(a_manifest("bot"))
    stray = a_file(sha_of("stray"), id="file-stray")
    snap = azure_snapshot(desired, [], stray)
    unread = dataclasses.replace(desired, datasets=MappingProxyType({}))
    assert not [s for s in plan(unread, snap).steps if s.action is Action.DELETE]
    empty = dataclasses.replace(desired, manifests=())
    assert not [s for s in plan(empty, snap).steps if s.action is Action.DELETE]
