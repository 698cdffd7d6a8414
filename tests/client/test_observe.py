"""observe() against the real emulator: workspace filter, adopted jobs, files, models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler.observe import observe
from reconciler.planner.identity import META_OP, META_WORKSPACE
from reconciler.spec import DatasetRef, Desired, Manifest, ModelSpec, Settings

BASE = "gpt-4o-mini-2024-07-18"


def desired(root: Path, adopt: tuple[str, ...] = ()) -> Desired:
    manifests = tuple(
        Manifest(name=f"m{i}", spec=ModelSpec(
            model=BASE, adopt=job_id,
            training_file=DatasetRef(path="train.jsonl", repo_path="data/train.jsonl")))
        for i, job_id in enumerate(adopt)
    )
    return Desired(settings=Settings(workspace="ws", root=str(root)), manifests=manifests)


def test_snapshot_holds_managed_and_adopted_jobs_files_models(
    make_api: Any, write_chat: Any, tmp_path: Path, fake_clock: Any
) -> None:
    api = make_api(jobs_page=2)
    remote = api.upload_file(str(write_chat(tmp_path / "t.jsonl")), filename="t.jsonl")
    other = api.upload_file(str(write_chat(tmp_path / "u.jsonl", n=11)), filename="u.jsonl")

    def job(ws: str | None, op: str) -> str:
        meta = {META_WORKSPACE: ws, META_OP: op} if ws else None
        created = api.create_job({"model": BASE, "training_file": remote.id, "metadata": meta})
        return str(created.id)

    managed = {job("ws", f"op-{i}") for i in range(5)}
    foreign = job("other-ws", "op-f")
    hand_made = job(None, "")
    fake_clock.advance(100_000)

    snap = observe(api, desired(tmp_path, adopt=(hand_made, "ftjob-does-not-exist")))
    assert snap.workspace == "ws"
    assert {j.id for j in snap.jobs} == managed | {hand_made}
    assert foreign not in {j.id for j in snap.jobs}
    assert [j.id for j in snap.jobs] == sorted(j.id for j in snap.jobs)
    assert {f.id for f in snap.files} == {remote.id, other.id}
    assert [f.id for f in snap.files] == sorted(f.id for f in snap.files)
    ids = [m.id for m in snap.models]
    assert ids == sorted(ids) and BASE in ids
    fine_tuned = {m.id for m in snap.models if m.is_fine_tuned}
    assert fine_tuned == {j.fine_tuned_model for j in snap.jobs} | {
        api.get_job(foreign).fine_tuned_model}


def test_observing_twice_gives_the_same_snapshot(make_api: Any, tmp_path: Path) -> None:
    api = make_api()
    first = observe(api, desired(tmp_path))
    assert first == observe(api, desired(tmp_path))
    assert first.jobs == () and first.files == ()


def test_reads_are_a_handful_of_requests(make_api: Any, tmp_path: Path) -> None:
    api = make_api()
    observe(api, desired(tmp_path))
    assert api.http.request_count == 3  # jobs, files, models: one page each
