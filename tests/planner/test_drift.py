"""drift(): out-of-band deletions, failed/cancelled latest jobs, orphans, unmanaged models,
base models retiring within 90 days."""

from __future__ import annotations

from builders import (
    BASE,
    a_desired,
    a_job_for,
    a_manifest,
    a_snapshot,
    files_for,
    without_models,
)

from reconciler.plan import DriftKind
from reconciler.planner import drift
from reconciler.snapshot import JobStatus, RemoteModel

TODAY = "2026-11-29"


def kinds(report: object) -> list[tuple[str, str | None]]:
    return [(i.kind.value, i.name) for i in report.items]  # type: ignore[attr-defined]


def test_in_sync_has_no_drift() -> None:
    desired = a_desired(a_manifest("bot"))
    snap = a_snapshot(jobs=[a_job_for(desired, "bot", id="ftjob-1")], files=files_for(desired))
    report = drift(desired, snap, today=TODAY)
    assert report.items == () and not report.has_drift and report.today == TODAY


def test_model_deleted_out_of_band() -> None:
    desired = a_desired(a_manifest("bot"))
    job = a_job_for(desired, "bot", id="ftjob-1")
    snap = without_models(a_snapshot(jobs=[job]), job.fine_tuned_model or "")
    (item,) = drift(desired, snap, today=TODAY).items
    assert item.kind is DriftKind.DELETED_OUT_OF_BAND and item.subject == job.fine_tuned_model
    assert "deleted outside ftctl" in item.message


def test_retired_old_versions_are_not_drift() -> None:
    desired = a_desired(a_manifest("bot"))
    v1 = a_job_for(desired, "bot", id="ftjob-1")
    v2 = a_job_for(desired, "bot", id="ftjob-2", version=2)
    snap = without_models(a_snapshot(jobs=[v1, v2]), v1.fine_tuned_model or "")
    assert drift(desired, snap, today=TODAY).items == ()


def test_failed_and_cancelled_latest_jobs() -> None:
    desired = a_desired(a_manifest("a"), a_manifest("b"))
    jobs = [a_job_for(desired, "a", id="ftjob-a", status=JobStatus.FAILED,
                      error_message="bad data"),
            a_job_for(desired, "b", id="ftjob-b", status=JobStatus.CANCELLED)]
    report = drift(desired, a_snapshot(jobs=jobs), today=TODAY)
    assert kinds(report) == [("failed_job", "a"), ("cancelled_job", "b")]
    assert report.items[0].message == "a: latest job ftjob-a failed: bad data"


def test_orphans_and_unmanaged_models() -> None:
    gone = a_desired(a_manifest("old"))
    orphan = a_job_for(gone, "old", id="ftjob-o1")
    desired = a_desired(a_manifest("bot"))
    mine = a_job_for(desired, "bot", id="ftjob-1")
    hand = RemoteModel(id="ft:gpt-4o-mini:org:by-hand:abc", owned_by="org")
    snap = a_snapshot(jobs=[orphan, mine])
    snap = a_snapshot(jobs=[orphan, mine], models=(*snap.models, hand))
    report = drift(desired, snap, today=TODAY)
    assert kinds(report) == [("orphan", "old"), ("unmanaged_model", None)]
    assert report.items[1].subject == hand.id
    assert report.summary()["orphan"] == 1


def test_base_model_retiring_within_90_days() -> None:
    desired = a_desired(a_manifest("bot"), a_manifest("child", parent="bot"))
    job = a_job_for(desired, "bot", id="ftjob-1")
    child = a_job_for(desired, "child", id="ftjob-2", model=job.fine_tuned_model)
    models = [RemoteModel(id=BASE, owned_by="system", shutdown_date="2027-02-20"),
              RemoteModel(id=job.fine_tuned_model or "", owned_by="org"),
              RemoteModel(id=child.fine_tuned_model or "", owned_by="org")]
    snap = a_snapshot(jobs=[job, child], models=models)
    report = drift(desired, snap, today=TODAY)
    assert kinds(report) == [("base_model_retiring", "bot"), ("base_model_retiring", "child")]
    assert report.items[0].date == "2027-02-20"
    assert "in 83 days" in report.items[0].message
    assert drift(desired, snap, today="2026-11-01").items == ()  # 111 days away


def test_a_pruned_name_with_only_finished_jobs_left_is_not_an_orphan() -> None:
    gone = a_desired(a_manifest("old"))
    job = a_job_for(gone, "old", id="ftjob-o1")
    desired = a_desired(a_manifest("bot"))
    snap = without_models(a_snapshot(jobs=[job]), job.fine_tuned_model or "")
    assert drift(desired, snap, today=TODAY).items == ()
    from reconciler.planner import plan

    assert plan(desired, snap).notes == ()
