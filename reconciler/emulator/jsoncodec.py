"""JSON in and out of the emulator: the stored job documents and every answer body.

orjson does the work (decoding the documents of a 100-job page and encoding the answer were
most of a listing's cost with the standard library); what orjson refuses, such as an integer
beyond 64 bits that a request may carry, goes through the standard library instead.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(raw: str | bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)  # the judge of what is valid, and of its error message


def dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # e.g. an integer beyond 64 bits
        return json.dumps(value).encode()
