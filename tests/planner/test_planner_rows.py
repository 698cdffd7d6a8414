"""One test (at least) per row of DESIGN §4, built from plain snapshot values."""

from __future__ import annotations

import json
from dataclasses import replace

from builders import (
    BASE,
    a_desired,
    a_file,
    a_job_for,
    a_manifest,
    a_settings,
    a_snapshot,
    files_for,
    simulate_apply,
    the_spec,
    without_models,
)

from reconciler.diagnostics import Severity
from reconciler.plan import (
    UNKNOWN,
    Action,
    CancelJob,
    CreateJob,
    DeleteModel,
    FromStep,
    NoChange,
    PlanOptions,
    Reason,
    Step,
    UploadFile,
)
from reconciler.planner import plan
from reconciler.planner.identity import META_OP, META_SPEC, META_VERSION, file_name, operation_id
from reconciler.snapshot import JobStatus
from reconciler.spec import UpdatePolicy


def by_key(steps: tuple[Step, ...]) -> dict[str, Step]:
    return {s.key: s for s in steps}


def create_payload(step: Step) -> CreateJob:
    assert isinstance(step.payload, CreateJob)
    return step.payload


# --- manifest, nothing remote --------------------------------------------------------------

def test_new_model_uploads_missing_files_then_creates_the_job() -> None:
    desired = a_desired(a_manifest("bot", validation="data/bot/valid.jsonl"))
    result = plan(desired, a_snapshot())
    steps = by_key(result.steps)
    assert list(steps) == ["upload/data/bot/train.jsonl", "upload/data/bot/valid.jsonl",
                           "bot/create-job"]
    upload = steps["upload/data/bot/train.jsonl"].payload
    assert isinstance(upload, UploadFile)
    train_sha = desired.datasets["data/bot/train.jsonl"].sha256
    assert upload.filename == file_name(train_sha) and upload.sha256 == train_sha
    create = steps["bot/create-job"]
    assert create.action is Action.CREATE and create.reason is Reason.NEW
    assert create.depends_on == ("upload/data/bot/train.jsonl", "upload/data/bot/valid.jsonl")
    job = create_payload(create)
    assert job.model == BASE and job.version == 1
    assert job.training_file == FromStep(key="upload/data/bot/train.jsonl", field="id")
    meta = dict(job.metadata)
    assert meta["ftctl-workspace"] == "ws" and meta["ftctl-name"] == "bot"
    assert meta[META_VERSION] == "1" and meta[META_SPEC] == the_spec(desired, "bot")
    assert meta[META_OP] == operation_id("ws", "bot", 1, meta[META_SPEC])
    assert result.summary()["create"] == 1 and result.has_changes


def test_files_already_uploaded_are_found_by_content_address() -> None:
    desired = a_desired(a_manifest("bot"))
    remote = files_for(desired)
    result = plan(desired, a_snapshot(files=remote))
    assert [s.key for s in result.steps] == ["bot/create-job"]
    assert create_payload(result.steps[0]).training_file == remote[0].id


def test_two_models_sharing_a_dataset_upload_it_once() -> None:
    shared = "data/shared.jsonl"
    desired = a_desired(a_manifest("a", training=shared), a_manifest("b", training=shared))
    result = plan(desired, a_snapshot())
    assert [s.key for s in result.steps] == ["upload/data/shared.jsonl", "a/create-job",
                                             "b/create-job"]
    assert result.steps[2].depends_on == ("upload/data/shared.jsonl",)


def test_commit_goes_into_job_metadata() -> None:
    desired = a_desired(a_manifest("bot"))
    result = plan(desired, a_snapshot(files=files_for(desired)), PlanOptions(commit="abc123"))
    assert dict(create_payload(result.steps[0]).metadata)["ftctl-commit"] == "abc123"


def test_method_body_and_estimate_are_in_the_create_step() -> None:
    desired = a_desired(a_manifest("bot", hyperparameters={"n_epochs": 2, "batch_size": "auto"},
                                   seed=42, suffix="bot"))
    step = plan(desired, a_snapshot(files=files_for(desired))).steps[0]
    job = create_payload(step)
    assert json.loads(job.method_json) == {
        "type": "supervised",
        "supervised": {"hyperparameters": {"batch_size": "auto", "n_epochs": 2}},
    }
    assert job.seed == 42 and job.suffix == "bot"
    assert step.estimate is not None
    assert step.estimate.training_tokens == 20_000 and step.estimate.epochs == 2
    assert step.estimate.cost_usd == 0.06  # 20k tokens at $3 per 1M


