"""Pytest plugin: the API key never shows up in anything a test leaves behind.

Registered from tests/conftest.py (`pytest_plugins`), so it covers the whole suite:
- every test runs with OPENAI_API_KEY set to a unique canary (a test that sets its own key
  with monkeypatch or an explicit env mapping overrides it, as a real user would);
- after the test, the canary is searched for in what pytest captured for it (stdout, stderr
  and log records of setup, call and teardown, and the failure text with its exception), and
  in every file the test wrote under its tmp_path (plan files, logs, reports, databases).
A hit turns the test into a failure that names where the key was found.

Capture through capsys/capfd hands output to the test itself, so those bytes are not in the
report sections; whatever is still unread at teardown is checked here.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

CANARY_PREFIX = "sk-canary-"
MAX_SCANNED_FILE = 64 << 20  # files up to this size are read (in 1 MiB blocks)
_CANARY = pytest.StashKey[str]()
_FOUND = pytest.StashKey[list[str]]()


def new_canary() -> str:
    """A key-shaped secret that nothing in the code base could produce by chance."""
    return CANARY_PREFIX + secrets.token_hex(16)


@pytest.fixture(autouse=True)
def api_key_canary(request: pytest.FixtureRequest,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Sets OPENAI_API_KEY to this test's canary; checks the test's files at teardown."""
    canary = new_canary()
    request.node.stash[_CANARY] = canary
    request.node.stash[_FOUND] = []
    monkeypatch.setenv("OPENAI_API_KEY", canary)
    # Taken now: by this fixture's teardown (it runs last) tmp_path's own fixture is gone.
    tmp = request.getfixturevalue("tmp_path") if "tmp_path" in request.fixturenames else None
    yield canary
    found = request.node.stash[_FOUND]
    for name in ("capsys", "capfd", "capsysbinary", "capfdbinary"):
        if name in request.fixturenames:
            try:
                out, err = request.getfixturevalue(name).readouterr()
            except Exception:  # noqa: BLE001 - already closed by its own teardown
                continue
            for label, text in (("stdout", out), ("stderr", err)):
                if _contains(text, canary):
                    found.append(f"{name} {label}")
    if tmp is not None:
        found.extend(files_containing(tmp, canary))


def _contains(text: str | bytes, canary: str) -> bool:
    if isinstance(text, bytes):
        return canary.encode() in text
    return canary in text


def files_containing(root: Path, needle: str) -> list[str]:
    """Files under root whose bytes contain needle (symlinks are not followed)."""
    hits = []
    raw = needle.encode()
    for dirpath, _dirs, names in os.walk(root, followlinks=False):
        for name in names:
            path = os.path.join(dirpath, name)
            if os.path.islink(path) or _size(path) > MAX_SCANNED_FILE:
                continue  # a key never sits in a multi-megabyte benchmark dataset
            if _file_contains(path, raw):
                hits.append(f"file {os.path.relpath(path, root)}")
    return hits


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _file_contains(path: str, raw: bytes) -> bool:
    try:
        with open(path, "rb") as fh:
            tail = b""
            while block := fh.read(1 << 20):
                if raw in tail + block:
                    return True
                tail = block[-len(raw):]
    except OSError:
        return False
    return False


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    canary = item.stash.get(_CANARY, None)
    if canary is None:
        return
    # Sections accumulate over the phases: look only at this phase's own.
    where = [title for title, content in report.sections
             if title.endswith(report.when) and canary in content]
    if report.longrepr is not None and canary in str(report.longrepr):
        where.append("failure text / exception")
    if report.when == "teardown":
        found: list[str] = item.stash.get(_FOUND, [])
        where.extend(found)
    if where:
        report.outcome = "failed"
        report.longrepr = (
            f"the API key (canary {canary[:14]}...) leaked into: " + ", ".join(sorted(where))
        )
