"""connect(): where the base URL, key, organization and project come from."""

from __future__ import annotations

import httpx
import pytest

from reconciler.client import DEFAULT_BASE_URL, LOCAL_API_KEY, connect
from reconciler.errors import ConfigError
from reconciler.spec import ProviderSettings, ProviderType, Settings

KEY = "sk-proj-VERYSECRET-abcdef123456"


def settings(**provider: object) -> Settings:
    return Settings(workspace="ws", root="/tmp/p",
                    provider=ProviderSettings(**provider))  # type: ignore[arg-type]


def capture() -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"object": "list", "data": []})

    return httpx.MockTransport(handler), seen


def test_openai_defaults_to_api_openai_com_with_env_headers() -> None:
    transport, seen = capture()
    env = {"OPENAI_API_KEY": KEY, "OPENAI_ORG_ID": "org-9", "OPENAI_PROJECT_ID": "proj_9"}
    api = connect(settings(type=ProviderType.OPENAI, organization="org-cfg"), env,
                  transport=transport)
    assert api.list_models() == []
    request = seen[0]
    assert str(request.url) == DEFAULT_BASE_URL + "/models"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["openai-organization"] == "org-9"
    assert request.headers["openai-project"] == "proj_9"
    assert KEY not in repr(api)


def test_env_base_url_overrides_settings_and_settings_org_used() -> None:
    transport, seen = capture()
    api = connect(
        settings(type=ProviderType.OPENAI, base_url="https://cfg.example/v1", organization="o"),
        {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": "https://env.example/v1"},
        transport=transport,
    )
    api.list_models()
    assert str(seen[0].url) == "https://env.example/v1/models"
    assert seen[0].headers["openai-organization"] == "o"


def test_missing_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        connect(settings(type=ProviderType.OPENAI), {})


def test_insecure_settings_url_refused_unless_allowed() -> None:
    env = {"OPENAI_API_KEY": KEY}
    with pytest.raises(ConfigError, match="allow_insecure_http") as info:
        connect(settings(type=ProviderType.OPENAI, base_url="http://gpu.lan:8000/v1"), env)
    assert KEY not in str(info.value)
    ok = connect(settings(type=ProviderType.OPENAI, base_url="http://gpu.lan:8000/v1",
                          allow_insecure_http=True), env)
    assert ok.http.base_url == "http://gpu.lan:8000/v1"


def test_local_with_explicit_url_never_sends_the_users_key() -> None:
    transport, seen = capture()
    api = connect(settings(type=ProviderType.LOCAL), {"OPENAI_API_KEY": KEY},
                  transport=transport, base_url="http://127.0.0.1:5555/v1")
    api.list_models()
    assert seen[0].headers["authorization"] == f"Bearer {LOCAL_API_KEY}"


def test_local_without_a_server_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="emulator"):
        connect(settings(type=ProviderType.LOCAL), {})


def test_key_whitespace_from_secret_files_is_stripped() -> None:
    transport, seen = capture()
    api = connect(settings(type=ProviderType.OPENAI), {"OPENAI_API_KEY": f"  {KEY}\n"},
                  transport=transport)
    api.list_models()
    assert seen[0].headers["authorization"] == f"Bearer {KEY}"