# --- in flight -----------------------------------------------------------------------------

def test_job_in_flight_with_the_same_spec_is_reported_with_its_eta() -> None:
    desired = a_desired(a_manifest("bot"))
    job = a_job_for(desired, "bot", id="ftjob-1", status=JobStatus.RUNNING,
                    estimated_finish=1_760_000_000)
    result = plan(desired, a_snapshot(jobs=[job], files=files_for(desired)))
    assert [(s.action, s.reason) for s in result.steps] == [(Action.NOOP, Reason.IN_PROGRESS)]
    assert not result.has_changes
    (note,) = result.notes
    assert note.severity is Severity.INFO
    assert note.summary == "bot: job ftjob-1 is running (ETA 2025-10-09 08:53 UTC)"


def test_job_in_flight_with_another_spec_is_cancelled_and_recreated() -> None:
    old = a_desired(a_manifest("bot", hyperparameters={"n_epochs": 3}))
    desired = a_desired(a_manifest("bot", hyperparameters={"n_epochs": 5}))
    job = a_job_for(old, "bot", id="ftjob-1", status=JobStatus.QUEUED,
                    hyperparameters={"n_epochs": 3})
    result = plan(desired, a_snapshot(jobs=[job], files=files_for(desired)))
    steps = by_key(result.steps)
    cancel = steps["bot/cancel/ftjob-1"]
    assert cancel.action is Action.CANCEL and cancel.payload == CancelJob(job_id="ftjob-1")
    create = steps["bot/create-job"]
    assert create.reason is Reason.IN_FLIGHT_SPEC_MISMATCH
    assert create.depends_on == ("bot/cancel/ftjob-1",)
    assert create_payload(create).version == 2
    (change,) = create.changes
    assert (change.path, change.before, change.after, change.forces_new) == (
        "method.hyperparameters.n_epochs", 3, 5, True)


def test_racing_duplicates_in_flight_are_cancelled() -> None:
    desired = a_desired(a_manifest("bot"))
    first = a_job_for(desired, "bot", id="ftjob-1", status=JobStatus.RUNNING, created_at=10)
    second = a_job_for(desired, "bot", id="ftjob-2", status=JobStatus.RUNNING, created_at=11)
    result = plan(desired, a_snapshot(jobs=[first, second], files=files_for(desired)))
    assert [(s.key, s.reason) for s in result.steps] == [
        ("bot/cancel/ftjob-1", Reason.DUPLICATE), ("bot", Reason.IN_PROGRESS)]


# --- current version -----------------------------------------------------------------------

def test_current_version_with_the_same_spec_needs_nothing() -> None:
    desired = a_desired(a_manifest("bot"))
    job = a_job_for(desired, "bot", id="ftjob-1")
    result = plan(desired, a_snapshot(jobs=[job], files=files_for(desired)))
    (step,) = result.steps
    assert step.action is Action.NOOP and step.reason is Reason.UNCHANGED
    assert step.payload == NoChange(job_id="ftjob-1", model_id=job.fine_tuned_model,
                                    status="succeeded", version=1)
    assert not result.has_changes and result.notes == ()


def test_changed_spec_retrains_with_field_level_diff() -> None:
    old = a_desired(a_manifest("bot", hyperparameters={"n_epochs": 3}, suffix="v1"))
    desired = a_desired(a_manifest("bot", hyperparameters={"n_epochs": 4}, suffix="v1"))
    job = a_job_for(old, "bot", id="ftjob-1")
    result = plan(desired, a_snapshot(jobs=[job], files=files_for(desired)))
    create = by_key(result.steps)["bot/create-job"]
    assert create.action is Action.RETRAIN and create.reason is Reason.SPEC_CHANGED
    assert [(c.path, c.before, c.after, c.forces_new) for c in create.changes] == [
        ("method.hyperparameters.n_epochs", 3, 4, True)]
    assert create_payload(create).model == BASE and create_payload(create).version == 2


