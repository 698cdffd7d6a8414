"""Credentials for Azure OpenAI: the data plane's key or Entra token, and ARM's bearer token.

Secrets come only from the environment, never from ftctl.yaml:
- data plane: AZURE_OPENAI_API_KEY, sent as `api-key`; without it, an Entra ID token for
  https://cognitiveservices.azure.com/.default from azure-identity's DefaultAzureCredential.
- control plane (ARM, deployments): AZURE_ACCESS_TOKEN, a bearer token used as is (a CI step
  that already holds one, tests); without it, DefaultAzureCredential for the management
  endpoint's scope (this is what `azure/login` with OIDC sets up in GitHub Actions).
azure-identity is the optional extra `ftctl[azure]`; it is imported only when a token is needed.
Tokens are cached and asked for again shortly before they expire (a long apply outlives one).
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.errors import ConfigError

API_KEY_ENV = "AZURE_OPENAI_API_KEY"
ACCESS_TOKEN_ENV = "AZURE_ACCESS_TOKEN"
DATA_PLANE_SCOPE = "https://cognitiveservices.azure.com/.default"
REFRESH_MARGIN = 300.0  # seconds before expiry a cached token is replaced
EXTRA_HINT = "pip install 'ftctl[azure]'"

Header = tuple[str, str]
CredentialFactory = Callable[[], Any]  # returns an object with get_token(scope) (azure-identity)


@dataclass(frozen=True, slots=True)
class Auth:
    """How one plane authenticates: the header for each request, and the secret to keep out
    of messages (the key or the first token)."""

    header: Callable[[], Header]
    secret: str


class TokenSource:
    """Entra ID tokens for one scope from a credential, cached until shortly before expiry."""

    def __init__(self, credential: Any, scope: str, *, clock: Callable[[], float] = time.time):
        self._credential = credential
        self._scope = scope
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_on = 0.0

    def token(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._expires_on - REFRESH_MARGIN:
                try:
                    got = self._credential.get_token(self._scope)
                except Exception as exc:  # azure-identity's own (ClientAuthenticationError...)
                    raise ConfigError(
                        f"could not get an Azure access token for {self._scope} "
                        f"({type(exc).__name__}); log in (az login, or azure/login in GitHub "
                        f"Actions) or set {ACCESS_TOKEN_ENV} / {API_KEY_ENV}") from None
                self._token, self._expires_on = str(got.token), float(got.expires_on)
            return self._token

    def header(self) -> Header:
        return ("Authorization", f"Bearer {self.token()}")


def default_credential() -> Any:
    """azure-identity's DefaultAzureCredential, or a ConfigError naming the extra to install."""
    try:
        identity = importlib.import_module("azure.identity")
    except ImportError:
        raise ConfigError(
            f"Azure sign-in needs the azure-identity package: {EXTRA_HINT} (or set "
            f"{API_KEY_ENV} for the data plane and {ACCESS_TOKEN_ENV} for deployments)"
        ) from None
    return identity.DefaultAzureCredential()


def data_plane_auth(
    env: Mapping[str, str], credential: CredentialFactory = default_credential
) -> Auth:
    """The API key as `api-key` when AZURE_OPENAI_API_KEY is set, else an Entra token."""
    key = _usable(env, API_KEY_ENV)
    if key:
        return Auth(header=lambda: ("api-key", key), secret=key)
    return _token_auth(TokenSource(credential(), DATA_PLANE_SCOPE))


def management_auth(
    env: Mapping[str, str],
    management_endpoint: str,
    credential: CredentialFactory = default_credential,
) -> Auth:
    """AZURE_ACCESS_TOKEN as a bearer token when set, else a token for the endpoint's scope."""
    token = _usable(env, ACCESS_TOKEN_ENV)
    if token:
        return Auth(header=lambda: ("Authorization", f"Bearer {token}"), secret=token)
    scope = management_endpoint.rstrip("/") + "/.default"
    return _token_auth(TokenSource(credential(), scope))


def _usable(env: Mapping[str, str], name: str) -> str:
    """The variable's value (surrounding whitespace, e.g. a secrets file's newline, is never
    part of it); a ConfigError naming the variable, never quoting it, when it cannot be sent."""
    value = env.get(name, "").strip()
    if value and not all(33 <= ord(c) <= 126 for c in value):
        raise ConfigError(f"{name} contains spaces, control or non-ASCII characters; check "
                          "how it is set (its value is not shown)")
    return value


def _token_auth(source: TokenSource) -> Auth:
    # The first token is fetched now: a missing login fails before anything is sent.
    return Auth(header=source.header, secret=source.token())
