"""identity: op ids, metadata and the state fingerprint."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import orjson
import pytest
from builders import a_desired, a_file, a_job_for, a_manifest, a_snapshot, files_for, sha_of

from reconciler.planner.identity import (
    file_name,
    job_metadata,
    job_version,
    operation_id,
    sha_from_file_name,
    state_fingerprint,
    version_of,
)
from reconciler.snapshot import JobStatus, RemoteFile, RemoteJob, RemoteModel, Snapshot


def test_operation_id_is_deterministic_and_distinct() -> None:
    a = operation_id("ws", "bot", 2, "abc")
    assert a == operation_id("ws", "bot", 2, "abc") and a.startswith("op-")
    assert len({a, operation_id("ws", "bot", 3, "abc"), operation_id("ws2", "bot", 2, "abc"),
                operation_id("ws", "bot", 2, "abd")}) == 4


def test_metadata_fits_the_api_limits() -> None:
    meta = job_metadata(workspace="w" * 80, name="bot", spec="s", version=3, op="op-1",
                        commit="c" * 600)
    assert len(meta) <= 16 and all(len(k) <= 64 and len(v) <= 512 for k, v in meta)
    assert job_version(dict(meta)) == 3 and job_version({"ftctl-version": "x"}) is None


def test_file_names_round_trip() -> None:
    sha = sha_of("x")
    assert sha_from_file_name(file_name(sha)) == sha
    assert sha_from_file_name("train.jsonl") is None
    assert sha_from_file_name(file_name(sha, "")) == sha  # no suffix
    assert sha_from_file_name(file_name(sha, ".tar.gz")) == sha
    for other in (file_name(sha.upper()), file_name(sha[:-1]), file_name(sha + "0"),
                  f"ftctl-{sha}-x.jsonl", f"x-ftctl-{sha}.jsonl", f"ftctl-{sha}\n.jsonl"):
        assert sha_from_file_name(other) is None, other


def _snapshot() -> object:
    desired = a_desired(a_manifest("bot"))
    job = a_job_for(desired, "bot", id="ftjob-2", version=2, status=JobStatus.QUEUED)
    done = a_job_for(desired, "bot", id="ftjob-1")
    return a_snapshot(jobs=[done, job], files=files_for(desired))


def test_fingerprint_ignores_progress_but_not_outcomes() -> None:
    snap = _snapshot()
    fp = state_fingerprint(snap)  # type: ignore[arg-type]

    def with_job(**changes: object) -> str:
        jobs = tuple(replace(j, **changes) if j.id == "ftjob-2" else j
                     for j in snap.jobs)  # type: ignore[attr-defined]
        return state_fingerprint(replace(snap, jobs=jobs))  # type: ignore[type-var]

    assert with_job(status=JobStatus.RUNNING, trained_tokens=500, estimated_finish=9) == fp
    assert with_job(status=JobStatus.FAILED) != fp
    assert with_job(status=JobStatus.CANCELLED) != fp


def test_fingerprint_follows_managed_models_and_files_only() -> None:
    snap = _snapshot()
    fp = state_fingerprint(snap)  # type: ignore[arg-type]
    other_model = RemoteModel(id="ft:gpt-4o-mini:other-team::x", owned_by="org")
    other_file = RemoteFile(id="file-z", filename="notes.jsonl", bytes=1, purpose="fine-tune",
                            created_at=1)
    more = replace(snap, models=(*snap.models, other_model),  # type: ignore[attr-defined]
                   files=(*snap.files, other_file))  # type: ignore[attr-defined]
    assert state_fingerprint(more) == fp
    managed = next(j.fine_tuned_model for j in snap.jobs if j.fine_tuned_model)  # type: ignore[attr-defined]
    fewer = replace(snap, models=tuple(m for m in snap.models  # type: ignore[attr-defined]
                                       if m.id != managed))
    assert state_fingerprint(fewer) != fp
    extra_file = replace(snap, files=(*snap.files, a_file(sha_of("new"))))  # type: ignore[attr-defined]
    assert state_fingerprint(extra_file) != fp




def test_fingerprint_is_pinned() -> None:
    """Saved plans carry the fingerprint: its value for these facts must not move (it was
    computed before the fingerprint's JSON text went through orjson; escapes, non-ASCII and
    the order of rows all feed it)."""
    snap = Snapshot(
        workspace="démo",
        jobs=(
            RemoteJob(id="ftjob-b", status=JobStatus.RUNNING, model="gpt-4o-mini-2024-07-18",
                      training_file="file-1",
                      metadata=(("ftctl-name", "bot"), ("ftctl-version", "2"))),
            RemoteJob(id="ftjob-a", status=JobStatus.SUCCEEDED, model="gpt-4o-mini-2024-07-18",
                      training_file="file-1",
                      fine_tuned_model="ft:gpt-4o-mini-2024-07-18:org:bot:a1",
                      metadata=(("ftctl-commit", 'tab\tquote"back\\slash \u2028 ü 😀'),
                                ("ftctl-name", "bot"), ("ftctl-version", "1"))),
        ),
        files=(
            RemoteFile(id="file-1", filename=file_name("a" * 64), bytes=10, purpose="fine-tune",
                       created_at=1),
            RemoteFile(id="file-0", filename="notes.jsonl", bytes=1, purpose="fine-tune",
                       created_at=1),
        ),
        models=(RemoteModel(id="ft:gpt-4o-mini-2024-07-18:org:bot:a1", owned_by="org"),
                RemoteModel(id="gpt-4o-mini-2024-07-18", owned_by="system")),
    )
    assert state_fingerprint(snap) == (
        "420d81931984fdbf62229f6c10579ac79c6b9bec34c4d59468e8f78d5784d022")


def _nested_fingerprint(snap: Snapshot) -> str:
    """The fingerprint as its docstring defines it: one orjson text of the nested facts."""
    produced = {j.fine_tuned_model for j in snap.jobs if j.fine_tuned_model}
    shas = {f.id for f in snap.files if sha_from_file_name(f.filename)}
    facts = [
        snap.workspace,
        [[j.id, j.status if j.status.is_terminal else "active", j.fine_tuned_model,
          sorted(j.metadata)] for j in sorted(snap.jobs, key=lambda j: j.id)],
        [[f.id, f.filename, f.purpose] for f in sorted(snap.files, key=lambda f: f.id)
         if f.id in shas or f.filename.startswith("ftctl-verdict-")],
        sorted(m.id for m in snap.models if m.id in produced),
    ]
    return hashlib.sha256(orjson.dumps(facts)).hexdigest()


@pytest.mark.parametrize("count", [0, 1, 499, 500, 501, 1234])
def test_fingerprint_text_is_the_nested_facts(count: int) -> None:
    """Written a few hundred rows at a time, the text is still that of the whole nested list
    (the value is saved in plan files: it must not move)."""
    statuses = list(JobStatus)
    jobs = tuple(
        RemoteJob(id=f"ftjob-{i:05d}", status=statuses[i % len(statuses)], model="m",
                  training_file="file-1", fine_tuned_model=f"ft:m:o:bot:{i}" if i % 3 else None,
                  metadata=(("ftctl-version", str(i)), ("ftctl-name", "bot"), ("é", "\u2028")))
        for i in reversed(range(count))
    )
    files = tuple(
        RemoteFile(id=f"file-{i:05d}", purpose="fine-tune", bytes=1, created_at=i,
                   filename=file_name(sha_of(str(i))) if i % 4 else f"notes-{i}.jsonl")
        for i in range(count)
    ) + (RemoteFile(id="file-v", filename=f"ftctl-verdict-ftjob-1-{'a' * 16}-passed.jsonl",
                    bytes=1, purpose="fine-tune", created_at=0),)
    models = tuple(RemoteModel(id=f"ft:m:o:bot:{i}", owned_by="o") for i in range(0, count, 2))
    snap = Snapshot(workspace="démo", jobs=jobs, files=files, models=models)
    assert state_fingerprint(snap) == _nested_fingerprint(snap)


def test_meta_reads_one_key_and_the_last_pair_wins() -> None:
    job = RemoteJob(id="j", status=JobStatus.QUEUED, model="m", training_file="f",
                    metadata=(("a", "1"), ("b", "2"), ("a", "3")))
    assert (job.meta("a"), job.meta("b"), job.meta("c")) == ("3", "2", None)
    assert version_of("12") == 12 and version_of("1x") is None and version_of(None) is None