def test_changed_training_data_shows_the_file_change() -> None:
    desired_old = a_desired(a_manifest("bot"))
    job = a_job_for(desired_old, "bot", id="ftjob-1")
    from builders import a_dataset

    new_data = a_dataset("data/bot/train.jsonl", content="edited")
    desired = a_desired(a_manifest("bot"), datasets=[new_data])
    result = plan(desired, a_snapshot(jobs=[job], files=files_for(desired_old)))
    steps = by_key(result.steps)
    assert "upload/data/bot/train.jsonl" in steps
    (change,) = steps["bot/create-job"].changes
    assert change.path == "training_file" and change.after == new_data.sha256
    assert change.forces_new


def test_update_continue_builds_on_the_current_model() -> None:
    old = a_desired(a_manifest("bot", update=UpdatePolicy.CONTINUE))
    desired = a_desired(a_manifest("bot", update=UpdatePolicy.CONTINUE, seed=5))
    job = a_job_for(old, "bot", id="ftjob-1")
    result = plan(desired, a_snapshot(jobs=[job], files=files_for(desired)))
    create = by_key(result.steps)["bot/create-job"]
    assert create.action is Action.CONTINUE
    assert create_payload(create).model == job.fine_tuned_model


def test_a_continued_version_is_not_drift_against_the_base_model() -> None:
    desired = a_desired(a_manifest("bot", update=UpdatePolicy.CONTINUE))
    v1 = a_job_for(desired, "bot", id="ftjob-1")
    v2 = a_job_for(desired, "bot", id="ftjob-2", version=2, model=v1.fine_tuned_model)
    result = plan(desired, a_snapshot(jobs=[v1, v2], files=files_for(desired)))
    assert [(s.action, s.reason) for s in result.steps][0] == (Action.NOOP, Reason.UNCHANGED)


# --- deleted out of band -------------------------------------------------------------------

def test_model_deleted_out_of_band_is_recreated() -> None:
    desired = a_desired(a_manifest("bot"))
    job = a_job_for(desired, "bot", id="ftjob-1")
    snap = without_models(a_snapshot(jobs=[job], files=files_for(desired)),
                          job.fine_tuned_model or "")
    result = plan(desired, snap)
    (create,) = result.steps
    assert create.action is Action.CREATE and create.reason is Reason.DELETED_OUT_OF_BAND
    assert create_payload(create).version == 2
    assert create.changes[0].before == job.fine_tuned_model and create.changes[0].after is UNKNOWN


# --- failed ---------------------------------------------------------------------------------

def _failed_setup() -> tuple[object, object]:
    desired = a_desired(a_manifest("bot"))
    job = a_job_for(desired, "bot", id="ftjob-1", status=JobStatus.FAILED,
                    error_message="invalid file")
    return desired, a_snapshot(jobs=[job], files=files_for(desired))


def test_failed_job_with_this_spec_is_reported_not_retried() -> None:
    desired, snap = _failed_setup()
    result = plan(desired, snap)  # type: ignore[arg-type]
    assert [(s.action, s.reason) for s in result.steps] == [(Action.NOOP, Reason.FAILED)]
    (note,) = result.notes
    assert note.severity is Severity.WARNING
    assert note.summary == "bot: latest job ftjob-1 failed: invalid file"
    assert "--retry-failed" in note.detail


def test_failed_job_is_retried_with_retry_failed() -> None:
    desired, snap = _failed_setup()
    result = plan(desired, snap, PlanOptions(retry_failed=True))  # type: ignore[arg-type]
    (create,) = result.steps
    assert create.reason is Reason.RETRY_FAILED and create_payload(create).version == 2


def test_failed_job_is_superseded_by_a_spec_change() -> None:
    desired, snap = _failed_setup()
    changed = a_desired(a_manifest("bot", hyperparameters={"n_epochs": 7}))
    result = plan(changed, snap)  # type: ignore[arg-type]
    (create,) = result.steps
    assert create.action is Action.CREATE and create.reason is Reason.SPEC_CHANGED
    assert create.changes[0].path == "method.hyperparameters.n_epochs"


def test_cancelled_latest_job_is_started_again() -> None:
    desired = a_desired(a_manifest("bot"))
    cancelled = a_job_for(desired, "bot", id="ftjob-1", status=JobStatus.CANCELLED)
    result = plan(desired, a_snapshot(jobs=[cancelled], files=files_for(desired)))
    (create,) = result.steps
    assert (create.action, create.reason) == (Action.CREATE, Reason.CANCELLED)
    assert create_payload(create).version == 2


