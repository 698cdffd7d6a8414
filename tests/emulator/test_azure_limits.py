"""The Azure dialect's per-resource limits and Azure's own removal of deployments, on the
emulator's clock (in-process, fake clock): each limit refused with Azure's error shape and
nothing stored; idle fine-tuned deployments gone after 15 days, DeveloperTier after 24 hours."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconciler.emulator.azure_settings import AzureLimits
from tests.conftest import write_chat_dataset
from tests.emulator.azure_support import BASE, Azure

DAY = 24 * 3600


@pytest.fixture
def azure(make_emulator, fake_clock) -> Iterator[Azure]:
    env = Azure(make_emulator, fake_clock, limits=AzureLimits(
        fine_tuned_deployments=2, files=3, file_bytes=10_000, training_jobs=2))
    yield env
    env.close()


def test_fine_tuned_deployments_are_limited_per_resource(azure, chat_dataset):
    model = azure.train(chat_dataset)["fine_tuned_model"]
    azure.deploy("one", model)
    azure.deploy("two", model)
    refused = azure.put_deployment("three", model)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "QuotaExceeded"
    assert "maximum of 2" in refused.json()["error"]["message"]
    assert azure.arm.get("/deployments/three").status_code == 404
    assert azure.deploy("base", BASE)  # base-model deployments do not count
    assert azure.put_deployment("one", model, capacity=2).status_code == 200  # updating does
    azure.arm.delete("/deployments/two")
    azure.clock.advance(60)
    assert azure.put_deployment("three", model).status_code == 201


def test_files_are_limited_in_number(azure, tmp_path):
    ids = [azure.upload(write_chat_dataset(tmp_path / f"d{n}.jsonl", 3), processed=False)
           for n in range(3)]
    with (tmp_path / "d0.jsonl").open("rb") as fh:
        r = azure.v1.post("/files", files={"file": ("more.jsonl", fh)},
                          data={"purpose": "fine-tune"})
    assert r.status_code == 400
    assert r.json()["error"] == {
        "code": "quotaExceeded", "param": "file", "type": "error",
        "message": "The resource already holds 3 fine-tuning files, the maximum; delete "
                   "files that are no longer needed."}
    assert [f["id"] for f in azure.v1.get("/files").json()["data"]] == ids[::-1]
    assert azure.v1.delete(f"/files/{ids[0]}").json()["deleted"] is True
    with (tmp_path / "d0.jsonl").open("rb") as fh:
        again = azure.v1.post("/files", files={"file": ("more.jsonl", fh)},
                              data={"purpose": "fine-tune"})
    assert again.status_code == 200


def test_files_are_limited_in_total_size(azure, tmp_path):
    big = write_chat_dataset(tmp_path / "big.jsonl", 40)
    assert big.stat().st_size > 5_000
    azure.upload(big, processed=False)
    with big.open("rb") as fh:
        r = azure.dated.post("/files", files={"file": ("big2.jsonl", fh)},
                             data={"purpose": "fine-tune"})
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "quotaExceeded" and "10000-byte limit" in error["message"]
    assert set(error) == {"code", "message", "target"}  # the dated API's shape
    assert len(azure.v1.get("/files").json()["data"]) == 1
    # the refused part was discarded: only the first file's bytes are on disk
    assert len(list(tmp_path.glob("emulator.db.blobs/incoming-*"))) == 1


def test_training_jobs_are_limited_per_resource(azure, chat_dataset):
    file_id = azure.upload(chat_dataset)
    first = azure.create_job(file_id)
    azure.create_job(file_id)
    r = azure.v1.post("/fine_tuning/jobs", json={"model": BASE, "training_file": file_id})
    assert r.status_code == 400 and r.json()["error"] == {
        "code": "quotaExceeded", "param": None, "type": "error",
        "message": "The resource already has 2 training jobs, the maximum; delete jobs that "
                   "are no longer needed."}
    assert len(azure.v1.get("/fine_tuning/jobs").json()["data"]) == 2
    azure.clock.advance(10_000)  # finished jobs count until they are deleted
    assert azure.v1.post("/fine_tuning/jobs", json={
        "model": BASE, "training_file": file_id}).status_code == 400
    assert azure.dated.delete(f"/fine_tuning/jobs/{first['id']}").status_code == 204
    assert azure.create_job(file_id)["status"] == "pending"


def test_an_idle_fine_tuned_deployment_is_removed_after_15_days(azure, chat_dataset):
    model = azure.train(chat_dataset)["fine_tuned_model"]
    azure.deploy("busy", model)
    azure.deploy("idle", model)
    azure.deploy("base", BASE)
    for _ in range(4):  # inference every 10 days keeps a deployment
        azure.clock.advance(10 * DAY)
        assert azure.chat("busy").status_code == 200
    names = [d["name"] for d in azure.arm.get("/deployments").json()["value"]]
    assert names == ["busy", "base"]
    assert azure.arm.get("/deployments/idle").status_code == 404
    gone = azure.chat("idle")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "DeploymentNotFound"
    azure.clock.advance(16 * DAY)
    names = [d["name"] for d in azure.arm.get("/deployments").json()["value"]]
    assert names == ["base"]  # base models are never removed as idle
    assert azure.v1.get(f"/models/{model}").status_code == 200  # the model itself stays
    assert azure.put_deployment("idle", model).status_code == 201  # and can be redeployed


def test_the_idle_limit_is_exact(azure, chat_dataset):
    model = azure.train(chat_dataset)["fine_tuned_model"]
    azure.deploy("bot", model)
    assert azure.chat("bot").status_code == 200
    azure.clock.advance(15 * DAY - 1)
    assert azure.arm.get("/deployments/bot").status_code == 200
    azure.clock.advance(1)
    assert azure.arm.get("/deployments/bot").status_code == 404


def test_a_developer_tier_deployment_lives_24_hours_whatever_its_use(azure, chat_dataset):
    model = azure.train(chat_dataset)["fine_tuned_model"]
    azure.deploy("dev", model, sku="DeveloperTier")
    for _ in range(23):
        azure.clock.advance(3600)
        assert azure.chat("dev").status_code == 200
    azure.clock.advance(3600)
    assert azure.arm.get("/deployments/dev").status_code == 404
    assert azure.chat("dev").json()["error"]["code"] == "DeploymentNotFound"


def test_the_speed_factor_scales_lifetimes(make_emulator, fake_clock, chat_dataset):
    env = Azure(make_emulator, fake_clock, speed=3600.0)  # one real second = one hour
    file_id = env.upload(chat_dataset)
    job = env.create_job(file_id)
    env.clock.advance(10)
    model = env.v1.get(f"/fine_tuning/jobs/{job['id']}").json()["fine_tuned_model"]
    assert env.put_deployment("dev", model, sku="DeveloperTier").status_code == 201
    env.clock.advance(1)
    assert env.arm.get("/deployments/dev").json()["properties"]["provisioningState"] == \
        "Succeeded"
    env.clock.advance(23)
    assert env.arm.get("/deployments/dev").status_code == 404
    env.close()
