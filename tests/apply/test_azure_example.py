"""examples/azure end to end on a temporary copy: it validates, `apply --auto-approve` uploads
its datasets, trains on the local Azure dialect, runs the checks through a deployment and then
deploys the version that passed (ARM shows it Succeeded, serving Azure's `BASE.ft-HEX` id), and
the next `plan` says "No changes"."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.client import LOCAL_API_KEY
from reconciler.client.azure import LOCAL_ACCESS_TOKEN
from reconciler.emulator import make_app
from reconciler.emulator.azure_settings import AzureSettings

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "azure"
NO_SECRETS = {"OPENAI_BASE_URL": "", "OPENAI_API_KEY": "", "AZURE_OPENAI_API_KEY": "",
              "AZURE_ACCESS_TOKEN": "", "CI": "1"}


def _ftctl(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["-C", str(root), *args], env=NO_SECRETS)
    return result.exit_code, result.output


def test_the_azure_example_applies_then_plans_no_changes(tmp_path: Path) -> None:
    root = tmp_path / "azure"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".ftctl"))
    settings = root / "ftctl.yaml"
    text = settings.read_text(encoding="utf-8")
    assert "dialect: azure" in text
    settings.write_text(text.replace("speed: 200", "speed: 5000"), encoding="utf-8")

    code, out = _ftctl(root, "validate")
    assert code == 0 and "0 warning(s)" in out, out  # spec.deployment is not ignored here
    code, out = _ftctl(root, "apply", "--auto-approve")
    assert code == 0, out
    applied = out
    assert "done: upload data/support/train.jsonl" in out
    assert "done: upload data/support/valid.jsonl" in out
    assert "done: create support-bot (version 1)" in out and "Apply complete" in out
    assert "Checks: 2 passed, 0 failed." in out  # answered through a deployment only
    assert "done: deploy support-bot" in out
    code, out = _ftctl(root, "output", "--format", "text")
    [(name, model)] = [line.split("\t") for line in out.splitlines()]
    code, out = _ftctl(root, "output", "--format", "text", "--deployments")
    assert out.splitlines() == ["support-bot\tsupport-bot"], out
    assert model.startswith("gpt-4o-mini-2024-07-18.ft-"), out
    # The plan could only name the version trained in this apply; the done line says which.
    assert f"done: deploy support-bot -> support-bot's new version (serves {model})" in applied
    assert _deployments(root) == [("support-bot", model, "Succeeded")]
    code, out = _ftctl(root, "plan", "--detailed-exitcode")
    assert code == 0 and "No changes" in out, out


def _deployments(root: Path) -> list[tuple[str, str, str]]:
    """(name, model, provisioningState) of every deployment, read through ARM from the
    emulator state the CLI left in the project."""
    app = make_app(str(root / ".ftctl" / "emulator.db"), api_key=LOCAL_API_KEY, speed=5000,
                   dialect="azure", azure=AzureSettings(access_token=LOCAL_ACCESS_TOKEN))
    account = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/"
               "providers/Microsoft.CognitiveServices/accounts/local")
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://local.test",
                      headers={"Authorization": f"Bearer {LOCAL_ACCESS_TOKEN}"}) as arm:
        listed = arm.get(f"{account}/deployments", params={"api-version": "2024-10-01"}).json()
    return [(d["name"], d["properties"]["model"]["name"], d["properties"]["provisioningState"])
            for d in listed["value"]]