def test_cancelled_duplicate_of_a_live_version_is_ignored() -> None:
    """Two racing applies made version 1 twice; the later one was cancelled."""
    desired = a_desired(a_manifest("bot"))
    survivor = a_job_for(desired, "bot", id="ftjob-1", created_at=100)
    duplicate = a_job_for(desired, "bot", id="ftjob-2", created_at=101,
                          status=JobStatus.CANCELLED)
    result = plan(desired, a_snapshot(jobs=[survivor, duplicate], files=files_for(desired)))
    assert [(s.action, s.reason) for s in result.steps] == [(Action.NOOP, Reason.UNCHANGED)]
    assert not result.notes


def test_failed_retrain_keeps_the_current_version_and_reports() -> None:
    old = a_desired(a_manifest("bot"))
    desired = a_desired(a_manifest("bot", seed=3))
    v1 = a_job_for(old, "bot", id="ftjob-1")
    v2 = a_job_for(desired, "bot", id="ftjob-2", version=2, status=JobStatus.FAILED)
    result = plan(desired, a_snapshot(jobs=[v1, v2], files=files_for(desired)))
    assert [(s.action, s.reason) for s in result.steps] == [(Action.NOOP, Reason.FAILED)]


# --- {ref:} children --------------------------------------------------------------------------

def test_child_retrains_after_its_parent_with_base_known_after_apply() -> None:
    old = a_desired(a_manifest("base"), a_manifest("child", parent="base"))
    parent_v1 = a_job_for(old, "base", id="ftjob-p1")
    child_v1 = a_job_for(old, "child", id="ftjob-c1", model=parent_v1.fine_tuned_model)
    desired = a_desired(a_manifest("base", seed=9), a_manifest("child", parent="base"))
    snap = a_snapshot(jobs=[parent_v1, child_v1], files=files_for(desired))
    steps = by_key(plan(desired, snap).steps)
    child = steps["child/create-job"]
    assert child.action is Action.RETRAIN and child.reason is Reason.PARENT_CHANGED
    assert child.depends_on == ("base/create-job",)
    assert create_payload(child).model == FromStep(key="base/create-job",
                                                   field="fine_tuned_model")
    (change,) = child.changes
    assert change.path == "model" and change.before == parent_v1.fine_tuned_model
    assert change.after is UNKNOWN and change.forces_new
    # The child's old version is retired only after its own new version.
    assert steps[f"child/delete/{child_v1.fine_tuned_model}"].depends_on == ("child/create-job",)


def test_unchanged_parent_leaves_child_alone_and_new_child_uses_parent_model() -> None:
    desired = a_desired(a_manifest("base"), a_manifest("child", parent="base"))
    parent_v1 = a_job_for(desired, "base", id="ftjob-p1")
    result = plan(desired, a_snapshot(jobs=[parent_v1], files=files_for(desired)))
    steps = by_key(result.steps)
    assert steps["base"].action is Action.NOOP
    assert create_payload(steps["child/create-job"]).model == parent_v1.fine_tuned_model


def test_child_of_a_parent_without_any_version_waits() -> None:
    desired = a_desired(a_manifest("base"), a_manifest("child", parent="base"))
    failed = a_job_for(desired, "base", id="ftjob-p1", status=JobStatus.FAILED)
    result = plan(desired, a_snapshot(jobs=[failed], files=files_for(desired)))
    assert [(s.name, s.reason) for s in result.steps] == [("base", Reason.FAILED),
                                                          ("child", Reason.BLOCKED)]
    assert any("waiting for base" in n.summary for n in result.notes)


def test_ref_cycle_is_an_error() -> None:
    desired = a_desired(a_manifest("a", parent="b"), a_manifest("b", parent="a"))
    result = plan(desired, a_snapshot())
    assert result.has_errors and result.steps == ()


# --- keep_versions ---------------------------------------------------------------------------

def test_old_versions_are_deleted_after_the_new_one_by_keep_versions() -> None:
    old = a_desired(a_manifest("bot", keep_versions=2))
    v1 = a_job_for(old, "bot", id="ftjob-1")
    v2 = a_job_for(old, "bot", id="ftjob-2", version=2)
    desired = a_desired(a_manifest("bot", keep_versions=2, seed=1))
    result = plan(desired, a_snapshot(jobs=[v1, v2], files=files_for(desired)))
    deletes = [s for s in result.steps if s.action is Action.DELETE]
    assert [s.payload for s in deletes] == [DeleteModel(model_id=v1.fine_tuned_model or "",
                                                        job_id="ftjob-1")]
    assert deletes[0].depends_on == ("bot/create-job",)
    assert deletes[0].reason is Reason.SUPERSEDED


