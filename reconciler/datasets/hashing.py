"""sha256 of dataset files, cached by (path, size, mtime_ns, inode) so an unchanged multi-GB
dataset is not re-read on every plan.

The cache is one JSON file under cache_dir; a changed size, mtime or inode (a rewrite or a
replaced file) misses. Writes go through a temporary file and rename, so a crash never leaves
a torn cache; an unreadable cache is treated as empty.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from typing import Any

import orjson

CACHE_FILE = "sha256.json"
_BLOCK = 8 * 1024 * 1024


def file_key(path: str) -> tuple[str, int, int, int]:
    st = os.stat(path)
    return (os.path.abspath(path), st.st_size, st.st_mtime_ns, st.st_ino)


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _load(cache_dir: str, name: str) -> dict[str, Any]:
    try:
        with open(os.path.join(cache_dir, name), "rb") as f:
            data = orjson.loads(f.read())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _store(cache_dir: str, name: str, data: dict[str, Any]) -> None:
    try:
        os.makedirs(cache_dir, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(orjson.dumps(data, option=orjson.OPT_SORT_KEYS))
        os.replace(tmp, os.path.join(cache_dir, name))
    except OSError:
        pass  # a cache that cannot be written only costs a re-read next time


def cached(cache_dir: str | None, name: str, path: str, slot: str) -> Any:
    """The value stored for `path` under `slot` if the file is unchanged since, else None."""
    if cache_dir is None:
        return None
    abspath, size, mtime, inode = file_key(path)
    entry = _load(cache_dir, name).get(abspath)
    if not isinstance(entry, dict) or entry.get("key") != [size, mtime, inode]:
        return None
    return entry.get(slot)


def remember(cache_dir: str | None, name: str, path: str, slot: str, value: Any) -> None:
    """Store `value` for `path` under `slot`, keyed by the file's current identity."""
    if cache_dir is None:
        return
    abspath, size, mtime, inode = file_key(path)
    data = _load(cache_dir, name)
    entry = data.get(abspath)
    if not isinstance(entry, dict) or entry.get("key") != [size, mtime, inode]:
        entry = {"key": [size, mtime, inode]}
    entry[slot] = value
    data[abspath] = entry
    _store(cache_dir, name, data)


def sha256_cached(path: str, cache_dir: str | None) -> str:
    """sha256 hex digest of the file, from the cache when the file is unchanged."""
    hit = cached(cache_dir, CACHE_FILE, path, "sha256")
    if isinstance(hit, str):
        return hit
    digest = sha256_file(path)
    remember(cache_dir, CACHE_FILE, path, "sha256", digest)
    return digest
