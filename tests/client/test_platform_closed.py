"""A provider that closed fine-tuning to the organization (OpenAI's wind-down), end to end.

The emulator's `closed` mode refuses job creation as the provider does; the client must say
so in one clear sentence, never retry it, and apply must exit 1 without creating anything.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.client.api import RemoteApi
from reconciler.client.http import HttpClient
from reconciler.emulator.server import start_in_background
from reconciler.errors import PlatformClosedError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_closed_platform_refuses_creates_without_retrying(
    make_emulator: Callable[..., Any], write_chat: Callable[..., Path], tmp_path: Path
) -> None:
    app, transport = make_emulator(closed=True)
    http = HttpClient("http://emulator.test/v1", "sk-test", transport=transport,
                      sleep=lambda s: None, allow_insecure_http=True)
    api = RemoteApi(http)
    upload = api.upload_file(str(write_chat(tmp_path / "train.jsonl")), filename="t.jsonl")
    before = http.request_count
    with pytest.raises(PlatformClosedError) as raised:
        api.create_job({"model": "gpt-4o-mini-2024-07-18", "training_file": upload.id})
    assert http.request_count == before + 1  # refused once, not retried
    assert "closed to this organization" in str(raised.value)
    assert api.list_jobs() == []  # reading still works; nothing was created


def test_apply_reports_a_closed_platform_and_creates_nothing(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(EXAMPLES, project, ignore=shutil.ignore_patterns(".ftctl"))
    key = "sk-closed-org"
    with start_in_background(str(tmp_path / "closed.db"), api_key=key, speed=1000,
                             closed=True) as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": key}
        result = CliRunner().invoke(
            main, ["-C", str(project), "apply", "--auto-approve", "--no-wait"], env=env
        )
        assert result.exit_code == 1, result.output
        assert "Fine-tuning job creation is closed to this organization" in result.output
        assert server.app.store.all_jobs() == []
        assert "Traceback" not in result.output and key not in result.output