def test_lowering_keep_versions_retires_extra_versions_now() -> None:
    desired = a_desired(a_manifest("bot", keep_versions=1))
    v1 = a_job_for(desired, "bot", id="ftjob-1")
    v2 = a_job_for(desired, "bot", id="ftjob-2", version=2)
    result = plan(desired, a_snapshot(jobs=[v1, v2], files=files_for(desired)))
    assert [(s.action, s.key) for s in result.steps] == [
        (Action.NOOP, "bot"), (Action.DELETE, f"bot/delete/{v1.fine_tuned_model}")]
    assert result.steps[1].depends_on == ()


# --- orphans -----------------------------------------------------------------------------------

def _orphan_snapshot(prune: bool, *, with_manifest: bool = True) -> tuple[object, object]:
    gone = a_desired(a_manifest("old"))
    done = a_job_for(gone, "old", id="ftjob-o1")
    running = a_job_for(gone, "old", id="ftjob-o2", version=2, status=JobStatus.RUNNING)
    manifests = [a_manifest("bot")] if with_manifest else []
    desired = a_desired(*manifests, settings=a_settings(prune=prune))
    keep = [a_job_for(desired, "bot", id="ftjob-b1")] if with_manifest else []
    snap = a_snapshot(jobs=[done, running, *keep], files=files_for(desired))
    return desired, snap


def test_orphans_are_only_warned_about_without_prune() -> None:
    desired, snap = _orphan_snapshot(prune=False)
    result = plan(desired, snap)  # type: ignore[arg-type]
    assert not result.has_changes
    (note,) = result.notes
    assert note.severity is Severity.WARNING and note.address == "old"
    assert "orphan" in note.summary


def test_orphans_are_pruned_with_prune() -> None:
    desired, snap = _orphan_snapshot(prune=True)
    result = plan(desired, snap)  # type: ignore[arg-type]
    changes = [(s.action, s.reason, s.key) for s in result.changes]
    assert changes == [
        (Action.CANCEL, Reason.ORPHANED, "old/cancel/ftjob-o2"),
        (Action.DELETE, Reason.ORPHANED, "old/delete/ft:gpt-4o-mini-2024-07-18:org:old:job-o1"),
    ]


def test_nothing_is_pruned_when_no_manifest_was_found() -> None:
    desired, snap = _orphan_snapshot(prune=True, with_manifest=False)
    result = plan(desired, snap)  # type: ignore[arg-type]
    assert result.steps == ()
    (note,) = result.notes
    assert note.summary == "no manifests were found: not pruning 1 orphaned model(s)"


# --- prevent_destroy, ignore_changes, adopt, --target ----------------------------------------

def test_prevent_destroy_fails_a_plan_that_would_delete() -> None:
    old = a_desired(a_manifest("bot", prevent_destroy=True))
    v1 = a_job_for(old, "bot", id="ftjob-1")
    desired = a_desired(a_manifest("bot", prevent_destroy=True, seed=2))
    result = plan(desired, a_snapshot(jobs=[v1], files=files_for(desired)))
    assert result.has_errors
    (err,) = [n for n in result.notes if n.is_error]
    assert "prevent_destroy" in err.summary and v1.fine_tuned_model in err.summary


def test_prevent_destroy_without_deletion_is_fine() -> None:
    old = a_desired(a_manifest("bot", prevent_destroy=True, keep_versions=2))
    v1 = a_job_for(old, "bot", id="ftjob-1")
    desired = a_desired(a_manifest("bot", prevent_destroy=True, keep_versions=2, seed=2))
    result = plan(desired, a_snapshot(jobs=[v1], files=files_for(desired)))
    assert not result.has_errors and result.summary()["retrain"] == 1


def test_ignore_changes_suppresses_a_retrain() -> None:
    old = a_desired(a_manifest("bot", hyperparameters={"n_epochs": 3}))
    v1 = a_job_for(old, "bot", id="ftjob-1", hyperparameters={"n_epochs": 3})
    desired = a_desired(a_manifest("bot", hyperparameters={"n_epochs": 9},
                                   ignore_changes=("method.hyperparameters.n_epochs",)))
    result = plan(desired, a_snapshot(jobs=[v1], files=files_for(desired)))
    assert not result.has_changes


