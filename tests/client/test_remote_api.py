"""RemoteApi end to end against the real emulator (in-process WSGI, tmp SQLite, fake clock)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.client.api import RemoteApi
from reconciler.errors import PermanentApiError
from reconciler.planner.identity import META_OP, META_WORKSPACE, file_name
from reconciler.snapshot import JobStatus

BASE = "gpt-4o-mini-2024-07-18"


@pytest.fixture
def api(make_api: Any) -> RemoteApi:
    built: RemoteApi = make_api()
    return built


def create(api: RemoteApi, file_id: str, op: str, ws: str = "ws", **extra: Any) -> Any:
    body = {"model": BASE, "training_file": file_id,
            "metadata": {META_WORKSPACE: ws, META_OP: op}, **extra}
    return api.create_job(body)


def upload(api: RemoteApi, tmp_path: Path) -> Any:
    path = tmp_path / "train.jsonl"
    path.write_text("".join(
        f'{{"messages": [{{"role": "user", "content": "q{i}"}}, '
        f'{{"role": "assistant", "content": "a{i}"}}]}}\n' for i in range(12)))
    return api.upload_file(str(path), filename=file_name("a" * 64))


def test_upload_create_follow_to_a_model_then_delete(
    api: RemoteApi, tmp_path: Path, fake_clock: Any
) -> None:
    remote = upload(api, tmp_path)
    assert remote.filename == file_name("a" * 64) and remote.purpose == "fine-tune"
    assert [f.id for f in api.list_files()] == [remote.id]
    job = create(api, remote.id, "op-1", suffix="bot", seed=7)
    assert job.status == JobStatus.VALIDATING_FILES and job.meta(META_OP) == "op-1"
    fake_clock.advance(100_000)
    done = api.get_job(job.id)
    assert done.status == JobStatus.SUCCEEDED and done.fine_tuned_model
    assert done.suffix == "bot" and done.seed == 7
    assert dict(done.hyperparameters)["n_epochs"] != "auto"
    assert done.fine_tuned_model in {m.id for m in api.list_models()}
    events = api.list_events(job.id)
    assert events and events[0].created_at >= events[-1].created_at  # newest first
    assert isinstance(api.list_checkpoints(job.id), list)
    assert isinstance(api.chat(done.fine_tuned_model, [{"role": "user", "content": "hi"}],
                               max_tokens=5), str)
    api.delete_model(done.fine_tuned_model)
    assert done.fine_tuned_model not in {m.id for m in api.list_models()}


def test_list_jobs_filters_by_metadata_and_paginates(make_api: Any, tmp_path: Path) -> None:
    api = make_api(jobs_page=4)
    remote = upload(api, tmp_path)
    mine = {create(api, remote.id, f"op-{i}").id for i in range(9)}
    create(api, remote.id, "op-x", ws="other")
    before = api.http.request_count
    listed = api.list_jobs(metadata={META_WORKSPACE: "ws"})
    assert {j.id for j in listed} == mine
    assert api.http.request_count - before == 3  # 4 + 4 + 1: grows with pages
    assert len(api.list_jobs()) == 10


def test_find_job_by_operation(api: RemoteApi, tmp_path: Path) -> None:
    remote = upload(api, tmp_path)
    job = create(api, remote.id, "op-1")
    create(api, remote.id, "op-2")
    found = api.find_job_by_operation("ws", "op-1")
    assert found is not None and found.id == job.id
    assert api.find_job_by_operation("ws", "op-3") is None
    assert api.find_job_by_operation("other", "op-1") is None


def test_cancel_pause_resume(api: RemoteApi, tmp_path: Path, fake_clock: Any) -> None:
    remote = upload(api, tmp_path)
    job = create(api, remote.id, "op-1")
    fake_clock.advance(0.2)  # simulated: past validation (speed 1 would be slower)
    cancelled = api.cancel_job(job.id)
    assert cancelled.status == JobStatus.CANCELLED
    with pytest.raises(PermanentApiError) as info:
        api.cancel_job(job.id)
    assert info.value.status == 400


def test_missing_job_maps_to_404(api: RemoteApi) -> None:
    with pytest.raises(PermanentApiError) as info:
        api.get_job("ftjob-nope")
    assert info.value.status == 404 and "ftjob-nope" in info.value.message
    assert (info.value.request_id or "").startswith("req_")
    assert str(info.value.request_id) in str(info.value)


def test_wrong_key_is_a_401_without_the_key(make_api: Any) -> None:
    secret = "sk-wrong-SECRET-9876543210"
    api = make_api(key=secret)
    with pytest.raises(PermanentApiError) as info:
        api.list_models()
    assert info.value.status == 401
    assert secret not in str(info.value) and secret not in repr(info.value)


def test_large_upload_through_uploads_api(
    make_api: Any, write_chat: Any, tmp_path: Path
) -> None:
    api = make_api(upload_threshold=1024, part_size=700, part_workers=2)
    path = write_chat(tmp_path / "big.jsonl", n=60)
    size = path.stat().st_size
    seen: list[int] = []
    remote = api.upload_file(str(path), filename="big.jsonl",
                             on_progress=lambda done, total: seen.append(done))
    assert remote.bytes == size and remote.filename == "big.jsonl"
    assert seen[-1] == size and len(seen) == -(-size // 700)
    assert [f.id for f in api.list_files()] == [remote.id]


def test_base_models_carry_shutdown_dates(api: RemoteApi) -> None:
    models = {m.id: m for m in api.list_models()}
    assert BASE in models and not models[BASE].is_fine_tuned
    assert any(m.shutdown_date for m in models.values())


def test_get_model_get_file_delete_file(api: RemoteApi, tmp_path: Path) -> None:
    assert api.get_model(BASE).id == BASE
    remote = upload(api, tmp_path)
    assert api.get_file(remote.id) == remote
    api.delete_file(remote.id)
    api.delete_file(remote.id)  # already gone: still fine
    assert api.list_files() == []
    with pytest.raises(PermanentApiError):
        api.get_file(remote.id)

