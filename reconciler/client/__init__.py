"""The remote client: connect() turns settings and the environment into a RemoteApi.

Secrets come only from the environment (OPENAI_API_KEY; Azure's in client/azure_auth.py).
Azure providers (type azure, or local in the Azure dialect) get an AzureApi (client/azure.py).
For the others, precedence for the base URL: the explicit `base_url` argument (open_remote's
loopback emulator), then OPENAI_BASE_URL, then
provider.base_url in ftctl.yaml, then https://api.openai.com/v1. Organization and project:
OPENAI_ORG_ID / OPENAI_PROJECT_ID, else the settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.client.api import RemoteApi
from reconciler.client.azure import AzureApi, connect_azure
from reconciler.client.http import HttpClient
from reconciler.errors import ConfigError
from reconciler.spec import ProviderType, Settings

DEFAULT_BASE_URL = "https://api.openai.com/v1"
LOCAL_API_KEY = "sk-local"  # the embedded emulator's key; the user's real key never goes there

__all__ = ["DEFAULT_BASE_URL", "LOCAL_API_KEY", "AzureApi", "HttpClient", "RemoteApi",
           "connect"]


def connect(
    settings: Settings,
    env: Mapping[str, str],
    *,
    transport: Any = None,
    base_url: str | None = None,
    **http_options: Any,
) -> RemoteApi:
    """A RemoteApi for the project's provider. http_options go to HttpClient (sleep, ...)."""
    provider = settings.provider
    local = provider.type == ProviderType.LOCAL
    if provider.speaks_azure:
        # The local emulator (base_url given) gets its own key, never the user's secrets.
        return connect_azure(settings, env, transport=transport, endpoint=base_url,
                             local_key=LOCAL_API_KEY if local and base_url else None,
                             **http_options)
    url = base_url or env.get("OPENAI_BASE_URL") or provider.base_url
    if not url:
        if local:
            raise ConfigError(
                "provider local has no running emulator to talk to; start it with "
                "`ftctl emulator serve` and set OPENAI_BASE_URL, or run through the CLI"
            )
        url = DEFAULT_BASE_URL
    if local and base_url:
        key = LOCAL_API_KEY
    else:
        # Surrounding whitespace (a trailing newline from a secrets file) is never part of a key.
        key = env.get("OPENAI_API_KEY", "").strip() or (LOCAL_API_KEY if local else "")
    if not key:
        raise ConfigError(
            "OPENAI_API_KEY is not set; export it in the environment (it is never read from "
            "ftctl.yaml, so it cannot end up in git)"
        )
    http = HttpClient(
        url,
        key,
        organization=env.get("OPENAI_ORG_ID") or provider.organization,
        project=env.get("OPENAI_PROJECT_ID") or provider.project,
        transport=transport,
        allow_insecure_http=provider.allow_insecure_http,
        **http_options,
    )
    return RemoteApi(http)
