"""List answers of objects that can no longer change, kept per emulator, and list envelopes.

A finished job's answer, and a file's once it is listed at all (a result file: once its job
has succeeded), are the same on every read until the object is deleted, and listings leave
deleted objects out in SQL. So each is built once per emulator and kept by its row's `seq`
(SQLite never reuses one): a refresh's page of 100 jobs, or of 10,000 files, then reads only
the seqs from an index, instead of reading rows, decoding documents, replaying statuses and
building objects on every request.

A job's answer is also kept encoded, and a page of them is spliced from the bytes: encoding a
page of 100 jobs was a third of what serving a kept page cost. A file's is kept as a dict:
encoding 10,000 small objects one by one costs several times what one call for the page does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Generic, NamedTuple, TypeVar

from reconciler.emulator import jsoncodec

# Kept answers per kind and emulator; emptied when it grows past this (memory stays bounded
# by it whatever the database holds).
CAP = 100_000

T = TypeVar("T")


class Encoded(NamedTuple):
    """One object of a list answer, as a dict (for dialects that rework it) and encoded."""

    obj: dict[str, Any]
    raw: bytes


def encode(obj: dict[str, Any]) -> Encoded:
    return Encoded(obj, jsoncodec.dumps(obj))


class Kept(Generic[T]):
    """Answers that can no longer change, by row seq; bounded by CAP."""

    def __init__(self) -> None:
        self._by_seq: dict[int, T] = {}

    def page(self, seqs: list[int],
             build: Callable[[list[int]], Iterable[tuple[int, T, bool]]]) -> list[T]:
        """The answers of the rows `seqs`, in that order: kept ones as they are, the others
        from `build`, which yields (seq, answer, settled) for each of the rows it is given that
        still exists and is shown; a settled answer can no longer change, so it is kept."""
        found = list(map(self._by_seq.get, seqs))
        missing = [seq for seq, answer in zip(seqs, found, strict=True) if answer is None]
        if not missing:
            return found  # type: ignore[return-value]  # no None left
        built: dict[int, T] = {}
        for seq, answer, settled in build(missing):
            built[seq] = answer
            if settled:
                self._put(seq, answer)
        either = (answer or built.get(seq) for seq, answer in zip(seqs, found, strict=True))
        return [answer for answer in either if answer is not None]

    def _put(self, seq: int, answer: T) -> None:
        if len(self._by_seq) >= CAP:
            self._by_seq.clear()
        self._by_seq[seq] = answer

    def __len__(self) -> int:
        return len(self._by_seq)


def envelope(data: list[dict[str, Any]], limit: int, *,
             ids: str | None = None) -> dict[str, Any]:
    """The list envelope of up to limit+1 objects (the extra one only says there is more).
    With `ids`, first_id and last_id too, `ids` being what they are on an empty page."""
    shown = data[:limit]
    out: dict[str, Any] = {"object": "list", "data": shown, "has_more": len(data) > limit}
    if ids is not None:
        out["first_id"] = shown[0]["id"] if shown else ids
        out["last_id"] = shown[-1]["id"] if shown else ids
    return out


def encoded_envelope(items: list[Encoded], limit: int) -> bytes:
    """`envelope` (without ids) encoded, byte for byte what jsoncodec.dumps makes of it, spliced
    from the items' encoded forms (the encoder's compact output: no spaces, keys in order)."""
    return b"".join((b'{"object":"list","data":[', b",".join([i.raw for i in items[:limit]]),
                     b'],"has_more":', b"true" if len(items) > limit else b"false", b"}"))
