"""Deterministic benchmark datasets for `python -m benchmarks.datasets` (dataset-rules §4).

Files are generated under benchmarks/.data/ (gitignored) from a fixed seed, so every run and
every machine measures the same bytes; their sha256 is recorded with the results.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Callable

import orjson

DATA_DIR = os.path.join(os.path.dirname(__file__), ".data")
SEED = 12345

_VOCABULARY = (
    "order shipping refund account password delivery package tracking customer support "
    "invoice payment card address update cancel return exchange warranty product store "
    "online help question answer issue problem please thank you today tomorrow week "
    "number email phone service team manager request status confirm check send receive "
    "item size color price discount coupon code member points balance login reset link "
    "click page app mobile browser error message wait minute hour day business office "
    "open closed holiday location city street country café naïve 東京 straße quickly "
    "soon again still already never always sometimes usually the a to of and in"
)
_WORDS = _VOCABULARY.split()


def _sentence(rng: random.Random, lo: int, hi: int) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(lo, hi))]
    # Mixed endings: no common suffix, so legacy's separator and stop fixes fire (as in §4.1).
    return " ".join(words).capitalize() + rng.choice(".?!")


def _text(rng: random.Random, sentences: tuple[int, int], words: tuple[int, int]) -> str:
    return " ".join(_sentence(rng, *words) for _ in range(rng.randint(*sentences)))


def prompt_completion_row(rng: random.Random) -> dict[str, object]:
    return {
        "prompt": _text(rng, (2, 5), (6, 18)),
        "completion": " " + _text(rng, (1, 3), (4, 14)),
    }


def chat_row(rng: random.Random) -> dict[str, object]:
    row = prompt_completion_row(rng)
    return {
        "messages": [
            {"role": "system", "content": "You are a helpful store support assistant."},
            {"role": "user", "content": row["prompt"]},
            {"role": "assistant", "content": str(row["completion"]).strip()},
        ]
    }


def dirty_line(rng: random.Random, i: int) -> bytes:
    """One of the defects of the 5%-dirty file: invalid JSON, bad role, empty content, copy."""
    kind = i % 4
    if kind == 0:
        return b'{"messages": [{"role": "user", "content": "cut'
    if kind == 1:
        return orjson.dumps({"messages": [{"role": "robot", "content": "hi"}]})
    if kind == 2:
        return orjson.dumps({"messages": [{"role": "user", "content": ""},
                                          {"role": "assistant", "content": "x"}]})
    return orjson.dumps(chat_row(random.Random(7)))


def ensure(name: str, rows: int, make: Callable[[random.Random, int], bytes]) -> str:
    """Generate DATA_DIR/name once (same seed, same bytes); return its path."""
    os.makedirs(DATA_DIR, exist_ok=True)
    path = os.path.join(DATA_DIR, name)
    if os.path.exists(path):
        return path
    rng = random.Random(SEED)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        buf: list[bytes] = []
        for i in range(rows):
            buf.append(make(rng, i))
            if len(buf) >= 10_000:
                f.write(b"\n".join(buf) + b"\n")
                buf.clear()
        if buf:
            f.write(b"\n".join(buf) + b"\n")
    os.replace(tmp, path)
    return path


def pc_file(rows: int) -> str:
    return ensure(f"pc{rows // 1000}k.jsonl", rows,
                  lambda rng, _i: orjson.dumps(prompt_completion_row(rng)))


def chat_file(rows: int) -> str:
    return ensure(f"chat{rows // 1000}k.jsonl", rows, lambda rng, _i: orjson.dumps(chat_row(rng)))


def dirty_file(rows: int) -> str:
    def make(rng: random.Random, i: int) -> bytes:
        return dirty_line(rng, i // 20) if i % 20 == 19 else orjson.dumps(chat_row(rng))

    return ensure(f"chat{rows // 1000}k-dirty.jsonl", rows, make)


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
