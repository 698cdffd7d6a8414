"""open_remote with provider local: a real emulator on a loopback port, state under .ftctl/."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli.provider import emulator_db_path, open_remote
from reconciler.emulator.server import start_in_background
from reconciler.errors import RetryableApiError
from reconciler.spec import ProviderSettings, ProviderType, Settings

SECRET = "sk-user-REAL-KEY-0000000000"


def test_local_provider_starts_a_loopback_emulator(tmp_path: Path) -> None:
    settings = Settings(workspace="ws", root=str(tmp_path),
                        provider=ProviderSettings(type=ProviderType.LOCAL))
    # The user's real key is in the environment; the emulator only accepts its own key, so
    # a successful call proves the real key was not the one sent.
    with open_remote(settings, env={"OPENAI_API_KEY": SECRET}) as api:
        assert api.http.base_url.startswith("http://127.0.0.1:")
        assert any(m.id.startswith("gpt-") for m in api.list_models())
        assert SECRET not in repr(api)
    assert Path(emulator_db_path(settings)).is_file()
    assert emulator_db_path(settings) == str(tmp_path / ".ftctl" / "emulator.db")


def test_state_survives_between_runs(tmp_path: Path) -> None:
    settings = Settings(workspace="ws", root=str(tmp_path),
                        provider=ProviderSettings(type=ProviderType.LOCAL))
    data = tmp_path / "t.jsonl"
    data.write_text('{"messages": [{"role": "user", "content": "x"}]}\n' * 10)
    with open_remote(settings, env={}) as api:
        uploaded = api.upload_file(str(data), filename="t.jsonl")
    with open_remote(settings, env={}) as api:
        assert [f.id for f in api.list_files()] == [uploaded.id]


def test_the_command_line_announces_each_retry_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(workspace="ws", root=str(tmp_path),
                        provider=ProviderSettings(type=ProviderType.LOCAL))
    with start_in_background(str(tmp_path / "faulty.db"), faults="503:1.0") as server, \
            open_remote(settings, env={"OPENAI_BASE_URL": server.base_url},
                        sleep=lambda s: None) as api, \
            pytest.raises(RetryableApiError) as info:
        api.list_models()
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" in ")[0] for line in lines] == ["retrying GET models"] * 5
    assert [line.split(" (")[1] for line in lines] == [
        f"attempt {n} of 6): HTTP 503" for n in range(2, 7)]
    assert "gave up after 6 attempts" in str(info.value)
