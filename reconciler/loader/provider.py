"""The `provider:` block of ftctl.yaml -> ProviderSettings, with the rules the schema cannot say.

The schema checks each key on its own; here: which keys a provider type needs (azure needs
its endpoint, subscription, resource group and account), which it ignores (a warning at the
key), and that the Azure endpoints are URLs a secret may be sent to. Problems are collected.
"""

from __future__ import annotations

from typing import Any

from reconciler.diagnostics import Diagnostic, Diagnostics, error
from reconciler.diagnostics import warning as warn
from reconciler.endpoint import base_url_problem
from reconciler.spec import (
    DEFAULT_MANAGEMENT_ENDPOINT,
    AzureSettings,
    Dialect,
    ProviderSettings,
    ProviderType,
)
from reconciler.yaml_document import Document

OPENAI_KEYS = ("base_url", "organization", "project")
AZURE_KEYS = ("endpoint", "subscription_id", "resource_group", "account", "management_endpoint")
AZURE_REQUIRED = ("endpoint", "subscription_id", "resource_group", "account")
LOCAL_KEYS = ("speed", "dialect")
AZURE_EXAMPLE_URL = "https://RESOURCE.openai.azure.com"

_WHY_UNUSED = {
    "local": "provider local always runs the built-in emulator on loopback (OPENAI_BASE_URL "
             "overrides it); set type: openai or type: azure to use this.",
    "openai": "this key belongs to another provider type (local or azure).",
    "azure": "this key belongs to another provider type (local or openai).",
}


def provider_settings(raw: dict[str, Any]) -> ProviderSettings:
    """The schema-checked `provider:` mapping as a value (the Azure part only for type azure)."""
    kind = ProviderType(raw.get("type", "local"))
    azure = None
    if kind == ProviderType.AZURE and all(k in raw for k in AZURE_REQUIRED):
        azure = AzureSettings(
            endpoint=raw["endpoint"], subscription_id=raw["subscription_id"],
            resource_group=raw["resource_group"], account=raw["account"],
            management_endpoint=raw.get("management_endpoint", DEFAULT_MANAGEMENT_ENDPOINT),
        )
    return ProviderSettings(
        type=kind,
        base_url=raw.get("base_url"),
        organization=raw.get("organization"),
        project=raw.get("project"),
        allow_insecure_http=bool(raw.get("allow_insecure_http", False)),
        speed=float(raw.get("speed", 200.0)),
        dialect=Dialect(raw.get("dialect", "openai")),
        azure=azure,
        training_type=raw.get("training_type"),
    )


def provider_diagnostics(doc: Document) -> Diagnostics:
    """Errors (missing Azure keys, unusable endpoints) and warnings (keys with no effect)."""
    data: dict[str, Any] = doc.data  # type: ignore[assignment]  # schema-checked mapping
    raw: dict[str, Any] = data.get("provider", {})
    kind = raw.get("type", "local")
    out: list[Diagnostic] = []
    if kind == "azure":
        out.extend(_azure_errors(doc, raw))
    out.extend(
        warn(f"provider.{key} has no effect with provider type {kind}", _WHY_UNUSED[kind],
             subject=doc.locate(("provider", key), prefer_key=True))
        for key in _unused_keys(raw) if key in raw
    )
    return tuple(out)


def _unused_keys(raw: dict[str, Any]) -> tuple[str, ...]:
    kind = raw.get("type", "local")
    if kind == "local":
        azure_dialect = raw.get("dialect") == "azure"
        return (*OPENAI_KEYS, *AZURE_KEYS, *(() if azure_dialect else ("training_type",)))
    if kind == "openai":
        return (*LOCAL_KEYS, *AZURE_KEYS, "training_type")
    return (*LOCAL_KEYS, *OPENAI_KEYS)


def _azure_errors(doc: Document, raw: dict[str, Any]) -> list[Diagnostic]:
    out = [
        error(f"provider type azure needs provider.{key}",
              "Azure's settings are endpoint, subscription_id, resource_group and account "
              "(see docs/azure.md).", subject=doc.locate(("provider",), prefer_key=True))
        for key in AZURE_REQUIRED if key not in raw
    ]
    insecure_ok = bool(raw.get("allow_insecure_http", False))
    for key in ("endpoint", "management_endpoint"):
        url = raw.get(key)
        problem = None if url is None else base_url_problem(
            url, allow_insecure_http=insecure_ok, what="URL", example=AZURE_EXAMPLE_URL)
        if problem is not None:
            out.append(error(f"provider.{key}: {problem}",
                             subject=doc.locate(("provider", key))))
    return out
