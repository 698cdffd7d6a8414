"""Shared pieces of the dataset tests.

`inline_fixture` turns a `*.jsonl.in` fixture (JSONL with inline expectations) into a real
file plus the expected (line, code) pairs; the format is in fixtures/README.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


@dataclass
class Fixture:
    data: bytes
    expected: set[tuple[int, str]] = field(default_factory=set)
    options: dict[str, str] = field(default_factory=dict)


def load(name: str) -> Fixture:
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
        raw = f.read().split("\n")
    if raw and raw[-1] == "":
        raw.pop()
    fixture, lines, final_newline = Fixture(b""), [], True
    for text in raw:
        if text.startswith("#@ "):
            fixture.options.update(kv.split("=", 1) for kv in text[3:].split())
        elif text.startswith("#! "):
            fixture.expected.update((0, code) for code in text[3:].split())
        elif text == "#= nonl":
            final_newline = False
        else:
            body, _, codes = text.partition("\t#> ")
            lines.append(_bytes(body))
            fixture.expected.update((len(lines), code) for code in codes.split())
    fixture.data = b"\n".join(lines) + (b"\n" if final_newline else b"")
    return fixture


def _bytes(body: str) -> bytes:
    out = body.encode("utf-8")
    for token, value in ((b"{BOM}", b"\xef\xbb\xbf"), (b"{FF}", b"\xff"), (b"{CR}", b"\r")):
        out = out.replace(token, value)
    return out


@pytest.fixture
def inline_fixture(tmp_path: Path) -> Callable[[str], tuple[str, Fixture]]:
    """Write fixtures/NAME (a .jsonl.in file) as a real JSONL file; return its path + fixture."""

    def make(name: str) -> tuple[str, Fixture]:
        fixture = load(name)
        path = tmp_path / name.removesuffix(".in")
        path.write_bytes(fixture.data)
        return str(path), fixture

    return make


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[..., str]:
    """Write rows (dicts, or raw bytes lines) as a JSONL file in tmp_path; return its path."""

    def make(name: str, rows: list[object]) -> str:
        path = tmp_path / name
        lines = [r if isinstance(r, bytes) else orjson.dumps(r) for r in rows]
        path.write_bytes(b"\n".join(lines) + b"\n")
        return str(path)

    return make
