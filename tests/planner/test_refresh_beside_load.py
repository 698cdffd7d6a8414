"""plan and apply read the remote while the manifests load (reconciler/app/refreshing.py).

Against the real emulator in-process: the remote is opened as soon as ftctl.yaml is read
(before any manifest is), a load with errors stops those reads and writes nothing, and a
remote that cannot be opened is reported only for a project that loaded cleanly.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from planner_projects import write_project

from reconciler.app.apply import ApplyOptions, run_apply
from reconciler.app.inspect import run_show
from reconciler.app.plan import run_drift, run_plan
from reconciler.client import LOCAL_API_KEY, RemoteApi, connect
from reconciler.errors import ConfigError
from reconciler.events import NullReporter
from reconciler.loader import load_project
from reconciler.spec import Settings

BASE_URL = "http://127.0.0.1/v1"
BROKEN = "apiVersion: ftctl/v1\nkind: FineTunedModel\nmetadata: {name: broken}\n"


class Recording(httpx.BaseTransport):
    """The emulator's transport, noting every request's method and path."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.seen: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.method, request.url.path))
        return self.inner.handle_request(request)


@pytest.fixture
def recording(make_emulator: Callable[..., tuple[Any, Any]]) -> Recording:
    return Recording(make_emulator(api_key=LOCAL_API_KEY)[1])


def opener(transport: httpx.BaseTransport, *, base_url: str = BASE_URL,
           on_open: Callable[[], None] = lambda: None, **http_options: Any,
           ) -> Callable[[Settings], contextlib.AbstractContextManager[RemoteApi]]:
    @contextlib.contextmanager
    def open_remote(settings: Settings) -> Iterator[RemoteApi]:
        on_open()
        api = connect(settings, {}, transport=transport, base_url=base_url, **http_options)
        try:
            yield api
        finally:
            api.close()

    return open_remote


def test_the_loader_hands_over_the_settings_before_it_reads_a_manifest(
        tmp_path: Path) -> None:
    write_project(tmp_path)
    seen: list[str] = []

    def break_a_manifest(settings: Settings) -> None:
        seen.append(settings.workspace)
        (tmp_path / "models" / "late.yaml").write_text(BROKEN)

    result = load_project(str(tmp_path), on_settings=break_a_manifest)
    assert seen == ["e2e"]
    # The manifest written from the hook was read: the hook ran before the manifests were.
    assert any(d.subject and d.subject.file == "models/late.yaml" for d in result.diagnostics)


def test_settings_with_errors_are_not_handed_over(tmp_path: Path) -> None:
    write_project(tmp_path)
    (tmp_path / "ftctl.yaml").write_text("apiVersion: ftctl/v1\nkind: Project\n")
    seen: list[Settings] = []
    result = load_project(str(tmp_path), on_settings=seen.append)
    assert result.desired is None and seen == []


def test_plan_opens_the_remote_before_the_manifests_are_read(
        tmp_path: Path, recording: Recording, fake_clock: Any) -> None:
    write_project(tmp_path, models=("bot",))

    def add_a_model() -> None:  # the plan sees it only if the manifests are read after this
        write_project(tmp_path, models=("bot", "extra"))

    run = run_plan(str(tmp_path), open_remote=opener(recording, on_open=add_a_model),
                   clock=fake_clock)
    assert run.plan is not None and run.ok, run.diagnostics
    assert sorted({s.name for s in run.plan.steps}) == ["bot", "extra"]
    assert ("GET", "/v1/fine_tuning/jobs") in recording.seen


def test_manifest_errors_stop_the_reads_and_change_nothing(
        tmp_path: Path, recording: Recording, fake_clock: Any) -> None:
    write_project(tmp_path)
    (tmp_path / "models" / "broken.yaml").write_text(BROKEN)
    run = run_plan(str(tmp_path), open_remote=opener(recording), clock=fake_clock)
    assert run.plan is None and not run.ok
    assert any("broken.yaml" in str(d.subject) for d in run.diagnostics)
    assert {method for method, _ in recording.seen} <= {"GET"}
    report = run_apply(str(tmp_path), None, ApplyOptions(auto_approve=True),
                       open_remote=opener(recording), reporter=NullReporter(), clock=fake_clock)
    assert not report.ok and report.results == ()
    assert {method for method, _ in recording.seen} <= {"GET"}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again on leaving: connections are refused


def _refresh_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("ftctl-")]


def test_an_unreachable_remote_does_not_hold_up_a_load_with_errors(tmp_path: Path) -> None:
    """The reads retry a refused connection with backoff; the load's errors stop them, so the
    refresh threads end instead of sleeping out their budget (minutes, with these waits)."""
    write_project(tmp_path)
    (tmp_path / "models" / "broken.yaml").write_text(BROKEN)
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    slow_backoff = {"backoff_base": 60.0, "backoff_cap": 60.0, "rng": random.Random(7)}
    waits = [random.Random(7).uniform(0, 60) for _ in range(5)]
    assert sum(waits) > 90  # what the reads would sleep through if nothing stopped them
    run = run_plan(str(tmp_path), open_remote=opener(httpx.HTTPTransport(), base_url=url,
                                                     **slow_backoff))
    assert run.plan is None and run.diagnostics
    deadline = time.monotonic() + 30
    while _refresh_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _refresh_threads() == []


def test_a_remote_that_cannot_be_opened_is_reported_after_the_manifests(
        tmp_path: Path, recording: Recording, fake_clock: Any) -> None:
    def no_key() -> None:
        raise ConfigError("OPENAI_API_KEY is not set")

    write_project(tmp_path)
    (tmp_path / "models" / "broken.yaml").write_text(BROKEN)
    run = run_plan(str(tmp_path), open_remote=opener(recording, on_open=no_key),
                   clock=fake_clock)
    assert run.plan is None and run.diagnostics  # the manifest's problem, not the key
    (tmp_path / "models" / "broken.yaml").unlink()
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        run_plan(str(tmp_path), open_remote=opener(recording, on_open=no_key),
                 clock=fake_clock)


def test_drift_and_show_open_the_remote_before_the_manifests_are_read(
        tmp_path: Path, recording: Recording, fake_clock: Any) -> None:
    write_project(tmp_path, models=("bot",))
    late = tmp_path / "models" / "late.yaml"

    def break_a_manifest() -> None:  # reported only if the manifests are read after this
        late.write_text(BROKEN)

    drift = run_drift(str(tmp_path), open_remote=opener(recording, on_open=break_a_manifest),
                      clock=fake_clock)
    assert drift.report is None
    assert any(d.subject and d.subject.file == "models/late.yaml" for d in drift.diagnostics)
    late.unlink()
    shown = run_show(str(tmp_path), None,
                     open_remote=opener(recording, on_open=break_a_manifest))
    assert shown.models == ()
    assert any(d.subject and d.subject.file == "models/late.yaml" for d in shown.diagnostics)
    assert {method for method, _ in recording.seen} <= {"GET"}
