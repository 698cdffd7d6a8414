"""sha256 of dataset files, cached by (path, size, mtime_ns, inode) so an unchanged multi-GB
dataset is not re-read on every plan.

The cache is one file under cache_dir: lines of JSON objects {abspath: entry}, merged in order
(later lines win; the older single-object format is one such line). A changed size, mtime or
inode (a rewrite or a replaced file) misses. `remember` appends one line instead of rewriting
the whole file, and the parsed file is kept in memory while its own (size, mtime, inode) is
unchanged: a project with thousands of datasets used to re-read and rewrite the whole cache
per dataset (quadratic). A torn or unreadable line is skipped; once the file holds many
superseded lines it is compacted through a temporary file and rename.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from typing import Any

import orjson

CACHE_FILE = "sha256.json"
_BLOCK = 8 * 1024 * 1024


def file_key(path: str, st: os.stat_result | None = None) -> tuple[str, int, int, int]:
    """(absolute path, size, mtime_ns, inode); `st`: the file's stat when the caller has it."""
    if st is None:
        st = os.stat(path)
    return (os.path.abspath(path), st.st_size, st.st_mtime_ns, st.st_ino)


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


# cache file path -> (its (size, mtime_ns, inode) when parsed, merged data, line count)
_MEMO: dict[str, tuple[tuple[int, int, int], dict[str, Any], int]] = {}
_LOCK = threading.Lock()


def _signature(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def _load(cache_dir: str, name: str) -> dict[str, Any]:
    """The merged cache (callers under _LOCK); parsed again only when the file changed."""
    path = os.path.join(cache_dir, name)
    sig = _signature(path)
    memo = _MEMO.get(path)
    if sig is not None and memo is not None and memo[0] == sig:
        return memo[1]
    data: dict[str, Any] = {}
    lines = 0
    try:
        with open(path, "rb") as f:
            for line in f:
                if line.isspace():
                    continue  # the separator `_append` writes before each line
                try:
                    part = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue  # a torn append or a corrupt line: only costs a re-read
                if isinstance(part, dict):
                    data.update(part)
                    lines += 1
    except OSError:
        return {}
    if sig is not None:
        _MEMO[path] = (sig, data, lines)
    return data


def _store(cache_dir: str, name: str, data: dict[str, Any]) -> None:
    """Rewrite the whole cache as one line (compaction), atomically."""
    path = os.path.join(cache_dir, name)
    try:
        os.makedirs(cache_dir, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(orjson.dumps(data, option=orjson.OPT_SORT_KEYS) + b"\n")
        os.replace(tmp, path)
    except OSError:
        _MEMO.pop(path, None)
        return  # a cache that cannot be written only costs a re-read next time
    sig = _signature(path)
    if sig is not None:
        _MEMO[path] = (sig, data, 1)


def _append(cache_dir: str, name: str, data: dict[str, Any], key: str) -> None:
    """Append data[key] as one line; compact when superseded lines pile up."""
    path = os.path.join(cache_dir, name)
    memo = _MEMO.get(path)
    lines = (memo[2] if memo is not None and memo[1] is data else 0) + 1
    if lines > 2 * len(data) + 64:
        _store(cache_dir, name, data)
        return
    try:
        os.makedirs(cache_dir, exist_ok=True)
        with open(path, "ab") as f:
            # The leading newline ends a torn or corrupt last line, so this one stays readable.
            f.write(b"\n" + orjson.dumps({key: data[key]}, option=orjson.OPT_SORT_KEYS) + b"\n")
    except OSError:
        _MEMO.pop(path, None)
        return
    sig = _signature(path)
    if sig is not None and memo is not None and memo[1] is data:
        _MEMO[path] = (sig, data, lines)
    else:
        _MEMO.pop(path, None)  # parsed again next time, with whatever others wrote


def cached(cache_dir: str | None, name: str, path: str, slot: str,
           st: os.stat_result | None = None) -> Any:
    """The value stored for `path` under `slot` if the file is unchanged since, else None.
    `st`: the file's stat when the caller has just taken it (saves a system call)."""
    if cache_dir is None:
        return None
    abspath, size, mtime, inode = file_key(path, st)
    with _LOCK:
        entry = _load(cache_dir, name).get(abspath)
    if not isinstance(entry, dict) or entry.get("key") != [size, mtime, inode]:
        return None
    return entry.get(slot)


def remember(cache_dir: str | None, name: str, path: str, slot: str, value: Any) -> None:
    """Store `value` for `path` under `slot`, keyed by the file's current identity."""
    if cache_dir is None:
        return
    abspath, size, mtime, inode = file_key(path)
    with _LOCK:
        data = _load(cache_dir, name)
        entry = data.get(abspath)
        if not isinstance(entry, dict) or entry.get("key") != [size, mtime, inode]:
            entry = {"key": [size, mtime, inode]}
        entry[slot] = value
        data[abspath] = entry
        _append(cache_dir, name, data, abspath)


def sha256_cached(path: str, cache_dir: str | None) -> str:
    """sha256 hex digest of the file, from the cache when the file is unchanged."""
    hit = cached(cache_dir, CACHE_FILE, path, "sha256")
    if isinstance(hit, str):
        return hit
    digest = sha256_file(path)
    remember(cache_dir, CACHE_FILE, path, "sha256", digest)
    return digest