def test_ignore_changes_does_not_hide_other_changes() -> None:
    old = a_desired(a_manifest("bot", hyperparameters={"n_epochs": 3}))
    v1 = a_job_for(old, "bot", id="ftjob-1", hyperparameters={"n_epochs": 3})
    desired = a_desired(a_manifest("bot", hyperparameters={"n_epochs": 9}, seed=4,
                                   ignore_changes=("method.hyperparameters.n_epochs",)))
    result = plan(desired, a_snapshot(jobs=[v1], files=files_for(desired)))
    create = by_key(result.steps)["bot/create-job"]
    forcing = {c.path: c.forces_new for c in create.changes}
    assert forcing == {"method.hyperparameters.n_epochs": False, "seed": True}


def test_adopt_takes_over_a_hand_made_job() -> None:
    from builders import a_hand_made_job

    probe = a_desired(a_manifest("bot"))
    remote = files_for(probe)
    hand = a_hand_made_job("ftjob-hand01", training_file=remote[0].id)
    desired = a_desired(a_manifest("bot", adopt="ftjob-hand01"))
    result = plan(desired, a_snapshot(jobs=[hand], files=remote))
    (step,) = result.steps
    assert step.action is Action.NOOP and step.reason is Reason.ADOPTED
    assert isinstance(step.payload, NoChange) and step.payload.job_id == "ftjob-hand01"


def test_adopted_job_that_differs_is_retrained_as_version_1() -> None:
    from builders import a_hand_made_job

    probe = a_desired(a_manifest("bot"))
    remote = files_for(probe)
    hand = a_hand_made_job("ftjob-hand01", training_file=remote[0].id)
    desired = a_desired(a_manifest("bot", adopt="ftjob-hand01", hyperparameters={"n_epochs": 5}))
    result = plan(desired, a_snapshot(jobs=[hand], files=remote))
    create = by_key(result.steps)["bot/create-job"]
    assert create.action is Action.RETRAIN and create_payload(create).version == 1


def test_adopting_a_missing_job_is_an_error() -> None:
    desired = a_desired(a_manifest("bot", adopt="ftjob-nope"))
    result = plan(desired, a_snapshot())
    assert result.has_errors and not result.has_changes


def test_target_keeps_the_target_and_what_it_depends_on() -> None:
    desired = a_desired(a_manifest("base"), a_manifest("child", parent="base"),
                        a_manifest("other"))
    result = plan(desired, a_snapshot(), PlanOptions(targets=("child",)))
    assert [s.key for s in result.steps] == [
        "upload/data/base/train.jsonl", "base/create-job",
        "upload/data/child/train.jsonl", "child/create-job"]
    assert result.targets == ("child",)


def test_unknown_target_is_an_error() -> None:
    desired = a_desired(a_manifest("bot"))
    result = plan(desired, a_snapshot(), PlanOptions(targets=("nope",)))
    assert result.has_errors and result.steps == ()


def test_missing_dataset_facts_block_the_model() -> None:
    desired = a_desired(a_manifest("bot"))
    from dataclasses import replace
    from types import MappingProxyType

    bare = replace(desired, datasets=MappingProxyType({}))
    result = plan(bare, a_snapshot())
    assert result.has_errors and not result.has_changes


def test_base_model_retirement_is_a_plan_warning_when_today_is_given() -> None:
    from reconciler.snapshot import RemoteModel

    desired = a_desired(a_manifest("bot"))
    job = a_job_for(desired, "bot", id="ftjob-1")
    models = [RemoteModel(id="gpt-4o-mini", owned_by="system", shutdown_date="2026-12-01"),
              RemoteModel(id=job.fine_tuned_model or "", owned_by="org")]
    snap = a_snapshot(jobs=[job], files=files_for(desired), models=models)
    assert plan(desired, snap).notes == ()
    (note,) = plan(desired, snap, PlanOptions(today="2026-11-29")).notes
    assert note.summary == "bot: base model gpt-4o-mini is retired on 2026-12-01 (in 2 days)"
    (past,) = plan(desired, snap, PlanOptions(today="2026-12-04")).notes
    assert past.summary == "bot: base model gpt-4o-mini was retired on 2026-12-01 (3 days ago)"


