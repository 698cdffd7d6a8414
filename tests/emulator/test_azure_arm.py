"""The Azure dialect's ARM control plane for deployments (in-process, fake clock): status
codes, long-running-operation headers and polling, provisioning states on the clock, updates
that keep the old model serving until they finish, validation, auth and api-version."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.emulator.azure_support import (
    ACCOUNT,
    ACCOUNT_PATH,
    ARM_VERSION,
    BASE,
    ENDPOINT,
    RG,
    SUB,
    Azure,
)


@pytest.fixture
def azure(make_emulator, fake_clock) -> Iterator[Azure]:
    env = Azure(make_emulator, fake_clock)
    yield env
    env.close()


def _poll(azure: Azure, url: str):
    """GET an LRO URL the server handed out (absolute, with its api-version)."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == ENDPOINT
    assert parts.query == f"api-version={ARM_VERSION}"
    return azure.client(ENDPOINT, azure.arm.headers).get(parts.path + "?" + parts.query)


def test_create_moves_through_accepted_and_creating_to_succeeded(azure, chat_dataset):
    model = azure.train(chat_dataset)["fine_tuned_model"]
    created = azure.put_deployment("support-bot", model, sku="GlobalStandard", capacity=2)
    assert created.status_code == 201
    body = created.json()
    assert body == {
        "id": f"{ACCOUNT_PATH}/deployments/support-bot",
        "name": "support-bot", "type": "Microsoft.CognitiveServices/accounts/deployments",
        "sku": {"name": "GlobalStandard", "capacity": 2},
        "properties": {"model": {"format": "OpenAI", "name": model, "version": "1"},
                       "provisioningState": "Accepted", "versionUpgradeOption": "NoAutoUpgrade",
                       "capabilities": {"chatCompletion": "true"}},
        "systemData": body["systemData"],
    }
    operation = created.headers["Azure-AsyncOperation"]
    assert "Location" not in created.headers and created.headers["Retry-After"] == "1"
    assert _poll(azure, operation).json()["status"] == "InProgress"
    seen = []
    for _ in range(80):
        state = azure.arm.get("/deployments/support-bot").json()["properties"]["provisioningState"]
        if not seen or seen[-1] != state:
            seen.append(state)
        azure.clock.advance(1)
    assert seen == ["Accepted", "Creating", "Succeeded"]
    status = _poll(azure, operation).json()
    assert status["status"] == "Succeeded" and status["endTime"] >= status["startTime"]
    assert status["id"].endswith("/operationStatuses/" + status["name"])
    listed = azure.arm.get("/deployments").json()
    assert [d["name"] for d in listed["value"]] == ["support-bot"]


def test_unchanged_put_is_200_succeeded_and_a_change_keeps_the_old_model_serving(
        azure, chat_dataset, tmp_path):
    first = azure.train(chat_dataset)["fine_tuned_model"]
    azure.deploy("bot", first)
    again = azure.put_deployment("bot", first)
    assert again.status_code == 200 and "Azure-AsyncOperation" not in again.headers
    assert again.json()["properties"]["provisioningState"] == "Succeeded"
    second = azure.train(chat_dataset, suffix="v2")["fine_tuned_model"]
    changed = azure.put_deployment("bot", second, capacity=3)
    assert changed.status_code == 200 and "Azure-AsyncOperation" in changed.headers
    assert changed.json()["properties"]["provisioningState"] == "Accepted"
    assert azure.chat("bot").json()["model"] == first  # the old version answers meanwhile
    busy = azure.put_deployment("bot", first)
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "RequestConflict"
    azure.clock.advance(120)
    assert azure.chat("bot").json()["model"] == second
    got = azure.arm.get("/deployments/bot").json()
    assert got["sku"] == {"name": "Standard", "capacity": 3}
    assert got["systemData"]["createdAt"] < got["systemData"]["lastModifiedAt"]


def test_delete_is_202_with_lro_headers_then_204_once_gone(azure, chat_dataset):
    model = azure.train(chat_dataset)["fine_tuned_model"]
    azure.deploy("bot", model)
    deleted = azure.arm.delete("/deployments/bot")
    assert deleted.status_code == 202 and deleted.content == b""
    assert deleted.headers["Retry-After"] == "1"
    assert azure.arm.get("/deployments/bot").json()["properties"]["provisioningState"] == \
        "Deleting"
    assert azure.chat("bot").status_code == 404
    result = _poll(azure, deleted.headers["Location"])
    assert result.status_code == 202 and result.headers["Location"]
    assert _poll(azure, deleted.headers["Azure-AsyncOperation"]).json()["status"] == "InProgress"
    azure.clock.advance(30)
    assert _poll(azure, deleted.headers["Location"]).status_code == 204
    assert _poll(azure, deleted.headers["Azure-AsyncOperation"]).json()["status"] == "Succeeded"
    missing = azure.arm.get("/deployments/bot")
    assert missing.status_code == 404
    assert missing.json() == {"error": {
        "code": "DeploymentNotFound",
        "message": f"Deployment 'bot' was not found under account '{ACCOUNT}'.",
        "details": [], "additionalInfo": []}}
    assert azure.arm.delete("/deployments/bot").status_code == 204
    assert azure.arm.get("/deployments").json() == {"value": []}


