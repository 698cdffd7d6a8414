"""The Azure settings contract (`provider: {type: azure, ...}`, `dialect: azure`) and
`spec.deployment` in manifests, as the loader reads and checks them."""

from __future__ import annotations

from reconciler.loader import load_project
from reconciler.spec import (
    AzureSettings,
    Deployment,
    DeploymentSku,
    Dialect,
    ProviderType,
)
from tests.foundation.conftest import MakeProject

AZURE = """\
kind: Project
workspace: w
provider:
  type: azure
  endpoint: https://ftres.openai.azure.com
  subscription_id: 00000000-0000-0000-0000-000000000000
  resource_group: ml-models
  account: ftres
  training_type: GlobalStandard
"""

MANIFEST = """\
apiVersion: ftctl/v1
kind: FineTunedModel
metadata: {name: bot}
spec:
  model: gpt-4o-mini-2024-07-18
  training_file: ../data/train.jsonl
"""


def _located(result: object) -> list[tuple[str, str, str]]:
    return [(str(d.subject), d.severity.value, d.summary)
            for d in result.diagnostics]  # type: ignore[attr-defined]


def test_azure_settings_are_read_with_defaults(make_project: MakeProject) -> None:
    result = load_project(str(make_project({"models/bot.yaml": MANIFEST}, AZURE)))
    assert result.diagnostics == ()
    assert result.desired is not None
    provider = result.desired.settings.provider
    assert provider.type == ProviderType.AZURE and provider.speaks_azure
    assert provider.training_type == "GlobalStandard"
    assert provider.azure == AzureSettings(
        endpoint="https://ftres.openai.azure.com",
        subscription_id="00000000-0000-0000-0000-000000000000", resource_group="ml-models",
        account="ftres", management_endpoint="https://management.azure.com")


def test_azure_needs_its_keys_and_https_endpoints(make_project: MakeProject) -> None:
    settings = ("kind: Project\nworkspace: w\nprovider:\n  type: azure\n"
                "  endpoint: http://ftres.openai.azure.com\n"
                "  management_endpoint: ftp://arm\n  speed: 3\n")
    result = load_project(str(make_project({"models/bot.yaml": MANIFEST}, settings)))
    got = _located(result)
    for key in ("subscription_id", "resource_group", "account"):
        assert ("ftctl.yaml:3:1", "error", f"provider type azure needs provider.{key}") in got
    assert any(where == "ftctl.yaml:5:13" and "plain http" in text and "endpoint" in text
               for where, _, text in got)
    assert any(where == "ftctl.yaml:6:24" and "is not an http(s) URL" in text
               for where, _, text in got)
    assert ("ftctl.yaml:7:3", "warning",
            "provider.speed has no effect with provider type azure") in got


def test_loopback_endpoints_may_use_http(make_project: MakeProject) -> None:
    settings = AZURE.replace("https://ftres.openai.azure.com", "http://127.0.0.1:8000")
    settings += "  management_endpoint: http://localhost:8000\n"
    result = load_project(str(make_project({"models/bot.yaml": MANIFEST}, settings)))
    assert result.diagnostics == ()


def test_local_provider_in_the_azure_dialect(make_project: MakeProject) -> None:
    settings = ("kind: Project\nworkspace: w\nprovider:\n  type: local\n  dialect: azure\n"
                "  training_type: Developer\n  account: ftres\n")
    result = load_project(str(make_project({"models/bot.yaml": MANIFEST}, settings)))
    assert result.desired is not None
    provider = result.desired.settings.provider
    assert provider.dialect == Dialect.AZURE and provider.speaks_azure
    assert provider.training_type == "Developer"
    assert _located(result) == [
        ("ftctl.yaml:7:3", "warning", "provider.account has no effect with provider type local")]


def test_training_type_outside_azure_is_reported_unused(make_project: MakeProject) -> None:
    settings = "kind: Project\nworkspace: w\nprovider:\n  type: openai\n  training_type: Standard\n"
    result = load_project(str(make_project({"models/bot.yaml": MANIFEST}, settings)))
    assert _located(result) == [("ftctl.yaml:5:3", "warning",
                                 "provider.training_type has no effect with provider type openai")]


DEPLOYED = (MANIFEST
            + "  deployment:\n    name: bot-prod\n    sku: GlobalStandard\n    capacity: 5\n")


def test_deployment_is_read_on_azure(make_project: MakeProject) -> None:
    result = load_project(str(make_project({"models/bot.yaml": DEPLOYED}, AZURE)))
    assert result.diagnostics == ()
    assert result.desired is not None
    deployment = result.desired.manifests[0].spec.deployment
    assert deployment == Deployment(name="bot-prod", sku=DeploymentSku.GLOBAL_STANDARD,
                                    capacity=5)


def test_deployment_name_defaults_to_the_manifest_name(make_project: MakeProject) -> None:
    text = MANIFEST + "  deployment: {}\n"
    result = load_project(str(make_project({"models/bot.yaml": text}, AZURE)))
    assert result.desired is not None
    assert result.desired.manifests[0].spec.deployment == Deployment(name="bot")


def test_deployment_is_ignored_with_a_warning_without_deployments(
    make_project: MakeProject,
) -> None:
    result = load_project(str(make_project({"models/bot.yaml": DEPLOYED})))
    assert result.desired is not None and result.desired.manifests[0].spec.deployment
    assert _located(result) == [("models/bot.yaml:7:3", "warning",
                                 "spec.deployment is ignored: provider local has no deployments")]


def test_deployment_fields_are_checked_at_their_lines(make_project: MakeProject) -> None:
    text = MANIFEST + "  deployment:\n    name: -bad\n    sku: Premium\n    capacity: 0\n"
    got = _located(load_project(str(make_project({"models/bot.yaml": text}, AZURE))))
    wheres = {where for where, severity, _ in got if severity == "error"}
    assert wheres == {"models/bot.yaml:8:11", "models/bot.yaml:9:10", "models/bot.yaml:10:15"}
