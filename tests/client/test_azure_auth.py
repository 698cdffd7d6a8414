"""Azure credentials: the key as `api-key`, an Entra token (refreshed before it expires) when
there is no key, AZURE_ACCESS_TOKEN for ARM, and a clear error naming `ftctl[azure]` when a
token is needed and azure-identity is not installed. The emulator accepts exactly the
emulated resource's key and token, so a request that succeeds proves the header it got."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.client.azure_auth import (
    DATA_PLANE_SCOPE,
    TokenSource,
    data_plane_auth,
    default_credential,
    management_auth,
)
from reconciler.errors import ConfigError, PermanentApiError
from tests.client.azure_helpers import azure_api
from tests.conftest import EMULATOR_KEY
from tests.emulator.azure_support import TOKEN, Azure


@dataclass
class AccessToken:
    token: str
    expires_on: int


class Credential:
    """Stands in for azure-identity's DefaultAzureCredential (Entra ID cannot be reached in
    tests): hands out `token`, valid for `lifetime` seconds from the clock, and counts calls."""

    def __init__(self, token: str, clock: list[float], lifetime: int = 3600) -> None:
        self.token, self.clock, self.lifetime = token, clock, lifetime
        self.scopes: list[str] = []

    def get_token(self, scope: str) -> AccessToken:
        self.scopes.append(scope)
        return AccessToken(self.token, int(self.clock[0]) + self.lifetime)


@pytest.fixture
def azure(make_emulator, fake_clock) -> Iterator[Azure]:  # type: ignore[no-untyped-def]
    env = Azure(make_emulator, fake_clock)
    yield env
    env.close()


def test_the_key_is_sent_as_api_key() -> None:
    auth = data_plane_auth({"AZURE_OPENAI_API_KEY": " k-123\n"})
    assert auth.header() == ("api-key", "k-123") and auth.secret == "k-123"


def test_without_a_key_entra_tokens_are_used_on_both_planes(azure: Azure,
                                                            tmp_path: Path) -> None:
    now = [time.time()]  # TokenSource reads the real clock here
    credential = Credential(TOKEN, now)
    api = azure_api(azure, tmp_path, env={}, credential=lambda: credential)
    assert api.list_jobs() == [] and api.arm.list_deployments() == []
    assert credential.scopes == [DATA_PLANE_SCOPE, "http://emulator.test/.default"]
    api.close()


def test_a_token_is_asked_for_again_shortly_before_it_expires() -> None:
    now = [1000.0]
    credential = Credential("t1", now, lifetime=3600)
    source = TokenSource(credential, DATA_PLANE_SCOPE, clock=lambda: now[0])
    assert source.header() == ("Authorization", "Bearer t1")
    now[0] += 3000
    source.token()
    assert len(credential.scopes) == 1  # still valid: cached
    credential.token = "t2"
    now[0] += 400  # within five minutes of expiry
    assert source.token() == "t2" and len(credential.scopes) == 2


def test_access_token_env_is_used_as_is_for_arm() -> None:
    auth = management_auth({"AZURE_ACCESS_TOKEN": "abc"}, "https://management.azure.com")
    assert auth.header() == ("Authorization", "Bearer abc")


def test_a_wrong_key_is_refused(azure: Azure, tmp_path: Path) -> None:
    api = azure_api(azure, tmp_path, env={"AZURE_OPENAI_API_KEY": EMULATOR_KEY + "x",
                                          "AZURE_ACCESS_TOKEN": TOKEN})
    with pytest.raises(PermanentApiError) as refused:
        api.list_jobs()
    assert refused.value.status == 401
    api.close()


def test_without_azure_identity_the_error_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "azure.identity", None)  # not installed (the default)
    with pytest.raises(ConfigError, match=r"pip install 'ftctl\[azure\]'"):
        default_credential()
    with pytest.raises(ConfigError, match="AZURE_OPENAI_API_KEY"):
        data_plane_auth({})


def test_a_failed_sign_in_is_a_clear_error() -> None:
    class Refusing:
        def get_token(self, scope: str) -> AccessToken:
            raise RuntimeError("DefaultAzureCredential failed to retrieve a token")

    with pytest.raises(ConfigError, match="az login"):
        data_plane_auth({}, lambda: Refusing())


@pytest.mark.parametrize("name", ["AZURE_OPENAI_API_KEY", "AZURE_ACCESS_TOKEN"])
def test_an_unsendable_secret_is_named_not_shown(name: str) -> None:
    secret = "abc def-\u00e9-canary"
    with pytest.raises(ConfigError) as caught:
        if name == "AZURE_OPENAI_API_KEY":
            data_plane_auth({name: secret})
        else:
            management_auth({name: secret}, "https://management.azure.com")
    assert name in str(caught.value) and secret not in str(caught.value)