def test_base_models_and_checkpoints_can_be_deployed(azure, chat_dataset):
    job = azure.train(chat_dataset)
    r = azure.arm.put("/deployments/plain", json={
        "sku": {"name": "standard", "capacity": 1},
        "properties": {"model": {"format": "OpenAI", "name": "gpt-4o-mini",
                                 "version": "2024-07-18"}}})
    assert r.status_code == 201 and r.json()["sku"]["name"] == "Standard"
    checkpoints = azure.v1.get(f"/fine_tuning/jobs/{job['id']}/checkpoints").json()["data"]
    by_id = azure.deploy("by-id", checkpoints[-1]["id"])
    assert by_id["properties"]["model"]["name"].startswith("ftchkpt-")
    azure.deploy("by-name", checkpoints[-1]["fine_tuned_model_checkpoint"])
    assert azure.chat("by-id").json()["choices"][0]["message"]["content"] == \
        "Order 3 ships today; tracking follows."


@pytest.mark.parametrize(("body", "code", "target"), [
    ({"properties": {"model": {"format": "OpenAI", "name": BASE}}}, "InvalidResourceProperties",
     "sku"),
    ({"sku": {"name": "Premium", "capacity": 1},
      "properties": {"model": {"format": "OpenAI", "name": BASE}}},
     "InvalidResourceProperties", "sku.name"),
    ({"sku": {"name": "Standard", "capacity": 0},
      "properties": {"model": {"format": "OpenAI", "name": BASE}}}, "InvalidCapacity",
     "sku.capacity"),
    ({"sku": {"name": "Standard", "capacity": 1}}, "InvalidResourceProperties",
     "properties.model"),
    ({"sku": {"name": "Standard", "capacity": 1},
      "properties": {"model": {"format": "OpenAI", "name": "gpt-4o-mini.ft-0000"}}},
     "DeploymentModelNotSupported", "properties.model.name"),
])
def test_invalid_deployments_are_refused_with_arm_errors(azure, body, code, target):
    r = azure.arm.put("/deployments/bad", json=body)
    assert r.status_code == 400
    error = r.json()["error"]
    assert (error["code"], error["target"]) == (code, target)
    assert error["details"] == [] and error["additionalInfo"] == [] and error["message"]
    assert azure.arm.get("/deployments").json() == {"value": []}


def test_arm_requires_the_bearer_token_and_an_api_version(azure):
    base = f"{ENDPOINT}{ACCOUNT_PATH}/deployments"
    bare = azure.client(ENDPOINT, {})
    missing = bare.get(base, params={"api-version": ARM_VERSION})
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "AuthenticationFailed"
    keyed = azure.client(ENDPOINT, {"api-key": "sk-test"}).get(
        base, params={"api-version": ARM_VERSION})
    assert keyed.status_code == 401  # an API key is not enough for the control plane
    wrong = azure.client(ENDPOINT, {"Authorization": "Bearer nope"}).get(
        base, params={"api-version": ARM_VERSION})
    assert wrong.json()["error"]["code"] == "InvalidAuthenticationToken"
    token = azure.client(ENDPOINT, azure.arm.headers)
    no_version = token.get(base)
    assert no_version.status_code == 400
    assert no_version.json()["error"]["code"] == "MissingApiVersionParameter"
    old = token.get(base, params={"api-version": "2021-01-01"})
    assert old.json()["error"]["code"] == "InvalidApiVersionParameter"
    assert old.headers["x-ms-request-id"] == old.headers["x-ms-correlation-request-id"]


def test_a_pinned_resource_answers_only_for_its_own_names(make_emulator, fake_clock):
    env = Azure(make_emulator, fake_clock, subscription=SUB, resource_group=RG,
                account=ACCOUNT)
    assert env.arm.get("/deployments").status_code == 200
    other = ACCOUNT_PATH.replace(f"/accounts/{ACCOUNT}", "/accounts/elsewhere")
    r = env.client(ENDPOINT, env.arm.headers).get(
        other + "/deployments", params={"api-version": ARM_VERSION})
    assert r.status_code == 404 and r.json()["error"]["code"] == "ResourceNotFound"
    env.close()


def test_a_put_retried_after_a_lost_answer_joins_the_operation(make_emulator, fake_clock):
    lossy = Azure(make_emulator, fake_clock, faults="lost:1.0", seed=1)
    with pytest.raises(httpx.RemoteProtocolError):
        lossy.put_deployment("bot", BASE)  # the deployment was created, the answer lost
    lossy.close()
    env = Azure(make_emulator, fake_clock)
    retried = env.put_deployment("bot", BASE)
    assert retried.status_code == 200
    assert retried.json()["properties"]["provisioningState"] == "Accepted"
    operation = _poll(env, retried.headers["Azure-AsyncOperation"]).json()
    assert operation["status"] == "InProgress"
    assert operation["startTime"] == retried.json()["systemData"]["createdAt"]
    env.clock.advance(60)
    assert _poll(env, retried.headers["Azure-AsyncOperation"]).json()["status"] == "Succeeded"
    env.close()


def test_deployments_are_stored_in_a_stable_shape_and_survive_a_restart(
        make_emulator, fake_clock, tmp_path):
    first = Azure(make_emulator, fake_clock)
    first.deploy("plain", BASE, sku="developertier")
    first.app.close()
    with sqlite3.connect(tmp_path / "emulator.db") as db:
        row = db.execute("SELECT name, doc, created_at, changed_at, last_used_at,"
                         " previous_model, deleting_at FROM deployments").fetchone()
    start = fake_clock.now()
    assert row == ("plain", json.dumps({
        "sku": {"name": "DeveloperTier", "capacity": 1},
        "model": {"format": "OpenAI", "name": BASE, "version": "1"},
        "serving": BASE, "fine_tuned": False}), start - 120, start - 120, None, None, None)
    second = Azure(make_emulator, fake_clock)
    got = second.arm.get("/deployments/plain").json()
    assert got["properties"]["provisioningState"] == "Succeeded"
    assert second.chat("plain").status_code == 200
    second.close()
