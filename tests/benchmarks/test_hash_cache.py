"""The dataset sha256/inspection cache (reconciler.datasets.hashing) after the benchmark-led
change: one appended line per remember, the parsed file kept while it is unchanged, and the
same answers as before across processes, torn lines, the old format and compaction.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from reconciler.datasets import hashing


@pytest.fixture(autouse=True)
def _fresh_memo() -> None:
    hashing._MEMO.clear()


def _files(tmp_path: Path, n: int) -> list[str]:
    paths = []
    for i in range(n):
        p = tmp_path / "data" / f"d{i}.jsonl"
        p.parent.mkdir(exist_ok=True)
        p.write_text(f'{{"i": {i}}}\n')
        paths.append(str(p))
    return paths


def test_remember_then_cached_in_process_and_from_disk(tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    paths = _files(tmp_path, 50)
    for i, p in enumerate(paths):
        hashing.remember(cache, "c.json", p, "sha256", f"h{i}")
        hashing.remember(cache, "c.json", p, "other", i)
    assert [hashing.cached(cache, "c.json", p, "sha256") for p in paths] == \
        [f"h{i}" for i in range(50)]
    hashing._MEMO.clear()  # as a new process would see it
    assert [hashing.cached(cache, "c.json", p, "other") for p in paths] == list(range(50))


def test_the_cache_file_is_parsed_once_not_per_dataset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = str(tmp_path / "cache")
    paths = _files(tmp_path, 200)
    parsed: list[int] = []

    def loads(raw: Any) -> Any:
        parsed.append(1)
        return orjson.loads(raw)

    monkeypatch.setattr(hashing, "orjson", SimpleNamespace(
        loads=loads, dumps=orjson.dumps, JSONDecodeError=orjson.JSONDecodeError,
        OPT_SORT_KEYS=orjson.OPT_SORT_KEYS))
    for p in paths:
        assert hashing.cached(cache, "c.json", p, "sha256") is None
        hashing.remember(cache, "c.json", p, "sha256", "x")
    # Before: every cached/remember re-read the whole file (quadratic in datasets).
    assert len(parsed) <= 2
    size = os.path.getsize(os.path.join(cache, "c.json"))
    assert size < 200 * 400  # one short line per dataset, not the file rewritten each time


def test_changed_dataset_misses(tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    (p,) = _files(tmp_path, 1)
    hashing.remember(cache, "c.json", p, "sha256", "old")
    Path(p).write_text('{"i": "changed size"}\n')
    assert hashing.cached(cache, "c.json", p, "sha256") is None


def test_another_writer_is_seen(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    a, b = _files(tmp_path, 2)
    hashing.remember(str(cache), "c.json", a, "sha256", "ha")
    assert hashing.cached(str(cache), "c.json", b, "sha256") is None
    # Another process appends an entry for b: the changed file is parsed again.
    abspath, size, mtime, inode = hashing.file_key(b)
    with open(cache / "c.json", "ab") as f:
        f.write(json.dumps({abspath: {"key": [size, mtime, inode], "sha256": "hb"}}).encode()
                + b"\n")
    assert hashing.cached(str(cache), "c.json", b, "sha256") == "hb"
    assert hashing.cached(str(cache), "c.json", a, "sha256") == "ha"


def test_old_single_object_format_and_torn_lines(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    a, b = _files(tmp_path, 2)
    abspath, size, mtime, inode = hashing.file_key(a)
    # The format before this change: one JSON object, no trailing newline; then a torn append.
    (cache / "c.json").write_bytes(
        orjson.dumps({abspath: {"key": [size, mtime, inode], "sha256": "ha"}})
        + b'\n{"' + b"/torn")
    assert hashing.cached(str(cache), "c.json", a, "sha256") == "ha"
    hashing.remember(str(cache), "c.json", b, "sha256", "hb")
    hashing._MEMO.clear()
    assert hashing.cached(str(cache), "c.json", b, "sha256") == "hb"
    assert hashing.cached(str(cache), "c.json", a, "sha256") == "ha"


def test_superseded_lines_are_compacted(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (p,) = _files(tmp_path, 1)
    for i in range(500):
        hashing.remember(str(cache), "c.json", p, "n", i)
    lines = [ln for ln in (cache / "c.json").read_bytes().splitlines() if ln.strip()]
    assert len(lines) <= 2 * 1 + 64 + 1
    hashing._MEMO.clear()
    assert hashing.cached(str(cache), "c.json", p, "n") == 499
    assert not [n for n in os.listdir(cache) if n.startswith(".tmp-")]


def test_unwritable_cache_only_costs_a_reread(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    (p,) = _files(tmp_path, 1)
    hashing.remember(str(blocker), "c.json", p, "sha256", "x")
    assert hashing.cached(str(blocker), "c.json", p, "sha256") is None
    assert hashing.sha256_cached(p, str(blocker)) == hashing.sha256_file(p)
