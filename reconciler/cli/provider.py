"""open_remote: the RemoteApi a command talks to, for the project's provider.

`provider: openai` connects to the configured base URL. `provider: local` starts the embedded
emulator on a loopback port (database at <project root>/.ftctl/emulator.db, so state survives
between commands) and connects to it with the emulator's own key; the user's OPENAI_API_KEY is
never sent there. When OPENAI_BASE_URL is set, a local project talks to that server instead
(e.g. one started with `ftctl emulator serve`). `dialect: azure` runs the emulator as an Azure
OpenAI resource (data plane and ARM on the same port, its own key and ARM token) and always
the embedded one: OPENAI_BASE_URL does not apply to it. Every retry the client makes is
announced on stderr, so a slow or unreachable provider is never silence.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Any

import click

from reconciler.client import LOCAL_API_KEY, RemoteApi, connect
from reconciler.client.azure import LOCAL_ACCESS_TOKEN
from reconciler.client.retry import RetryNotice
from reconciler.errors import ConfigError
from reconciler.paths import inside
from reconciler.spec import ProviderType, Settings

DEFAULT_LOCAL_SPEED = 200.0
STATE_DIR = ".ftctl"


def emulator_db_path(settings: Settings) -> str:
    return os.path.join(settings.root, STATE_DIR, "emulator.db")


@contextlib.contextmanager
def open_remote(
    settings: Settings, *, env: Mapping[str, str] | None = None, **http_options: Any
) -> Iterator[RemoteApi]:
    """A connected RemoteApi, closed (and the local emulator stopped) on exit."""
    environ = os.environ if env is None else env
    with contextlib.ExitStack() as stack:
        base_url = None
        local = settings.provider.type == ProviderType.LOCAL
        if local and (settings.provider.speaks_azure or not environ.get("OPENAI_BASE_URL")):
            base_url = stack.enter_context(_local_emulator(settings)).base_url
        http_options.setdefault("on_retry", announce_retry)
        api = connect(settings, environ, base_url=base_url, **http_options)
        stack.callback(api.close)
        yield api


def announce_retry(notice: RetryNotice) -> None:
    """`retrying GET fine_tuning/jobs in 4 s (attempt 2 of 6): HTTP 503`, on stderr."""
    click.echo(str(notice), err=True)


def _local_emulator(settings: Settings) -> Any:
    # Imported here: only the CLI may import the emulator, and only local projects need it.
    from reconciler.emulator.server import start_in_background

    db_path = emulator_db_path(settings)
    if not inside(settings.root, db_path):
        raise ConfigError(f"{STATE_DIR} in the project is a symlink that leads outside it; "
                          "remove it (the local emulator keeps its state there)")
    os.makedirs(os.path.dirname(db_path), exist_ok=True)
    speed = getattr(settings.provider, "speed", None) or DEFAULT_LOCAL_SPEED
    azure = None
    if settings.provider.speaks_azure:
        from reconciler.emulator.azure_settings import AzureSettings

        azure = AzureSettings(access_token=LOCAL_ACCESS_TOKEN)
    return start_in_background(
        db_path, host="127.0.0.1", port=0, api_key=LOCAL_API_KEY, speed=float(speed),
        dialect=settings.provider.dialect.value, azure=azure,
    )