def test_apply_then_plan_again_has_no_changes() -> None:
    old = a_desired(a_manifest("base"), a_manifest("child", parent="base", keep_versions=1),
                    a_manifest("gone"))
    snap = simulate_apply(plan(old, a_snapshot()), a_snapshot())
    desired = a_desired(a_manifest("base", seed=3), a_manifest("child", parent="base"),
                        a_manifest("new", validation="data/new/valid.jsonl"),
                        settings=a_settings(prune=True))
    first = plan(desired, snap)
    assert first.summary()["delete"] == 3 and first.summary()["create"] == 1
    after = simulate_apply(first, snap)
    second = plan(desired, after)
    assert not second.has_changes, [(s.key, s.changes) for s in second.changes]
    assert a_file  # builders in use


# --- fields a job cannot show back ----------------------------------------------------------

def test_edited_dataset_is_seen_even_after_the_old_remote_file_was_deleted() -> None:
    from builders import a_dataset

    old = a_desired(a_manifest("bot"))
    job = a_job_for(old, "bot", id="ftjob-1")
    desired = a_desired(a_manifest("bot"), datasets=[a_dataset("data/bot/train.jsonl",
                                                                content="edited")])
    result = plan(desired, a_snapshot(jobs=[job]))  # no files left remotely
    create = by_key(result.steps)["bot/create-job"]
    assert create.action is Action.RETRAIN
    assert [(c.path, c.forces_new) for c in create.changes] == [("training_file", True)]


def test_unchanged_dataset_with_deleted_remote_file_is_not_retrained() -> None:
    old = a_desired(a_manifest("bot", hyperparameters={"n_epochs": "auto"}))
    job = a_job_for(old, "bot", id="ftjob-1")
    # A benign edit changes the spec value (auto -> the resolved value) but no field.
    desired = a_desired(a_manifest("bot", hyperparameters={"n_epochs": 3}))
    result = plan(desired, a_snapshot(jobs=[job]))
    assert not result.has_changes


def test_changed_grader_retrains_although_the_api_does_not_echo_it() -> None:
    from reconciler.spec import MethodType

    grader = {"type": "string_check", "name": "g", "operation": "eq"}
    old = a_desired(a_manifest("bot", method=MethodType.REINFORCEMENT, grader=grader))
    job = a_job_for(old, "bot", id="ftjob-1")
    same = plan(old, a_snapshot(jobs=[job], files=files_for(old)))
    assert not same.has_changes
    desired = a_desired(a_manifest("bot", method=MethodType.REINFORCEMENT,
                                   grader={**grader, "operation": "ne"}))
    result = plan(desired, a_snapshot(jobs=[job], files=files_for(desired)))
    create = by_key(result.steps)["bot/create-job"]
    assert [(c.path, c.forces_new) for c in create.changes] == [("method.grader", True)]
    assert create.changes[0].after == {**grader, "operation": "ne"}
    body = json.loads(create_payload(create).method_json)
    assert body["reinforcement"]["grader"]["operation"] == "ne"


# --- more edges ------------------------------------------------------------------------------

def test_continue_without_a_current_version_creates_from_the_base_model() -> None:
    desired = a_desired(a_manifest("bot", update=UpdatePolicy.CONTINUE))
    (create,) = plan(desired, a_snapshot(files=files_for(desired))).steps
    assert create.action is Action.CREATE and create_payload(create).model == BASE


def test_child_in_flight_on_an_old_parent_is_cancelled_and_rebuilt_after_the_parent() -> None:
    old = a_desired(a_manifest("base"), a_manifest("child", parent="base"))
    parent_v1 = a_job_for(old, "base", id="ftjob-p1")
    child_run = a_job_for(old, "child", id="ftjob-c1", status=JobStatus.RUNNING,
                          model=parent_v1.fine_tuned_model)
    desired = a_desired(a_manifest("base", seed=8), a_manifest("child", parent="base"))
    steps = by_key(plan(desired, a_snapshot(jobs=[parent_v1, child_run],
                                            files=files_for(desired))).steps)
    assert steps["child/cancel/ftjob-c1"].reason is Reason.IN_FLIGHT_SPEC_MISMATCH
    child = steps["child/create-job"]
    assert child.action is Action.CREATE  # the child never had a finished version
    assert child.depends_on == ("child/cancel/ftjob-c1", "base/create-job")


