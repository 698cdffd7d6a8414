"""The official `openai` SDK drives the emulator on a loopback port: a full session, its own
error types, and its retries recovering from injected faults."""

from __future__ import annotations

import time
from pathlib import Path

import openai
import pytest

from reconciler.emulator.server import start_in_background

BASE = "gpt-4o-mini-2024-07-18"


def sdk(base_url: str, *, key: str = "sk-test", retries: int = 2) -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=base_url, max_retries=retries, timeout=30)


def wait_done(client: openai.OpenAI, job_id: str) -> openai.types.fine_tuning.FineTuningJob:
    deadline = time.monotonic() + 60
    while True:
        job = client.fine_tuning.jobs.retrieve(job_id)
        if job.status in ("succeeded", "failed", "cancelled") or time.monotonic() > deadline:
            return job
        time.sleep(0.02)


def test_full_session_with_the_sdk(emulator_server, chat_dataset, tmp_path):
    client = sdk(emulator_server.base_url)
    with chat_dataset.open("rb") as fh:
        small = client.files.create(file=fh, purpose="fine-tune")
    chunked = client.uploads.upload_file_chunked(
        file=chat_dataset, mime_type="text/jsonl", purpose="fine-tune", part_size=400
    )
    assert chunked.status == "completed" and chunked.file is not None
    assert chunked.file.bytes == chat_dataset.stat().st_size
    assert client.files.content(chunked.file.id).read() == chat_dataset.read_bytes()
    ids = [
        client.fine_tuning.jobs.create(
            model=BASE, training_file=fid, suffix="sdk", metadata={"ws": "sdk", "n": str(n)}
        ).id
        for n, fid in enumerate([small.id, chunked.file.id, small.id])
    ]
    client.fine_tuning.jobs.create(model=BASE, training_file=small.id, metadata={"ws": "other"})
    pager = client.fine_tuning.jobs.list(metadata={"ws": "sdk"}, limit=1)
    assert pager.has_next_page()
    assert [j.id for j in pager] == ids[::-1]  # auto-paging walks all three pages
    job = wait_done(client, ids[0])
    assert job.status == "succeeded" and job.fine_tuned_model
    events = client.fine_tuning.jobs.list_events(ids[0], limit=100).data
    assert events[0].message == "The job has successfully completed"
    checkpoints = client.fine_tuning.jobs.checkpoints.list(ids[0]).data
    assert checkpoints and checkpoints[0].fine_tuned_model_checkpoint.startswith(
        job.fine_tuned_model)
    reply = client.chat.completions.create(
        model=job.fine_tuned_model,
        messages=[{"role": "user", "content": "Where is my order number 4?"}],
    )
    assert reply.choices[0].message.content == "Order 4 ships today; tracking follows."
    assert client.models.retrieve(job.fine_tuned_model).id == job.fine_tuned_model
    assert client.models.delete(job.fine_tuned_model).deleted is True


def test_sdk_error_types(emulator_server, chat_dataset):
    with pytest.raises(openai.AuthenticationError) as auth:
        sdk(emulator_server.base_url, key="sk-wrong").models.list()
    assert auth.value.code == "invalid_api_key" and auth.value.request_id
    client = sdk(emulator_server.base_url)
    with pytest.raises(openai.NotFoundError):
        client.fine_tuning.jobs.retrieve("ftjob-missing")
    with pytest.raises(openai.BadRequestError) as bad:
        client.fine_tuning.jobs.create(model=BASE, training_file="file-missing")
    assert bad.value.param == "training_file"


def test_sdk_retries_recover_from_faults(tmp_path, chat_dataset):
    with start_in_background(str(tmp_path / "f.db"), api_key="sk-test", speed=1000.0, seed=11,
                             faults="429:0.15,500:0.1,503:0.1,reset:0.1,slow:0.02",
                             retry_after=0.01) as server:
        client = sdk(server.base_url, retries=12)
        models = [client.models.list() for _ in range(15)]
        assert all(any(m.id == BASE for m in page.data) for page in models)
        with chat_dataset.open("rb") as fh:
            assert client.files.create(file=fh, purpose="fine-tune").bytes > 0


def test_lost_response_surfaces_as_connection_error_after_commit(tmp_path, chat_dataset):
    db = str(tmp_path / "lost.db")
    with start_in_background(db, api_key="sk-test") as server:
        fid = sdk(server.base_url).files.create(file=("t.jsonl", chat_dataset.read_bytes()),
                                                purpose="fine-tune").id
    with start_in_background(db, api_key="sk-test", faults="lost:1.0") as server, pytest.raises(
        openai.APIConnectionError
    ):
        sdk(server.base_url, retries=0).fine_tuning.jobs.create(
            model=BASE, training_file=fid, metadata={"op": "lost"})
    with start_in_background(db, api_key="sk-test") as server:
        found = sdk(server.base_url).fine_tuning.jobs.list(metadata={"op": "lost"}).data
    assert len(found) == 1


def test_results_file_is_downloadable(emulator_server, chat_dataset: Path):
    client = sdk(emulator_server.base_url)
    fid = client.files.create(file=("t.jsonl", chat_dataset.read_bytes()), purpose="fine-tune").id
    job = wait_done(client, client.fine_tuning.jobs.create(model=BASE, training_file=fid).id)
    csv = client.files.content(job.result_files[0]).read().decode()
    assert csv.splitlines()[0].startswith("step,train_loss")
