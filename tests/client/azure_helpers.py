"""An AzureApi wired to the in-process Azure-dialect emulator (tests/emulator/azure_support),
through the real connect path: settings, environment credentials, HttpClient, WSGI transport.
Waiting sleeps on the test's fake clock, so polling moves the emulator's time."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from reconciler.client.azure import AzureApi, connect_azure
from reconciler.spec import AzureSettings, ProviderSettings, ProviderType, Settings
from tests.conftest import EMULATOR_KEY
from tests.emulator.azure_support import ACCOUNT, ENDPOINT, RG, SUB, TOKEN, Azure

ENV = {"AZURE_OPENAI_API_KEY": EMULATOR_KEY, "AZURE_ACCESS_TOKEN": TOKEN}


def settings(root: Path, workspace: str = "ws", training_type: str | None = None) -> Settings:
    resource = AzureSettings(endpoint=ENDPOINT, subscription_id=SUB, resource_group=RG,
                             account=ACCOUNT, management_endpoint=ENDPOINT)
    provider = ProviderSettings(type=ProviderType.AZURE, azure=resource,
                                allow_insecure_http=True, training_type=training_type)
    return Settings(workspace=workspace, root=str(root), provider=provider)


def azure_api(azure: Azure, root: Path, *, env: Mapping[str, str] = ENV,
              credential: Callable[[], Any] | None = None, **options: Any) -> AzureApi:
    extra = {"credential": credential} if credential is not None else {}
    return connect_azure(settings(root, **options), env, transport=azure.transport,
                         sleep=azure.clock.advance, **extra)


def chat_file(path: Path, n: int = 12) -> str:
    lines = [json.dumps({"messages": [{"role": "user", "content": f"Where is order {i}?"},
                                      {"role": "assistant", "content": "It ships today."}]})
             for i in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return os.fspath(path)
