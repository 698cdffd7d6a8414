"""`ftctl init --provider azure`: Azure settings with placeholders, a manifest with
spec.deployment, and the scaffold's workflow signing in to Azure with OIDC in every job that
uses the provider (checked against the CLI's real --help like the default workflow); the
default scaffold stays as it was."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from reconciler.app import init as init_app
from reconciler.app.init_azure import AZURE_IDENTITY, azure_workflow
from reconciler.cli import main
from reconciler.errors import ConfigError

WORKFLOW = ".github/workflows/ftctl.yml"
PROVIDER_JOBS = {"plan", "apply", "eval", "drift"}
NO_SECRETS = {"OPENAI_BASE_URL": "", "OPENAI_API_KEY": "", "AZURE_OPENAI_API_KEY": "",
              "AZURE_ACCESS_TOKEN": "", "CI": "1"}


def _files(provider: str) -> dict[str, str]:
    return init_app.render_files(name="faq-bot", workspace="demo", provider=provider)


def _load(text: str) -> dict[Any, Any]:
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    if True in data:  # YAML 1.1 reads the bare key `on` as True
        data["on"] = data.pop(True)
    return data


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    return _load(_files("azure")[WORKFLOW])


def test_the_same_files_with_azure_settings_and_a_deployment() -> None:
    azure, default = _files("azure"), _files("openai")
    assert set(azure) == set(default)  # no `.azure.` template leaks into either scaffold
    assert azure["data/faq-bot/train.jsonl"] == default["data/faq-bot/train.jsonl"]
    settings = yaml.safe_load(azure["ftctl.yaml"])
    assert settings["workspace"] == "demo"
    assert settings["provider"] == {
        "type": "azure", "endpoint": "https://RESOURCE.openai.azure.com",
        "subscription_id": "00000000-0000-0000-0000-000000000000",
        "resource_group": "RESOURCE-GROUP", "account": "RESOURCE"}
    assert settings["prices"][0]["hosting_per_hour"] > 0
    spec = yaml.safe_load(azure["models/faq-bot.yaml"])["spec"]
    assert spec["deployment"] == {"name": "faq-bot", "sku": "GlobalStandard", "capacity": 1}
    assert "checks" not in spec  # a model answers only through a deployment on Azure
    assert yaml.safe_load(default["ftctl.yaml"])["provider"] == {"type": "local"}
    assert "deployment" not in yaml.safe_load(default["models/faq-bot.yaml"])["spec"]


def test_every_job_that_uses_the_provider_signs_in_with_oidc(workflow: dict[Any, Any]) -> None:
    assert workflow["permissions"] == {}
    for job_id, job in workflow["jobs"].items():
        steps = job["steps"]
        logins = [s for s in steps if s.get("uses", "").startswith("azure/login@")]
        keys = [s["env"] for s in steps if "AZURE_OPENAI_API_KEY" in s.get("env", {})]
        if job_id not in PROVIDER_JOBS:
            assert not logins and not keys and "id-token" not in job["permissions"], job_id
            continue
        assert job["permissions"]["id-token"] == "write", job_id
        [login] = logins
        assert login["uses"] == "azure/login@v2"
        assert login["with"] == {"client-id": "${{ vars.AZURE_CLIENT_ID }}",
                                 "tenant-id": "${{ vars.AZURE_TENANT_ID }}",
                                 "subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}"}
        names = [s.get("name", s.get("uses")) for s in steps]
        assert names.index("Install ftctl") < names.index("Sign in to Azure (OIDC)")
        installs = " ".join(s.get("run", "") for s in steps)
        assert f'pip install "{AZURE_IDENTITY}"' in installs  # DefaultAzureCredential
        assert keys and all(env["AZURE_OPENAI_API_KEY"] ==
                            "${{ secrets.AZURE_OPENAI_API_KEY }}" for env in keys), job_id
        first_ftctl = next(i for i, s in enumerate(steps) if "ftctl " in s.get("run", "")
                           and "pip install" not in s["run"] and "validate" not in s["run"])
        assert names.index("Sign in to Azure (OIDC)") < first_ftctl, job_id


def test_no_openai_key_and_no_secret_in_the_azure_workflow(workflow: dict[Any, Any]) -> None:
    text = _files("azure")[WORKFLOW]
    assert re.search(r"(?<!AZURE_)OPENAI_API_KEY", text) is None
    assert "sk-" not in text and "AZURE_ACCESS_TOKEN" not in text
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            assert "OPENAI_API_KEY" not in step.get("env", {})
            for value in step.get("with", {}).values():
                assert not isinstance(value, str) or "${{ secrets." not in value


def test_the_azure_workflow_calls_only_existing_commands_and_flags(
    workflow: dict[Any, Any], cli_surface: Any, invocations: Any,
) -> None:
    scripts = [s["run"] for job in workflow["jobs"].values() for s in job["steps"] if "run" in s]
    calls = [argv for script in scripts for argv in invocations(script)]
    assert len(calls) >= 6
    problems = {" ".join(argv): cli_surface.problems(argv) for argv in calls}
    assert {k: v for k, v in problems.items() if v} == {}


def test_a_template_without_the_anchors_is_refused_not_half_converted() -> None:
    text = _files("openai")[WORKFLOW]
    with pytest.raises(ValueError, match="Install ftctl"):
        azure_workflow(text.replace("- name: Install ftctl", "- name: Set up"))
    with pytest.raises(ValueError, match="Secrets"):
        azure_workflow(text.replace("# Secrets:", "# Keys:"))


def test_an_unknown_provider_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="openai, azure"):
        init_app.scaffold(str(tmp_path / "p"), provider="bedrock")
    assert not (tmp_path / "p").exists()
    result = CliRunner().invoke(main, ["init", str(tmp_path / "q"), "--provider", "bedrock"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert not (tmp_path / "q").exists()


def test_cli_init_azure_validates_and_trains_offline_on_the_azure_dialect(
    tmp_path: Path,
) -> None:
    root = tmp_path / "models-repo"
    result = CliRunner().invoke(main, ["init", str(root), "--provider", "azure"],
                                env=NO_SECRETS)
    assert result.exit_code == 0, result.output
    assert "RESOURCE placeholders" in result.output and "AZURE_CLIENT_ID" in result.output
    assert "OPENAI_API_KEY to the repository" not in result.output
    ran = CliRunner().invoke(main, ["-C", str(root), "validate"], env=NO_SECRETS)
    assert ran.exit_code == 0 and "0 warning(s)" in ran.output, ran.output
    # The rehearsal the scaffold's comment suggests: the same project on the local dialect.
    settings = root / "ftctl.yaml"
    data = yaml.safe_load(settings.read_text("utf-8"))
    data["provider"] = {"type": "local", "dialect": "azure", "speed": 5000}
    settings.write_text(yaml.safe_dump(data), "utf-8")
    ran = CliRunner().invoke(main, ["-C", str(root), "apply", "--auto-approve"], env=NO_SECRETS)
    assert ran.exit_code == 0 and "done: create support-bot (version 1)" in ran.output, ran.output
    ran = CliRunner().invoke(main, ["-C", str(root), "plan"], env=NO_SECRETS)
    assert ran.exit_code == 0 and "No changes" in ran.output, ran.output