def test_target_can_name_an_orphan_to_prune_it_alone() -> None:
    gone = a_desired(a_manifest("old"), a_manifest("older"))
    jobs = [a_job_for(gone, "old", id="ftjob-o1"), a_job_for(gone, "older", id="ftjob-o2")]
    desired = a_desired(a_manifest("bot"), settings=a_settings(prune=True))
    result = plan(desired, a_snapshot(jobs=jobs), PlanOptions(targets=("old", "old")))
    assert [s.key for s in result.steps] == [f"old/delete/{jobs[0].fine_tuned_model}"]
    assert result.targets == ("old",)


def test_the_cost_total_names_the_models_whose_cost_is_unknown() -> None:
    from builders import a_dataset

    from reconciler.render import planview

    desired = a_desired(a_manifest("a"), a_manifest("b"),
                        datasets=[a_dataset("data/b/train.jsonl", tokens=None)])
    view = planview.build(plan(desired, a_snapshot(files=files_for(desired))))
    assert view.unpriced == ("b",)
    assert view.total_tokens == 30_000  # a alone: 10k tokens x 3 epochs
    known = planview.build(plan(a_desired(a_manifest("a"), a_manifest("c")), a_snapshot()))
    assert known.unpriced == ()
    assert known.total_tokens == 60_000  # 2 x 10k tokens x 3 epochs
    assert known.total_cost == 0.18


def test_a_paused_job_counts_as_in_flight() -> None:
    desired = a_desired(a_manifest("bot"))
    job = a_job_for(desired, "bot", id="ftjob-1", status=JobStatus.PAUSED)
    (step,) = plan(desired, a_snapshot(jobs=[job], files=files_for(desired))).steps
    assert step.reason is Reason.IN_PROGRESS


def test_with_checks_older_versions_are_retired_only_after_a_passed_verdict() -> None:
    from builders import a_verdict_file

    from reconciler.spec import Check

    plain = a_desired(a_manifest("bot"))
    v1 = a_job_for(plain, "bot", id="ftjob-1")
    v2 = a_job_for(plain, "bot", id="ftjob-2", version=2)
    manifest = a_manifest("bot")
    checks = (Check(prompt="hi"),)
    checked = replace(manifest, spec=replace(manifest.spec, checks=checks))
    desired = a_desired(checked)
    # No verdict recorded for v2: a verify step, and v1 is deleted only once it passes.
    result = plan(desired, a_snapshot(jobs=[v1, v2], files=files_for(desired)))
    steps = by_key(result.changes)
    assert list(steps) == ["bot/verify/ftjob-2", f"bot/delete/{v1.fine_tuned_model}"]
    assert steps[f"bot/delete/{v1.fine_tuned_model}"].depends_on == ("bot/verify/ftjob-2",)
    assert steps["bot/verify/ftjob-2"].reason is Reason.UNVERIFIED
    # Passed: v2 serves, v1 goes without waiting.
    passed = (*files_for(desired), a_verdict_file(v2, checks, passed=True))
    told = plan(desired, a_snapshot(jobs=[v1, v2], files=passed))
    assert [(s.key, s.depends_on) for s in told.changes] == [
        (f"bot/delete/{v1.fine_tuned_model}", ())]
    # Failed: v1 keeps serving, nothing is deleted or retrained.
    failed = (*files_for(desired), a_verdict_file(v2, checks, passed=False))
    kept = plan(desired, a_snapshot(jobs=[v1, v2], files=failed))
    assert not kept.changes and not kept.converged
    assert [s.reason for s in kept.steps] == [Reason.CHECKS_FAILED]


def test_suffix_change_retrains_although_jobs_only_show_it_in_the_model_id() -> None:
    old = a_desired(a_manifest("bot", suffix="v1"))
    job = a_job_for(old, "bot", id="ftjob-1", fine_tuned_model=f"ft:{BASE}:org:v1:abc")
    snap = a_snapshot(jobs=[job], files=files_for(old))
    assert not plan(old, snap).has_changes
    provider_normalised = replace(job, suffix="V1-normalised")
    assert not plan(old, a_snapshot(jobs=[provider_normalised], files=files_for(old))).has_changes
    desired = a_desired(a_manifest("bot", suffix="v2"))
    create = by_key(plan(desired, snap).steps)["bot/create-job"]
    assert [(c.path, c.after, c.forces_new) for c in create.changes] == [("suffix", "v2", True)]
