"""Fixtures for Azure deployments end to end: a standalone Azure-dialect emulator on a loopback
port (data plane and ARM on one server, as `ftctl emulator serve --dialect azure` runs it), a
real project directory reaching it as `provider: {type: azure}` with the key and ARM token from
the environment, the real CLI, and a plain ARM client to look at (and tamper with) the
deployments as a person with the Azure CLI would."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.emulator.azure_settings import AzureSettings
from reconciler.emulator.server import RunningServer, start_in_background
from tests.apply.conftest import chat_lines

KEY = "azure-key-canary-0d9e2b"
TOKEN = "arm-token-canary-6c1f4a"
SUB, RG, ACCOUNT = "sub-1", "rg-1", "acct-1"
WORKSPACE = "ws-azure"
ENV = {"OPENAI_BASE_URL": "", "OPENAI_API_KEY": "", "AZURE_OPENAI_API_KEY": KEY,
       "AZURE_ACCESS_TOKEN": TOKEN, "CI": "1"}
BASE = "gpt-4o-mini-2024-07-18"
CHECK_PROMPT = "alpha question 3"


def serve(path: Path, *, keep_metadata: bool = True) -> RunningServer:
    return start_in_background(
        str(path), api_key=KEY, speed=5000.0, dialect="azure",
        azure=AzureSettings(access_token=TOKEN, keep_metadata=keep_metadata, subscription=SUB,
                            resource_group=RG, account=ACCOUNT))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    running = serve(tmp_path / "azure.db")
    try:
        yield running
    finally:
        running.stop()


class Arm:
    """The account's deployments through ARM, over HTTP, as an operator would see them."""

    def __init__(self, endpoint: str) -> None:
        self.client = httpx.Client(
            base_url=f"{endpoint}/subscriptions/{SUB}/resourceGroups/{RG}/providers/"
                     f"Microsoft.CognitiveServices/accounts/{ACCOUNT}",
            headers={"Authorization": f"Bearer {TOKEN}"}, params={"api-version": "2024-10-01"})

    def get(self, name: str) -> dict[str, Any] | None:
        r = self.client.get(f"/deployments/{name}")
        if r.status_code == 404:
            return None
        assert r.status_code == 200, r.text
        return dict(r.json())

    def names(self) -> list[str]:
        return sorted(d["name"] for d in self.client.get("/deployments").json()["value"])

    def model(self, name: str) -> str | None:
        found = self.get(name)
        return found["properties"]["model"]["name"] if found else None

    def put(self, name: str, model: str, sku: str = "Standard") -> None:
        r = self.client.put(f"/deployments/{name}", json={
            "sku": {"name": sku, "capacity": 1},
            "properties": {"model": {"format": "OpenAI", "name": model, "version": "1"}}})
        assert r.status_code in (200, 201), r.text
        self.wait(lambda: (self.get(name) or {}).get("properties", {})
                  .get("provisioningState") == "Succeeded")

    def delete(self, name: str) -> None:
        r = self.client.delete(f"/deployments/{name}")
        assert r.status_code in (200, 202, 204), r.text
        self.wait(lambda: self.get(name) is None)

    @staticmethod
    def wait(done: Any) -> None:
        # The emulator runs 5000 simulated seconds a real second: a minute of provisioning
        # is over in milliseconds. Bounded, so a bug fails the test instead of hanging it.
        for _ in range(200):
            if done():
                return
            time.sleep(0.01)
        raise AssertionError("the deployment did not reach the expected state")


@pytest.fixture
def arm(server: RunningServer) -> Iterator[Arm]:
    found = Arm(server.endpoint)
    try:
        yield found
    finally:
        found.client.close()


@dataclass
class AzureProject:
    """A real project directory whose provider is the Azure emulator on loopback."""

    root: Path
    endpoint: str
    prune: bool = False
    workspace: str = WORKSPACE

    def settings(self) -> None:
        (self.root / "ftctl.yaml").write_text(
            f"apiVersion: ftctl/v1\nkind: Project\nworkspace: {self.workspace}\n"
            f"provider:\n  type: azure\n  endpoint: {self.endpoint}\n  subscription_id: {SUB}\n"
            f"  resource_group: {RG}\n  account: {ACCOUNT}\n"
            f"  management_endpoint: {self.endpoint}\n"
            f"prune: {'true' if self.prune else 'false'}\n")

    def data(self, topic: str) -> str:
        path = self.root / "data" / f"{topic}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(chat_lines(topic))
        return f"../data/{topic}.jsonl"

    def model(self, name: str, *, topic: str | None = None, n_epochs: int = 1,
              deployment: str | None = "", sku: str = "GlobalStandard",
              checks: tuple[tuple[str, str], ...] = (), evaluation: str | None = None,
              ) -> Path:
        """A manifest; deployment "" is named after the model, None leaves the block out."""
        lines = [
            "apiVersion: ftctl/v1", "kind: FineTunedModel", "metadata:", f"  name: {name}",
            "spec:", f"  model: {BASE}", f"  suffix: {name}",
            f"  training_file: {self.data(topic or name)}",
            "  method:", "    type: supervised", "    hyperparameters:",
            f"      n_epochs: {n_epochs}", "  seed: 7",
        ]
        for i, (prompt, expect) in enumerate(checks):
            lines += ["  checks:"] if i == 0 else []
            lines += [f"    - prompt: {json.dumps(prompt)}",
                      f"      expect_contains: {json.dumps(expect)}"]
        if evaluation is not None:  # an eval set path, relative to the manifest
            lines += ["  evaluation:", f"    dataset: {evaluation}", "    graders:",
                      "      - {name: mentions, type: contains}",
                      "    promote:", "      max_regression: {mentions: 0.1}"]
        if deployment is not None:
            lines += ["  deployment:", f"    name: {deployment or name}", f"    sku: {sku}",
                      "    capacity: 1"]
        path = self.root / "models" / f"{name}.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
        return path

    def run(self, *args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, ["-C", str(self.root), *args], env=ENV)
        assert KEY not in result.output and TOKEN not in result.output
        return result.exit_code, result.output

    def output(self) -> dict[str, Any]:
        """name -> {"model": id, "deployment": name}, from `output` and `output --deployments`."""
        models, deployments = (self._output(*flags) for flags in ((), ("--deployments",)))
        return {name: {"model": models[name], "deployment": deployments[name]}
                for name in models}

    def _output(self, *flags: str) -> dict[str, Any]:
        code, out = self.run("output", *flags)
        assert code == 0, out
        return dict(json.loads(out))


@pytest.fixture
def project(tmp_path: Path, server: RunningServer) -> AzureProject:
    root = tmp_path / "repo"
    root.mkdir()
    found = AzureProject(root, server.endpoint)
    found.settings()
    return found
