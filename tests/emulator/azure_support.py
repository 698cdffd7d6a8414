"""Helpers for the Azure dialect's tests: an in-process Azure emulator with its three clients
(v1 data plane, dated data plane, ARM), and the steps most tests need (upload and wait for
`processed`, train to `succeeded`, deploy to `Succeeded`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from reconciler.emulator import EmulatorApp
from reconciler.emulator.azure_settings import AzureSettings
from tests.conftest import EMULATOR_KEY, FakeClock

ENDPOINT = "http://emulator.test"
TOKEN = "arm-test-token"
BASE = "gpt-4o-mini-2024-07-18"
SUB, RG, ACCOUNT = "00000000-0000-0000-0000-000000000000", "ml-models", "ftres"
ACCOUNT_PATH = (f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/"
                f"Microsoft.CognitiveServices/accounts/{ACCOUNT}")
ARM_VERSION = "2024-10-01"
DATED_VERSION = "2024-10-21"


class Azure:
    """An Azure-dialect emulator on a WSGI transport, on the test's fake clock."""

    def __init__(self, make_emulator: Callable[..., tuple[EmulatorApp, httpx.BaseTransport]],
                 clock: FakeClock, **settings: Any) -> None:
        settings.setdefault("access_token", TOKEN)
        extra = {k: settings.pop(k) for k in ("faults", "seed", "speed", "db_path")
                 if k in settings}
        self.app, self.transport = make_emulator(dialect="azure", azure=AzureSettings(**settings),
                                                 **extra)
        self.clock = clock
        key = {"api-key": EMULATOR_KEY}
        self.v1 = self.client(ENDPOINT + "/openai/v1", key)
        self.dated = self.client(ENDPOINT + "/openai", key, {"api-version": DATED_VERSION})
        self.arm = self.client(ENDPOINT + ACCOUNT_PATH, {"Authorization": f"Bearer {TOKEN}"},
                               {"api-version": ARM_VERSION})

    def client(self, base_url: str, headers: dict[str, str],
               params: dict[str, str] | None = None) -> httpx.Client:
        return httpx.Client(transport=self.transport, base_url=base_url, headers=headers,
                            params=params)

    def upload(self, path: Path, *, processed: bool = True) -> str:
        with path.open("rb") as fh:
            r = self.v1.post("/files", files={"file": (path.name, fh)},
                             data={"purpose": "fine-tune"})
        assert r.status_code == 200, r.text
        if processed:
            self.clock.advance(60)
            assert self.v1.get(f"/files/{r.json()['id']}").json()["status"] == "processed"
        return str(r.json()["id"])

    def create_job(self, file_id: str, **extra: Any) -> dict[str, Any]:
        r = self.v1.post("/fine_tuning/jobs",
                         json={"model": BASE, "training_file": file_id, **extra})
        assert r.status_code == 200, r.text
        return dict(r.json())

    def train(self, dataset: Path, **extra: Any) -> dict[str, Any]:
        """A succeeded job trained on `dataset`."""
        job = self.create_job(self.upload(dataset), **extra)
        self.clock.advance(10_000)
        done = self.v1.get(f"/fine_tuning/jobs/{job['id']}").json()
        assert done["status"] == "succeeded", done
        return dict(done)

    def put_deployment(self, name: str, model: str, sku: str = "Standard",
                       capacity: int = 1) -> httpx.Response:
        return self.arm.put(f"/deployments/{name}", json={
            "sku": {"name": sku, "capacity": capacity},
            "properties": {"model": {"format": "OpenAI", "name": model, "version": "1"}}})

    def deploy(self, name: str, model: str, sku: str = "Standard") -> dict[str, Any]:
        """A deployment of `model`, provisioned to Succeeded."""
        r = self.put_deployment(name, model, sku)
        assert r.status_code in (200, 201), r.text
        self.clock.advance(120)
        got = self.arm.get(f"/deployments/{name}").json()
        assert got["properties"]["provisioningState"] == "Succeeded", got
        return dict(got)

    def chat(self, deployment: str, text: str = "Where is my order number 3?") -> httpx.Response:
        return self.v1.post("/chat/completions", json={
            "model": deployment, "messages": [{"role": "user", "content": text}]})

    def close(self) -> None:
        for client in (self.v1, self.dated, self.arm):
            client.close()
