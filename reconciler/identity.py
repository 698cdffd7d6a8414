"""Naming conventions that identify what ftctl manages: metadata keys, spec hashes, file names.

L1 pure logic. The metadata key names are a public contract (DESIGN §3): other tools read them.
"""

from __future__ import annotations

META_WORKSPACE = "ftctl-workspace"
META_NAME = "ftctl-name"
META_SPEC = "ftctl-spec"
META_VERSION = "ftctl-version"
META_OP = "ftctl-op"
META_COMMIT = "ftctl-commit"

METADATA_KEYS = (META_WORKSPACE, META_NAME, META_SPEC, META_VERSION, META_OP, META_COMMIT)

FILE_NAME_PREFIX = "ftctl-"


def file_name(sha256: str, suffix: str = ".jsonl") -> str:
    """Content-addressed upload name: a changed byte is a new file, an equal one is found again."""
    return f"{FILE_NAME_PREFIX}{sha256}{suffix}"


def sha_from_file_name(name: str) -> str | None:
    """The sha256 a content-addressed file name carries, or None for other files."""
    if not name.startswith(FILE_NAME_PREFIX):
        return None
    stem = name[len(FILE_NAME_PREFIX):].split(".", 1)[0]
    if len(stem) == 64 and all(c in "0123456789abcdef" for c in stem):
        return stem
    return None
