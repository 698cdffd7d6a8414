"""Requests a step makes, counted at the emulator: a create under a persistent 503 makes at most
six POSTs in all (the client's one retry budget, never multiplied by outer loops), looks the
operation up before each re-send, and fails the step saying how many attempts were made; an
upload takes the file POST /files answers instead of listing to confirm it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx

from reconciler.client.api import RemoteApi
from reconciler.client.http import HttpClient
from reconciler.emulator import make_app
from reconciler.events import StepStatus

from .conftest import FakeClock, Project, Steps
from .test_executor import run
from .test_lifecycle import apply

JOBS = "/v1/fine_tuning/jobs"


class Counting:
    """WSGI middleware in front of the emulator: counts requests by (method, path)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: Counter[tuple[str, str]] = Counter()

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        self.seen[(environ["REQUEST_METHOD"], environ["PATH_INFO"])] += 1
        result: Iterable[bytes] = self.app(environ, start)
        return result


def test_a_create_under_persistent_503_makes_at_most_six_posts(
    tmp_path: Path, project: Project, clock: FakeClock
) -> None:
    emulator = make_app(str(tmp_path / "emulator.db"), api_key="sk-test", clock=clock,
                        speed=50.0, faults="503:1.0", fault_scope=f"POST {JOBS}")
    counting = Counting(emulator)
    http = HttpClient("http://emulator.test/v1", "sk-test", allow_insecure_http=True,
                      transport=httpx.WSGITransport(app=counting), sleep=lambda s: None)
    project.model("alpha")

    report = apply(project, RemoteApi(http), clock)

    failed = {r.key: r.message for r in report.results if r.status is StepStatus.FAILED}
    assert list(failed) == ["alpha/create-job"], report.results
    assert "after 6 attempts" in failed["alpha/create-job"]
    assert "HTTP 503" in failed["alpha/create-job"]
    posts, lists = counting.seen[("POST", JOBS)], counting.seen[("GET", JOBS)]
    assert posts == 6
    # One look-up before each re-send (5), plus the step's own look-up and the observe.
    assert lists <= 7


def test_an_upload_uses_the_file_post_files_answers_and_lists_only_to_look(
    tmp_path: Path, steps: Steps, clock: FakeClock
) -> None:
    emulator = make_app(str(tmp_path / "emulator.db"), api_key="sk-test", clock=clock)
    counting = Counting(emulator)
    http = HttpClient("http://emulator.test/v1", "sk-test", allow_insecure_http=True,
                      transport=httpx.WSGITransport(app=counting), sleep=lambda s: None)
    upload = steps.upload("alpha")

    done = run([upload], RemoteApi(http), steps, clock)

    [result] = done.results
    assert result.status is StepStatus.DONE
    assert counting.seen[("POST", "/v1/files")] == 1
    # One listing: is the file already there (a resumed apply)? None to confirm the upload.
    assert counting.seen[("GET", "/v1/files")] == 1
    [stored] = RemoteApi(http).list_files()
    assert result.remote_id == stored.id
