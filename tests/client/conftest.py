"""Fixtures for the client tests: datasets on disk and RemoteApi clients on the emulator."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from reconciler.client.api import RemoteApi
from reconciler.client.http import HttpClient

EMULATOR_URL = "http://emulator.test/v1"
ChatDataset = Callable[..., Path]
MakeApi = Callable[..., RemoteApi]


def _write_chat(path: Path, n: int = 12) -> Path:
    lines = [
        json.dumps({"messages": [{"role": "user", "content": f"question {i}"},
                                 {"role": "assistant", "content": f"answer {i}"}]})
        for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def write_chat() -> ChatDataset:
    """write_chat(path, n=12): a valid chat JSONL with n examples."""
    return _write_chat


@pytest.fixture
def make_api(emulator_transport: httpx.BaseTransport) -> MakeApi:
    """make_api(transport=None, key="sk-test", **RemoteApi options) on the in-process emulator
    (the shared emulator_transport unless another, e.g. from make_emulator, is given).

    Plain http is allowed explicitly: the WSGI transport never leaves the process.
    """

    def build(
        transport: httpx.BaseTransport | None = None, key: str = "sk-test", **options: int
    ) -> RemoteApi:
        http = HttpClient(EMULATOR_URL, key, transport=transport or emulator_transport,
                          sleep=lambda s: None, allow_insecure_http=True)
        return RemoteApi(http, **options)

    return build
