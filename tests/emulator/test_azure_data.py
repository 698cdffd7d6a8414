"""The Azure dialect's data plane over HTTP (in-process, fake clock): auth and api-version,
file statuses, job statuses (pending, pausing, paused, resuming), trainingType, metadata kept
or dropped (--no-metadata), no metadata filter, Azure ids, deployments-only inference, the
dated API (201 + Location, job delete), error shapes and injected faults."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import EMULATOR_KEY
from tests.emulator.azure_support import BASE, ENDPOINT, TOKEN, Azure


@pytest.fixture
def azure(make_emulator, fake_clock) -> Iterator[Azure]:
    env = Azure(make_emulator, fake_clock)
    yield env
    env.close()


def test_auth_takes_api_key_bearer_key_on_v1_and_entra_tokens(azure):
    def status(path: str, headers: dict[str, str], **params: str) -> int:
        return azure.client(ENDPOINT, headers).get(path, params=params).status_code

    v1, dated = "/openai/v1/models", "/openai/models"
    version = {"api-version": "2024-10-21"}
    assert status(v1, {"api-key": EMULATOR_KEY}) == 200
    assert status(v1, {"Authorization": f"Bearer {EMULATOR_KEY}"}) == 200
    assert status(v1, {"Authorization": f"Bearer {TOKEN}"}) == 200
    assert status(dated, {"api-key": EMULATOR_KEY}, **version) == 200
    assert status(dated, {"Authorization": f"Bearer {TOKEN}"}, **version) == 200
    assert status(dated, {"Authorization": f"Bearer {EMULATOR_KEY}"}, **version) == 401
    bad = azure.client(ENDPOINT, {"api-key": "wrong"}).get(v1)
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "401"
    assert bad.json()["error"]["message"].startswith("Access denied due to invalid subscription")
    none = azure.client(ENDPOINT, {}).get(dated, params=version)
    assert "missing subscription key" in none.json()["error"]["message"]
    assert bad.headers["apim-request-id"] == bad.headers["x-request-id"]


def test_api_versions(azure):
    assert azure.v1.get("/models", params={"api-version": "preview"}).status_code == 200
    wrong = azure.v1.get("/models", params={"api-version": "2024-10-21"})
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "BadRequest"
    plain = azure.client(ENDPOINT + "/openai", {"api-key": EMULATOR_KEY})
    missing = plain.get("/models")
    assert missing.status_code == 404
    assert missing.json() == {"error": {"code": "404", "message": "Resource not found"}}
    assert plain.get("/models", params={"api-version": "2025-04-01-preview"}).status_code == 200


def test_files_are_processed_on_the_clock_and_jobs_wait_for_them(azure, chat_dataset):
    file_id = azure.upload(chat_dataset, processed=False)
    statuses = []
    job_refused = azure.v1.post("/fine_tuning/jobs",
                                json={"model": BASE, "training_file": file_id})
    assert job_refused.status_code == 400
    assert job_refused.json()["error"]["code"] == "unexpectedEntityState"
    assert job_refused.json()["error"]["param"] == "training_file"
    for _ in range(12):
        statuses.append(azure.v1.get(f"/files/{file_id}").json()["status"])
        azure.clock.advance(1)
    assert sorted(set(statuses), key=statuses.index) == ["pending", "running", "processed"]
    assert azure.v1.get("/fine_tuning/jobs").json()["data"] == []
    assert azure.create_job(file_id)["status"] == "pending"


def test_dated_upload_and_create_answer_201_with_location(azure, chat_dataset):
    with chat_dataset.open("rb") as fh:
        r = azure.dated.post("/files", files={"file": ("t.jsonl", fh)},
                             data={"purpose": "fine-tune"})
    assert r.status_code == 201
    file_id = r.json()["id"]
    assert r.headers["Location"] == f"{ENDPOINT}/openai/files/{file_id}"
    azure.clock.advance(60)
    job = azure.dated.post("/fine_tuning/jobs", json={
        "model": BASE, "training_file": file_id, "trainingType": "globalstandard", "seed": 105})
    assert job.status_code == 201
    assert job.headers["Location"] == f"{ENDPOINT}/openai/fine_tuning/jobs/{job.json()['id']}"
    assert job.json()["trainingType"] == "globalstandard"
    bad = azure.dated.post("/fine_tuning/jobs", json={
        "model": BASE, "training_file": file_id, "trainingType": "cheap"})
    assert bad.json() == {"error": {
        "code": "invalidPayload", "target": "trainingType",
        "message": "Invalid trainingType 'cheap': expected Standard, GlobalStandard or Developer."}}


def test_jobs_succeed_with_azure_model_and_checkpoint_ids(azure, chat_dataset):
    job = azure.train(chat_dataset, suffix="bot")
    model = job["fine_tuned_model"]
    base, _, digits = model.partition(".ft-")
    assert base == BASE and len(digits) == 32 and int(digits, 16) >= 0
    assert job["organization_id"] is None
    ckpts = azure.v1.get(f"/fine_tuning/jobs/{job['id']}/checkpoints").json()
    assert all(c["id"].startswith("ftchkpt-") and len(c["id"]) == 40 for c in ckpts["data"])
    assert ckpts["first_id"] == ckpts["data"][0]["id"]
    assert ckpts["data"][0]["fine_tuned_model_checkpoint"].startswith(model + ":ckpt-step-")
    got = azure.v1.get(f"/models/{model}").json()
    assert (got["model"], got["fine_tune"], got["status"]) == (BASE, job["id"], "succeeded")
    assert got["capabilities"]["chat_completion"] is True
    assert azure.v1.delete(f"/models/{model}").status_code == 405  # no model delete on Azure
    events = azure.v1.get(f"/fine_tuning/jobs/{job['id']}/events").json()["data"]
    assert events[1]["message"] == f"New fine-tuned model created: {model}"
    cont = azure.create_job(azure.upload(chat_dataset), model=model)  # continuous fine-tuning
    assert cont["model"] == model


def test_pause_and_resume_pass_through_pausing_and_resuming(azure, chat_dataset):
    job = azure.create_job(azure.upload(chat_dataset))
    url = f"/fine_tuning/jobs/{job['id']}"
    early = azure.v1.post(f"{url}/pause")
    assert early.status_code == 400 and early.json()["error"]["code"] == "unexpectedEntityState"
    azure.clock.advance(40)  # past validation and queueing, a few steps in
    assert azure.v1.get(url).json()["status"] == "running"
    assert azure.v1.post(f"{url}/pause").json()["status"] == "pausing"
    assert azure.v1.post(f"{url}/resume").status_code == 400  # not paused yet
    azure.clock.advance(10)
    assert azure.v1.get(url).json()["status"] == "paused"
    assert azure.v1.post(f"{url}/resume").json()["status"] == "resuming"
    azure.clock.advance(10)
    assert azure.v1.get(url).json()["status"] == "running"
    azure.clock.advance(10_000)
    assert azure.v1.get(url).json()["status"] == "succeeded"


def test_metadata_round_trips_and_the_list_has_no_metadata_filter(azure, chat_dataset):
    file_id = azure.upload(chat_dataset)
    ours = azure.create_job(file_id, metadata={"ftctl-workspace": "a"})
    theirs = azure.create_job(file_id, metadata={"ftctl-workspace": "b"})
    assert ours["metadata"] == {"ftctl-workspace": "a"}
    listed = azure.v1.get("/fine_tuning/jobs",
                          params={"metadata[ftctl-workspace]": "a", "limit": 1}).json()
    assert [j["id"] for j in listed["data"]] == [theirs["id"]] and listed["has_more"]
    rest = azure.v1.get("/fine_tuning/jobs", params={"after": theirs["id"]}).json()
    assert [j["id"] for j in rest["data"]] == [ours["id"]]


def test_no_metadata_drops_job_metadata(make_emulator, fake_clock, chat_dataset):
    env = Azure(make_emulator, fake_clock, keep_metadata=False)
    job = env.create_job(env.upload(chat_dataset), metadata={"ftctl-workspace": "a"})
    assert job["metadata"] is None
    assert env.v1.get(f"/fine_tuning/jobs/{job['id']}").json()["metadata"] is None
    env.close()


def test_inference_addresses_deployments_only(azure, chat_dataset):
    model = azure.train(chat_dataset)["fine_tuned_model"]
    by_model = azure.chat(model)
    assert by_model.status_code == 404
    assert by_model.json()["error"]["code"] == "DeploymentNotFound"
    assert azure.put_deployment("bot", model).status_code == 201
    assert azure.chat("bot").status_code == 404  # not ready while provisioning
    azure.clock.advance(120)
    reply = azure.chat("bot", "Where is my order number 7?").json()
    assert reply["choices"][0]["message"]["content"] == "Order 7 ships today; tracking follows."
    assert reply["model"] == model
    assert reply["prompt_filter_results"][0]["content_filter_results"]["hate"] == {
        "filtered": False, "severity": "safe"}
    dated = azure.dated.post("/deployments/bot/chat/completions", json={
        "messages": [{"role": "user", "content": "order number 2"}]})
    assert dated.json()["choices"][0]["message"]["content"].startswith("Order 2 ships")
    missing = azure.dated.post("/deployments/nope/chat/completions",
                               json={"messages": [{"role": "user", "content": "hi"}]})
    assert missing.json()["error"]["code"] == "DeploymentNotFound"
    assert set(missing.json()["error"]) == {"code", "message"}


def test_job_delete_is_dated_only_and_refused_while_deployed_or_running(azure, chat_dataset):
    running = azure.create_job(azure.upload(chat_dataset))
    refused = azure.dated.delete(f"/fine_tuning/jobs/{running['id']}")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "unexpectedEntityState"
    azure.clock.advance(10_000)
    job = azure.v1.get(f"/fine_tuning/jobs/{running['id']}").json()
    assert azure.v1.delete(f"/fine_tuning/jobs/{job['id']}").status_code == 405
    azure.deploy("bot", job["fine_tuned_model"])
    deployed = azure.dated.delete(f"/fine_tuning/jobs/{job['id']}")
    assert deployed.status_code == 409 and deployed.json()["error"]["code"] == "conflict"
    azure.arm.delete("/deployments/bot")
    azure.clock.advance(60)
    assert azure.dated.delete(f"/fine_tuning/jobs/{job['id']}").status_code == 204
    assert azure.v1.get(f"/fine_tuning/jobs/{job['id']}").status_code == 404
    assert azure.v1.get(f"/models/{job['fine_tuned_model']}").status_code == 404
    assert azure.put_deployment("bot", job["fine_tuned_model"]).status_code == 400
    assert azure.v1.get(f"/files/{job['result_files'][0]}").status_code == 404


def test_error_shapes_of_both_data_plane_families(azure):
    v1 = azure.v1.get("/fine_tuning/jobs/ftjob-missing").json()
    assert v1 == {"error": {"code": "notFound", "param": "fine_tuning_job_id", "type": "error",
                            "message": "No such fine-tuning job: 'ftjob-missing'."}}
    dated = azure.dated.get("/fine_tuning/jobs/ftjob-missing").json()
    assert dated == {"error": {"code": "notFound", "target": "fine_tuning_job_id",
                               "message": "No such fine-tuning job: 'ftjob-missing'."}}


def test_injected_faults_answer_in_azure_shapes(make_emulator, fake_clock):
    env = Azure(make_emulator, fake_clock, faults="429:1.0", seed=1)
    r = env.v1.get("/models")
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    assert r.json()["error"]["code"] == "rate_limit_exceeded"
    arm = env.arm.get("/deployments")
    assert arm.status_code == 429 and set(arm.json()["error"]) >= {"details", "additionalInfo"}
    env.close()
    dropping = Azure(make_emulator, fake_clock, faults="reset:1.0", seed=1)
    with pytest.raises(httpx.RemoteProtocolError):
        dropping.arm.get("/deployments")
    dropping.close()


def test_dated_uploads_in_parts_are_processed_on_the_clock(azure, chat_dataset):
    data = chat_dataset.read_bytes()
    upload = azure.dated.post("/uploads", json={
        "bytes": len(data), "filename": "big.jsonl", "mime_type": "text/jsonl",
        "purpose": "fine-tune"}).json()
    part = azure.dated.post(f"/uploads/{upload['id']}/parts",
                            files={"data": ("part", data)}).json()
    done = azure.dated.post(f"/uploads/{upload['id']}/complete",
                            json={"part_ids": [part["id"]]}).json()
    assert done["status"] == "completed" and done["file"]["status"] == "pending"
    azure.clock.advance(60)
    assert azure.dated.get(f"/files/{done['file']['id']}").json()["status"] == "processed"
    assert azure.v1.post("/uploads", json={}).status_code == 404  # no uploads on v1
