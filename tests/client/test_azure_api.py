"""AzureApi against the emulator's Azure dialect (in-process, fake clock): uploads waited to
`processed`, Azure's statuses and model ids, `trainingType`, the client-side workspace filter,
the identity records that stand in for dropped metadata (including a create whose answer was
lost), job and model deletion through the dated API, chat by deployment name, error shapes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.client.azure import AzureApi
from reconciler.client.fallback_identity import Record
from reconciler.client.parse import job_status
from reconciler.errors import PermanentApiError
from reconciler.model_names import base_of, is_fine_tuned_id
from reconciler.planner.identity import META_NAME, META_OP, META_WORKSPACE
from reconciler.snapshot import JobStatus
from tests.client.azure_helpers import azure_api, chat_file
from tests.emulator.azure_support import BASE, Azure


@pytest.fixture
def azure(make_emulator, fake_clock) -> Iterator[Azure]:  # type: ignore[no-untyped-def]
    env = Azure(make_emulator, fake_clock)
    yield env
    env.close()


@pytest.fixture
def api(azure: Azure, tmp_path: Path) -> Iterator[AzureApi]:
    client = azure_api(azure, tmp_path, training_type="GlobalStandard")
    yield client
    client.close()


def _body(file_id: str, workspace: str = "ws", op: str = "op-1") -> dict[str, Any]:
    return {"model": BASE, "training_file": file_id, "suffix": "bot",
            "metadata": {META_WORKSPACE: workspace, META_NAME: "bot", META_OP: op}}


def _uploaded(api: AzureApi, tmp_path: Path, name: str = "ftctl-a.jsonl") -> str:
    return api.upload_file(chat_file(tmp_path / name), filename=name).id


def test_upload_returns_once_processed(api: AzureApi, azure: Azure, tmp_path: Path) -> None:
    before = azure.clock()
    uploaded = api.upload_file(chat_file(tmp_path / "t.jsonl"), filename="ftctl-t.jsonl")
    assert uploaded.status == "processed"
    assert azure.clock() - before >= 10  # the emulator processes a file in 10 simulated s


def test_jobs_train_with_azure_statuses_ids_and_training_type(
    api: AzureApi, azure: Azure, tmp_path: Path,
) -> None:
    job = api.create_job(_body(_uploaded(api, tmp_path)))
    assert job.status is JobStatus.VALIDATING_FILES  # Azure's `pending`
    assert azure.v1.get(f"/fine_tuning/jobs/{job.id}").json()["trainingType"] == "GlobalStandard"
    azure.clock.advance(10_000)
    done = api.get_job(job.id)
    assert done.status is JobStatus.SUCCEEDED and done.meta(META_NAME) == "bot"
    assert done.fine_tuned_model and done.fine_tuned_model.startswith(f"{BASE}.ft-")
    assert base_of(done.fine_tuned_model) == BASE and is_fine_tuned_id(done.fine_tuned_model)
    assert not is_fine_tuned_id(BASE)
    assert api.metadata_kept is True


def test_a_job_waits_for_files_an_earlier_run_left_unprocessed(
    api: AzureApi, azure: Azure, tmp_path: Path,
) -> None:
    file_id = azure.upload(Path(chat_file(tmp_path / "t.jsonl")), processed=False)
    assert azure.v1.get(f"/files/{file_id}").json()["status"] != "processed"
    job = api.create_job(_body(file_id))  # Azure refuses a job naming an unprocessed file
    assert job.training_file == file_id


@pytest.mark.parametrize(("raw", "status"), [
    ("pending", JobStatus.VALIDATING_FILES), ("pausing", JobStatus.RUNNING),
    ("paused", JobStatus.PAUSED), ("resuming", JobStatus.RUNNING),
])
def test_azure_statuses_map_onto_snapshot_statuses(raw: str, status: JobStatus) -> None:
    assert job_status(raw) is status


def test_the_workspace_filter_is_applied_here(api: AzureApi, azure: Azure,
                                              tmp_path: Path) -> None:
    file_id = _uploaded(api, tmp_path)
    mine = api.create_job(_body(file_id, "ws", "op-1"))
    api.create_job(_body(file_id, "other", "op-2"))
    azure.create_job(file_id)  # made by hand, no metadata
    assert len(api.list_jobs()) == 3
    assert [j.id for j in api.list_jobs(metadata={META_WORKSPACE: "ws"})] == [mine.id]
    assert api.find_job_by_operation("ws", "op-2") is None
    assert api.find_job_by_operation("other", "op-2") is not None


@pytest.fixture
def dropping(make_emulator, fake_clock, tmp_path: Path) -> Iterator[AzureApi]:  # type: ignore[no-untyped-def]
    env = Azure(make_emulator, fake_clock, keep_metadata=False)
    client = azure_api(env, tmp_path)
    client.raw = env  # type: ignore[attr-defined]
    yield client
    client.close()
    env.close()


def test_dropped_metadata_is_restored_from_identity_records(
    dropping: AzureApi, tmp_path: Path,
) -> None:
    file_id = _uploaded(dropping, tmp_path)
    job = dropping.create_job(_body(file_id))
    assert dropping.metadata_kept is False
    assert job.meta(META_OP) == "op-1" and job.suffix == "bot"
    # A fresh client (another command) knows nothing but what the provider holds.
    fresh = azure_api(dropping.raw, tmp_path)  # type: ignore[attr-defined]
    listed = fresh.list_jobs(metadata={META_WORKSPACE: "ws"})
    assert [(j.id, j.meta(META_NAME), j.suffix) for j in listed] == [(job.id, "bot", "bot")]
    assert fresh.list_jobs(metadata={META_WORKSPACE: "other"}) == []
    assert fresh.get_job(job.id).meta(META_WORKSPACE) == "ws"
    fresh.close()


def test_a_create_whose_answer_was_lost_is_found_and_claimed(
    dropping: AzureApi, tmp_path: Path,
) -> None:
    raw: Azure = dropping.raw  # type: ignore[attr-defined]
    file_id = _uploaded(dropping, tmp_path)
    body = _body(file_id)
    # The record went out, the create landed, its answer never came back.
    dropping.records.write("op-1", Record.of_create(body))
    landed = raw.create_job(file_id)
    raw.create_job(_uploaded(dropping, tmp_path, "ftctl-b.jsonl"))  # another file: not it
    found = dropping.find_job_by_operation("ws", "op-1")
    assert found is not None and found.id == landed["id"] and found.meta(META_NAME) == "bot"
    # Claimed: the next command finds it through its claim, and a create does not repeat it.
    fresh = azure_api(raw, tmp_path)
    assert [j.id for j in fresh.list_jobs(metadata={META_WORKSPACE: "ws"})] == [landed["id"]]
    fresh.close()


def test_deleting_a_model_deletes_its_job_through_the_dated_api(
    api: AzureApi, azure: Azure, tmp_path: Path,
) -> None:
    job = api.create_job(_body(_uploaded(api, tmp_path)))
    with pytest.raises(PermanentApiError) as running:
        api.delete_job(job.id)
    assert (running.value.status, running.value.code) == (400, "unexpectedEntityState")
    azure.clock.advance(10_000)
    model = api.get_job(job.id).fine_tuned_model
    assert model is not None
    api.delete_model(model)
    assert api.list_jobs() == []
    assert model not in {m.id for m in api.list_models()}
    api.delete_job(job.id)  # already gone: done


def test_deleting_the_job_of_a_deployed_model_fails_at_once_in_clear_words(
    api: AzureApi, azure: Azure, tmp_path: Path,
) -> None:
    job = api.create_job(_body(_uploaded(api, tmp_path)))
    azure.clock.advance(10_000)
    model = api.get_job(job.id).fine_tuned_model
    assert model is not None
    api.arm.put_deployment("bot", model=model, sku="Standard", capacity=1)
    sent = api.dated.request_count
    with pytest.raises(PermanentApiError) as refused:
        api.delete_job(job.id)
    assert (refused.value.status, refused.value.code) == (409, "conflict")
    assert "deployed (bot)" in refused.value.message
    assert "does not retry" in refused.value.message
    assert api.dated.request_count - sent == 1  # one answer, not the whole retry budget
    assert [j.id for j in api.list_jobs()] == [job.id]


def test_arms_operation_in_progress_409_is_still_retried(
    api: AzureApi, azure: Azure, tmp_path: Path,
) -> None:
    from reconciler.client.http import error_from_response
    from reconciler.errors import RetryableApiError

    job = api.create_job(_body(_uploaded(api, tmp_path)))
    azure.clock.advance(10_000)
    model = api.get_job(job.id).fine_tuned_model
    assert model is not None
    assert azure.put_deployment("bot", model).status_code in (200, 201)
    busy = azure.put_deployment("bot", model, capacity=2)  # still provisioning the first
    assert busy.status_code == 409
    error = error_from_response("PUT", "deployments/bot", busy)
    assert isinstance(error, RetryableApiError) and error.code == "RequestConflict"


def test_chat_addresses_a_deployment_by_name(api: AzureApi, azure: Azure,
                                             tmp_path: Path) -> None:
    job = api.create_job(_body(_uploaded(api, tmp_path)))
    azure.clock.advance(10_000)
    model = api.get_job(job.id).fine_tuned_model
    assert model is not None
    with pytest.raises(PermanentApiError) as not_deployed:
        api.chat(model, [{"role": "user", "content": "hi"}])
    assert (not_deployed.value.status, not_deployed.value.code) == (404, "DeploymentNotFound")
    api.arm.put_deployment("bot", model=model, sku="Standard", capacity=1)
    answer = api.chat(model, [{"role": "user", "content": "hi"}], deployment="bot")
    assert isinstance(answer, str) and answer


def test_a_resource_limit_is_a_permanent_error_in_azures_words(
    make_emulator, fake_clock, tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    from reconciler.emulator.azure_settings import AzureLimits

    env = Azure(make_emulator, fake_clock, limits=AzureLimits(files=1))
    client = azure_api(env, tmp_path)
    _uploaded(client, tmp_path)
    sent = client.http.request_count
    with pytest.raises(PermanentApiError) as refused:
        _uploaded(client, tmp_path, "ftctl-b.jsonl")
    assert (refused.value.status, refused.value.code) == (400, "quotaExceeded")
    assert "fine-tuning files" in refused.value.message
    assert client.http.request_count - sent <= 3  # refused, not retried (a look-up at most)
    client.close()
    env.close()


def test_throttling_in_azures_shape_is_retried(make_emulator, fake_clock,  # type: ignore[no-untyped-def]
                                              tmp_path: Path) -> None:
    attempts = []
    for n, faults in enumerate((None, "429:0.3,500:0.1")):
        extra = {"faults": faults, "seed": 7} if faults else {}
        env = Azure(make_emulator, fake_clock, db_path=str(tmp_path / f"{n}.db"), **extra)
        client = azure_api(env, tmp_path)
        job = client.create_job(_body(_uploaded(client, tmp_path)))
        assert [j.id for j in client.list_jobs(metadata={META_WORKSPACE: "ws"})] == [job.id]
        attempts.append(client.http.request_count)
        client.close()
        env.close()
    assert attempts[1] > attempts[0]  # answers were refused, retried, and it still converged
