"""`ftctl apply` against Azure OpenAI end to end, offline: the embedded emulator in the Azure
dialect (`provider: {type: local, dialect: azure}`), and a standalone Azure-dialect emulator on
loopback that drops job metadata (`--no-metadata`), reached as `provider: {type: azure}` with
the key and ARM token from the environment (the fallback identity)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.emulator.azure_settings import AzureSettings
from reconciler.emulator.server import RunningServer, start_in_background

from .conftest import WORKSPACE, Project

KEY = "azure-key-canary-7f3a9c"
TOKEN = "arm-token-canary-51e0bd"
NO_SECRETS = {"OPENAI_BASE_URL": "", "OPENAI_API_KEY": "", "AZURE_OPENAI_API_KEY": "",
              "AZURE_ACCESS_TOKEN": "", "CI": "1"}


def run(project: Project, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["-C", str(project.root), *args],
                                env={**NO_SECRETS, **(env or {})})
    return result.exit_code, result.output


def local_azure(project: Project) -> None:
    (project.root / "ftctl.yaml").write_text(
        f"apiVersion: ftctl/v1\nkind: Project\nworkspace: {WORKSPACE}\n"
        "provider:\n  type: local\n  dialect: azure\n  speed: 5000\n"
        "  training_type: GlobalStandard\n")


def test_apply_on_the_local_azure_dialect_then_no_changes(project: Project) -> None:
    local_azure(project)
    project.model("alpha")
    project.model("beta")
    code, out = run(project, "apply", "--auto-approve")
    assert code == 0, out
    assert "done: create alpha (version 1)" in out and "Apply complete" in out
    code, out = run(project, "output", "--format", "text")
    ids = dict(line.split("\t") for line in out.splitlines())
    assert sorted(ids) == ["alpha", "beta"]
    assert all(".ft-" in model for model in ids.values())  # Azure's fine-tuned model ids
    code, out = run(project, "plan")
    assert code == 0 and "No changes" in out, out
    # A changed dataset trains version 2; version 1 is retired through Azure's dated job
    # delete (Azure has no model delete), and the project converges again.
    project.data("alpha", n=14)
    code, out = run(project, "apply", "--auto-approve")
    assert code == 0, out
    assert "done: retrain alpha (version 2)" in out and "done: delete model" in out, out
    code, out = run(project, "show", "alpha")
    assert "v2  ftjob-" in out and "v1  ftjob-" not in out, out
    code, out = run(project, "output", "--format", "text")
    assert dict(line.split("\t") for line in out.splitlines())["alpha"] != ids["alpha"]
    code, out = run(project, "plan")
    assert code == 0 and "No changes" in out, out


@pytest.fixture
def no_metadata_server(tmp_path: Path) -> Iterator[RunningServer]:
    server = start_in_background(
        str(tmp_path / "azure.db"), api_key=KEY, speed=5000.0, dialect="azure",
        azure=AzureSettings(access_token=TOKEN, keep_metadata=False, subscription="sub-1",
                            resource_group="rg-1", account="acct-1"))
    try:
        yield server
    finally:
        server.stop()


def test_apply_with_the_fallback_identity_when_metadata_is_dropped(
    project: Project, no_metadata_server: RunningServer,
) -> None:
    endpoint = no_metadata_server.endpoint
    (project.root / "ftctl.yaml").write_text(
        f"apiVersion: ftctl/v1\nkind: Project\nworkspace: {WORKSPACE}\n"
        f"provider:\n  type: azure\n  endpoint: {endpoint}\n  subscription_id: sub-1\n"
        f"  resource_group: rg-1\n  account: acct-1\n  management_endpoint: {endpoint}\n")
    project.model("alpha")
    env = {"AZURE_OPENAI_API_KEY": KEY, "AZURE_ACCESS_TOKEN": TOKEN}
    code, out = run(project, "apply", "--auto-approve", env=env)
    assert code == 0, out
    assert "done: create alpha (version 1)" in out
    outputs = [out]
    for args in (("plan",), ("show", "alpha"), ("drift",)):
        code, out = run(project, *args, env=env)
        outputs.append(out)
        assert code == 0, out
    assert "No changes" in outputs[1]
    assert "v1  ftjob-" in outputs[2] and "(current)" in outputs[2]
    # The service kept no metadata: this workspace's identity records say what the job is.
    with httpx.Client(base_url=endpoint + "/openai/v1", headers={"api-key": KEY}) as v1:
        jobs = v1.get("/fine_tuning/jobs").json()["data"]
        files = v1.get("/files").json()["data"]
    assert [j["metadata"] for j in jobs] == [None]
    records = {f["filename"] for f in files if f["filename"].startswith("ftctl-identity.")}
    written = min(records, key=len)  # before the create; then the claim naming the job
    assert written.startswith(f"ftctl-identity.{WORKSPACE}.")
    assert records == {written, written.replace(".jsonl", f".{jobs[0]['id']}.jsonl")}
    for text in outputs:
        assert KEY not in text and TOKEN not in text


def test_a_workspace_leaves_other_workspaces_jobs_alone(
    project: Project, no_metadata_server: RunningServer,
) -> None:
    endpoint = no_metadata_server.endpoint
    env = {"AZURE_OPENAI_API_KEY": KEY, "AZURE_ACCESS_TOKEN": TOKEN}
    for workspace in ("team-a", "team-b"):
        (project.root / "ftctl.yaml").write_text(
            f"apiVersion: ftctl/v1\nkind: Project\nworkspace: {workspace}\n"
            f"provider:\n  type: azure\n  endpoint: {endpoint}\n  subscription_id: sub-1\n"
            f"  resource_group: rg-1\n  account: acct-1\n  management_endpoint: {endpoint}\n")
        project.model("alpha")
        code, out = run(project, "apply", "--auto-approve", env=env)
        assert code == 0, out
        # team-b's alpha is new to team-b: team-a's job is not its own.
        assert "done: create alpha (version 1)" in out
        code, out = run(project, "plan", env=env)
        assert "No changes" in out
