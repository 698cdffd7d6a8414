"""The model-state layer's grouping of jobs into versions, and which remote file a dataset
reuses: orders that must not depend on the order the provider listed things in."""

from __future__ import annotations

from dataclasses import replace

from builders import WORKSPACE, a_desired, a_file, a_hand_made_job, a_job_for, a_manifest, sha_of

from reconciler.planner.identity import META_VERSION, META_WORKSPACE, content_shas
from reconciler.planner.state import build_state
from reconciler.planner.steps import usable_files
from reconciler.snapshot import JobStatus, RemoteModel, Snapshot


def _with_meta(job: object, key: str, value: str) -> object:
    """`job` with one more metadata pair (appended last: it wins over an earlier one)."""
    return replace(job, metadata=(*job.metadata, (key, value)))  # type: ignore[attr-defined,type-var]


def test_versions_are_ordered_by_number_then_created_at_then_id_whatever_the_listing() -> None:
    desired = a_desired(a_manifest("bot"))
    jobs = [
        a_job_for(desired, "bot", id="ftjob-c", version=2, created_at=50),
        a_job_for(desired, "bot", id="ftjob-a", version=10, created_at=10),
        a_job_for(desired, "bot", id="ftjob-d", version=2, created_at=50),
        a_job_for(desired, "bot", id="ftjob-b", version=2, created_at=40),
        a_job_for(desired, "bot", id="ftjob-e", version=1, created_at=99),
    ]
    expected = ["ftjob-e", "ftjob-b", "ftjob-c", "ftjob-d", "ftjob-a"]
    for listing in (jobs, list(reversed(jobs)), sorted(jobs, key=lambda j: j.id)):
        state = build_state(desired, Snapshot(workspace=WORKSPACE, jobs=tuple(listing)))
        assert [v.job.id for v in state["bot"].versions] == expected
        assert [v.number for v in state["bot"].versions] == [1, 2, 2, 2, 10]


def test_metadata_is_read_as_job_meta_reads_it() -> None:
    """The last pair of a repeated key wins; another workspace's job is not ours; a malformed
    version counts as 0."""
    desired = a_desired(a_manifest("bot"))
    renumbered = _with_meta(a_job_for(desired, "bot", id="ftjob-1", version=1), META_VERSION, "7")
    malformed = _with_meta(a_job_for(desired, "bot", id="ftjob-2", version=2), META_VERSION, "x")
    elsewhere = _with_meta(a_job_for(desired, "bot", id="ftjob-3", version=3), META_WORKSPACE,
                           "other")
    snapshot = Snapshot(workspace=WORKSPACE, jobs=(renumbered, malformed, elsewhere))  # type: ignore[arg-type]
    state = build_state(desired, snapshot)
    assert [(v.job.id, v.number) for v in state["bot"].versions] == [("ftjob-2", 0),
                                                                      ("ftjob-1", 7)]


def test_an_adopted_job_is_found_by_id_once() -> None:
    desired = a_desired(a_manifest("bot", adopt="ftjob-hand"),
                        a_manifest("other", adopt="ftjob-missing"))
    hand = a_hand_made_job("ftjob-hand", training_file="file-1")
    snapshot = Snapshot(workspace=WORKSPACE, jobs=(hand,),
                        models=(RemoteModel(id=hand.fine_tuned_model or "", owned_by="org"),))
    state = build_state(desired, snapshot)
    (version,) = state["bot"].versions
    assert version.job is hand and version.number == 0 and version.trained
    assert state["other"].versions == ()


def test_the_latest_version_skips_a_cancelled_duplicate() -> None:
    desired = a_desired(a_manifest("bot"))
    live = a_job_for(desired, "bot", id="ftjob-b", version=2, created_at=10)
    duplicate = a_job_for(desired, "bot", id="ftjob-c", version=2, created_at=20,
                          status=JobStatus.CANCELLED)
    first = a_job_for(desired, "bot", id="ftjob-a", version=1)
    state = build_state(desired, Snapshot(workspace=WORKSPACE, jobs=(first, live, duplicate)))
    latest = state["bot"].latest
    assert latest is not None and latest.job is live
    alone = build_state(desired, Snapshot(workspace=WORKSPACE, jobs=(first, duplicate)))
    latest = alone["bot"].latest
    assert latest is not None and latest.job is duplicate  # nothing else holds version 2


def test_a_dataset_reuses_its_oldest_usable_upload_whatever_the_listing() -> None:
    sha, other = sha_of("train"), sha_of("other")
    older = a_file(sha, id="file-b", created_at=5)
    same_time_lower_id = a_file(sha, id="file-a", created_at=5)
    newer = a_file(sha, id="file-0", created_at=9)
    failed = replace(a_file(sha, id="file-00", created_at=1), status="error")
    not_for_training = replace(a_file(other, id="file-x", created_at=1), purpose="batch")
    files = [older, newer, failed, same_time_lower_id, not_for_training]
    for listing in (files, list(reversed(files))):
        snapshot = Snapshot(workspace=WORKSPACE, files=tuple(listing))
        assert usable_files(snapshot, content_shas(snapshot)) == {sha: same_time_lower_id}
