"""The official `openai` SDK drives the Azure dialect on a loopback port, both as the plain
`OpenAI` client on `/openai/v1` and as `AzureOpenAI` (dated API, deployment paths), through a
full session: upload, job, succeeded, ARM deployment (httpx), chat through the deployment,
deployment deleted, job deleted. Also `ftctl emulator serve --dialect azure`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import openai
import pytest

from reconciler.emulator.azure_settings import AzureSettings
from reconciler.emulator.server import RunningServer, start_in_background
from tests.emulator.azure_support import ACCOUNT_PATH, ARM_VERSION, BASE, DATED_VERSION, TOKEN

KEY = "azure-test-key"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    with start_in_background(str(tmp_path / "azure.db"), api_key=KEY, speed=1000.0,
                             dialect="azure",
                             azure=AzureSettings(access_token=TOKEN)) as running:
        yield running


def until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def deploy(endpoint: str, name: str, model: str) -> None:
    """Create a deployment through ARM and poll its Azure-AsyncOperation to Succeeded."""
    with httpx.Client(base_url=endpoint, headers={"Authorization": f"Bearer {TOKEN}"},
                      params={"api-version": ARM_VERSION}) as arm:
        r = arm.put(f"{ACCOUNT_PATH}/deployments/{name}", json={
            "sku": {"name": "GlobalStandard", "capacity": 1},
            "properties": {"model": {"format": "OpenAI", "name": model, "version": "1"}}})
        assert r.status_code == 201, r.text
        operation = r.headers["Azure-AsyncOperation"]
        until(lambda: arm.get(operation).json()["status"] == "Succeeded")
        got = arm.get(f"{ACCOUNT_PATH}/deployments/{name}").json()
        assert got["properties"]["provisioningState"] == "Succeeded"


def undeploy(endpoint: str, name: str) -> None:
    with httpx.Client(base_url=endpoint, headers={"Authorization": f"Bearer {TOKEN}"},
                      params={"api-version": ARM_VERSION}) as arm:
        r = arm.delete(f"{ACCOUNT_PATH}/deployments/{name}")
        assert r.status_code == 202
        result = r.headers["Location"]
        until(lambda: arm.get(result).status_code == 204)
        assert arm.get(f"{ACCOUNT_PATH}/deployments/{name}").status_code == 404


def train(client: openai.OpenAI, dataset: Path) -> openai.types.fine_tuning.FineTuningJob:
    with dataset.open("rb") as fh:
        uploaded = client.files.create(file=fh, purpose="fine-tune")
    processed = client.files.wait_for_processing(uploaded.id, poll_interval=0.01)
    assert processed.status == "processed"
    job = client.fine_tuning.jobs.create(model=BASE, training_file=uploaded.id,
                                         metadata={"ftctl-workspace": "sdk"},
                                         extra_body={"trainingType": "GlobalStandard"})
    until(lambda: client.fine_tuning.jobs.retrieve(job.id).status == "succeeded")
    return client.fine_tuning.jobs.retrieve(job.id)


def test_a_full_session_with_the_v1_openai_client(server, chat_dataset):
    client = openai.OpenAI(base_url=server.endpoint + "/openai/v1", api_key=KEY, max_retries=0)
    job = train(client, chat_dataset)
    assert job.fine_tuned_model and job.fine_tuned_model.startswith(BASE + ".ft-")
    assert job.metadata == {"ftctl-workspace": "sdk"}
    assert (job.model_extra or {})["trainingType"] == "GlobalStandard"
    assert client.fine_tuning.jobs.list_events(job.id).data[0].message == \
        "The job has successfully completed"
    with pytest.raises(openai.NotFoundError) as by_model:
        client.chat.completions.create(model=job.fine_tuned_model,
                                       messages=[{"role": "user", "content": "hi"}])
    assert by_model.value.code == "DeploymentNotFound"
    deploy(server.endpoint, "support-bot", job.fine_tuned_model)
    reply = client.chat.completions.create(
        model="support-bot", messages=[{"role": "user", "content": "Where is order number 4?"}])
    assert reply.choices[0].message.content == "Order 4 ships today; tracking follows."
    undeploy(server.endpoint, "support-bot")
    dated = httpx.delete(f"{server.endpoint}/openai/fine_tuning/jobs/{job.id}",
                         params={"api-version": DATED_VERSION}, headers={"api-key": KEY})
    assert dated.status_code == 204
    with pytest.raises(openai.NotFoundError):
        client.fine_tuning.jobs.retrieve(job.id)


def test_a_full_session_with_the_azure_openai_client(server, chat_dataset):
    client = openai.AzureOpenAI(azure_endpoint=server.endpoint, api_key=KEY,
                                api_version=DATED_VERSION, max_retries=0)
    job = train(client, chat_dataset)
    assert client.fine_tuning.jobs.list().data[0].id == job.id
    assert client.models.retrieve(job.fine_tuned_model or "").id == job.fine_tuned_model
    deploy(server.endpoint, "azure-bot", job.fine_tuned_model or "")
    reply = client.chat.completions.create(  # sent to /openai/deployments/azure-bot/...
        model="azure-bot", messages=[{"role": "user", "content": "order number 9, where?"}])
    assert reply.choices[0].message.content == "Order 9 ships today; tracking follows."
    undeploy(server.endpoint, "azure-bot")
    with pytest.raises(openai.NotFoundError) as gone:
        client.chat.completions.create(model="azure-bot",
                                       messages=[{"role": "user", "content": "hi"}])
    assert gone.value.code == "DeploymentNotFound"
    deleted = client.delete(f"/fine_tuning/jobs/{job.id}", cast_to=httpx.Response)
    assert deleted.status_code == 204
    assert client.fine_tuning.jobs.list().data == []
    with pytest.raises(openai.AuthenticationError):
        openai.AzureOpenAI(azure_endpoint=server.endpoint, api_key="wrong",
                           api_version=DATED_VERSION, max_retries=0).models.list()


def test_the_sdk_retries_through_injected_faults(tmp_path, chat_dataset):
    with start_in_background(str(tmp_path / "f.db"), api_key=KEY, speed=1000.0, seed=5,
                             faults="429:0.2,503:0.1,reset:0.1", retry_after=0.01,
                             dialect="azure") as server:
        client = openai.OpenAI(base_url=server.endpoint + "/openai/v1", api_key=KEY,
                               max_retries=10)
        with chat_dataset.open("rb") as fh:
            uploaded = client.files.create(file=fh, purpose="fine-tune")
        assert client.files.wait_for_processing(uploaded.id, poll_interval=0.01).status == \
            "processed"
        assert {m.id for m in client.models.list()} >= {BASE}


def test_ftctl_emulator_serve_dialect_azure(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "-C", str(tmp_path), "emulator", "serve",
         "--port", "0", "--dialect", "azure", "--api-key", KEY, "--access-token", TOKEN,
         "--no-metadata", "--speed", "1000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:") and not line.endswith("/v1")
        endpoint = line.removeprefix("listening on ")
        models = httpx.get(endpoint + "/openai/v1/models", headers={"api-key": KEY})
        assert models.status_code == 200 and models.headers["apim-request-id"]
        arm = httpx.get(f"{endpoint}{ACCOUNT_PATH}/deployments",
                        params={"api-version": ARM_VERSION},
                        headers={"Authorization": f"Bearer {TOKEN}"})
        assert arm.json() == {"value": []}
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err


def test_no_metadata_needs_the_azure_dialect(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "-C", str(tmp_path), "emulator", "serve",
         "--port", "0", "--no-metadata"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip() == "Error: --no-metadata needs --dialect azure."
    assert "Traceback" not in done.stderr
