"""Shared fixtures: a fake clock and the local emulator (in-process over WSGI, or on loopback).

- `fake_clock`: `.now()`, `.advance(seconds)`, and callable as the clock.
- `emulator_app`: make_app on a tmp_path SQLite database, fake_clock, key "sk-test", speed 1.
  A small job (tens of examples) succeeds after about 100 simulated seconds; advance the
  clock by 10_000 to be sure.
- `emulator_transport`: an httpx WSGI transport for emulator_app that turns the emulator's
  dropped connections (fault injection) into httpx.RemoteProtocolError, as a socket would.
- `emulator_http`: httpx.Client on that transport, base URL http://emulator.test/v1, with auth.
- `make_emulator(**make_app_kwargs)`: a factory for (app, transport) with other settings
  (faults, seed, speed, max_running); same database folder, fake_clock unless given.
- `emulator_server`: a RunningServer on 127.0.0.1 (real clock, speed 1000, key "sk-test").
- `chat_dataset`: path of a valid 12-example chat JSONL file in tmp_path.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.emulator import ConnectionDropped, EmulatorApp, make_app
from reconciler.emulator.server import RunningServer, start_in_background

pytest_plugins = ["tests.security_plugin"]  # API key canary over the whole suite

EMULATOR_KEY = "sk-test"
EMULATOR_BASE_URL = "http://emulator.test/v1"


class FakeClock:
    """A settable clock: time moves only when a test advances it."""

    def __init__(self, start: float = 1_760_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def __call__(self) -> float:
        return self._now


class EmulatorTransport(httpx.WSGITransport):
    """WSGI transport mapping the emulator's dropped connections onto httpx's error."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return super().handle_request(request)
        except ConnectionDropped as exc:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from exc


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_emulator(
    tmp_path: Path, fake_clock: FakeClock
) -> Iterator[Callable[..., tuple[EmulatorApp, EmulatorTransport]]]:
    apps: list[EmulatorApp] = []

    def factory(**kwargs: Any) -> tuple[EmulatorApp, EmulatorTransport]:
        kwargs.setdefault("api_key", EMULATOR_KEY)
        kwargs.setdefault("clock", fake_clock)
        db = kwargs.pop("db_path", str(tmp_path / "emulator.db"))
        app = make_app(db, **kwargs)
        apps.append(app)
        return app, EmulatorTransport(app=app)

    yield factory
    for app in apps:
        app.close()


@pytest.fixture
def emulator_app(
    make_emulator: Callable[..., tuple[EmulatorApp, EmulatorTransport]],
) -> EmulatorApp:
    return make_emulator()[0]


@pytest.fixture
def emulator_transport(emulator_app: EmulatorApp) -> EmulatorTransport:
    return EmulatorTransport(app=emulator_app)


@pytest.fixture
def emulator_http(emulator_transport: EmulatorTransport) -> Iterator[httpx.Client]:
    with httpx.Client(
        transport=emulator_transport,
        base_url=EMULATOR_BASE_URL,
        headers={"Authorization": f"Bearer {EMULATOR_KEY}"},
    ) as client:
        yield client


@pytest.fixture
def emulator_server(tmp_path: Path) -> Iterator[RunningServer]:
    with start_in_background(
        str(tmp_path / "server.db"), api_key=EMULATOR_KEY, speed=1000.0
    ) as server:
        yield server


def write_chat_dataset(path: Path, n: int = 12) -> Path:
    lines = [
        json.dumps(
            {
                "messages": [
                    {"role": "system", "content": "You are a support bot."},
                    {"role": "user", "content": f"Where is my order number {i}?"},
                    {"role": "assistant", "content": f"Order {i} ships today; tracking follows."},
                ]
            }
        )
        for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def chat_dataset(tmp_path: Path) -> Path:
    return write_chat_dataset(tmp_path / "train.jsonl")
