"""ArmClient against the emulator's ARM control plane (in-process, fake clock): a deployment
created, polled through its long-running operation to Succeeded, read, listed, changed and
deleted; errors in ARM's shape; operation URLs on another host are not followed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.client.arm import ArmClient, RemoteDeployment
from reconciler.client.http import Reply
from reconciler.errors import PermanentApiError
from tests.client.azure_helpers import azure_api, chat_file
from tests.emulator.azure_support import Azure


@pytest.fixture
def azure(make_emulator, fake_clock) -> Iterator[Azure]:  # type: ignore[no-untyped-def]
    env = Azure(make_emulator, fake_clock)
    yield env
    env.close()


@pytest.fixture
def arm(azure: Azure, tmp_path: Path) -> Iterator[ArmClient]:
    api = azure_api(azure, tmp_path)
    yield api.arm
    api.close()


def test_create_polls_to_succeeded_then_read_list_and_delete(
    azure: Azure, arm: ArmClient, tmp_path: Path,
) -> None:
    model = azure.train(_dataset(tmp_path))["fine_tuned_model"]
    before = azure.clock()
    made = arm.put_deployment("bot", model=model, sku="Standard", capacity=2)
    assert azure.clock() - before >= 60  # it waited through Accepted and Creating
    assert made == RemoteDeployment(name="bot", model=model, model_version="1", sku="Standard",
                                    capacity=2, provisioning_state="Succeeded")
    assert arm.get_deployment("bot") == made
    assert arm.list_deployments() == [made]
    assert azure.chat("bot").status_code == 200  # it serves
    # Unchanged: 200 Succeeded at once, no waiting.
    before = azure.clock()
    assert arm.put_deployment("bot", model=model, sku="Standard", capacity=2) == made
    assert azure.clock() == before
    # A change (capacity) is a new operation, followed to the end.
    changed = arm.put_deployment("bot", model=model, sku="Standard", capacity=3)
    assert changed.capacity == 3 and changed.ready
    arm.delete_deployment("bot")
    assert arm.get_deployment("bot") is None
    assert arm.list_deployments() == []
    assert azure.chat("bot").status_code == 404
    arm.delete_deployment("bot")  # 204: nothing to delete is done


def test_without_waiting_the_state_is_in_progress(azure: Azure, arm: ArmClient,
                                                  tmp_path: Path) -> None:
    model = azure.train(_dataset(tmp_path))["fine_tuned_model"]
    started = arm.put_deployment("bot", model=model, sku="GlobalStandard", capacity=1, wait=False)
    assert started.provisioning_state == "Accepted" and not started.ready


def test_arm_errors_keep_their_code_and_message(arm: ArmClient) -> None:
    with pytest.raises(PermanentApiError) as caught:
        arm.put_deployment("bot", model="no-such-model.ft-0", sku="Standard", capacity=1)
    assert (caught.value.status, caught.value.code) == (400, "DeploymentModelNotSupported"), \
        caught.value


def test_operation_urls_on_another_host_are_not_followed(arm: ArmClient) -> None:
    reply = Reply(201, {"azure-asyncoperation": "https://attacker.example/op?x=1",
                        "retry-after": "0"}, {})
    with pytest.raises(PermanentApiError, match="another host"):
        arm._follow(reply, "bot")



def _dataset(tmp_path: Path) -> Path:
    return Path(chat_file(tmp_path / "train.jsonl"))


def test_a_delete_is_followed_through_its_location_alone(azure: Azure, arm: ArmClient,
                                                         tmp_path: Path) -> None:
    model = azure.train(_dataset(tmp_path))["fine_tuned_model"]
    arm.put_deployment("bot", model=model, sku="Standard", capacity=1)
    reply = arm.http.reply("DELETE", arm._path("bot"), params={"api-version": "2024-10-01"})
    assert reply.status == 202 and "location" in reply.headers
    only_location = Reply(reply.status, {"location": reply.headers["location"]}, reply.body)
    arm._follow(only_location, "bot")
    assert arm.get_deployment("bot") is None


def test_a_put_without_operation_headers_is_followed_through_its_state(
    azure: Azure, arm: ArmClient, tmp_path: Path,
) -> None:
    model = azure.train(_dataset(tmp_path))["fine_tuned_model"]
    started = arm.put_deployment("bot", model=model, sku="Standard", capacity=1, wait=False)
    assert not started.ready
    arm._follow(Reply(201, {}, {}), "bot")
    found = arm.get_deployment("bot")
    assert found is not None and found.ready
