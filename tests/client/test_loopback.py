"""The client over real sockets: a loopback emulator that drops connections and loses
responses after committing, and a local project pointed at an already running server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler.cli.provider import emulator_db_path, open_remote
from reconciler.client.api import RemoteApi
from reconciler.client.http import HttpClient
from reconciler.emulator.server import start_in_background
from reconciler.planner.identity import META_OP, META_WORKSPACE
from reconciler.spec import ProviderSettings, ProviderType, Settings


def test_real_socket_drops_and_lost_responses_never_duplicate(
    tmp_path: Path, write_chat: Any
) -> None:
    sleeps: list[float] = []
    with start_in_background(str(tmp_path / "s.db"), api_key="sk-test", seed=5,
                             faults="reset:0.2,lost:0.2,500:0.1") as server:
        api = RemoteApi(HttpClient(server.base_url, "sk-test", sleep=sleeps.append,
                                   max_retries=12))
        data = api.upload_file(str(write_chat(tmp_path / "t.jsonl")), filename="t.jsonl")
        for i in range(6):
            api.create_job({"model": "gpt-4o-mini-2024-07-18", "training_file": data.id,
                            "metadata": {META_WORKSPACE: "ws", META_OP: f"op-{i}"}})
        api.close()
    assert sleeps  # the faults happened and were retried
    with start_in_background(str(tmp_path / "s.db"), api_key="sk-test") as clean:
        check = RemoteApi(HttpClient(clean.base_url, "sk-test"))
        ops = sorted(j.meta(META_OP) or "" for j in check.list_jobs())
        assert ops == [f"op-{i}" for i in range(6)]
        assert [f.filename for f in check.list_files()] == ["t.jsonl"]
        check.close()


def test_local_project_uses_a_running_server_from_openai_base_url(
    tmp_path: Path, emulator_server: Any
) -> None:
    settings = Settings(workspace="ws", root=str(tmp_path),
                        provider=ProviderSettings(type=ProviderType.LOCAL))
    env = {"OPENAI_BASE_URL": emulator_server.base_url, "OPENAI_API_KEY": "sk-test"}
    with open_remote(settings, env=env) as api:
        assert api.http.base_url == emulator_server.base_url
        assert api.list_models()
    assert not Path(emulator_db_path(settings)).exists()  # no in-process emulator started
