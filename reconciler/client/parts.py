"""Streaming pieces for the Uploads API: a part read straight from disk, and the file's md5.

A part is a read-only, seekable window onto the file, so httpx streams it in small chunks
(and can seek back to replay it on a retry) instead of holding the part in memory.
"""

from __future__ import annotations

import hashlib
import io
import os


class PartFile(io.RawIOBase):
    """Bytes [offset, offset + length) of the file at path, as a seekable read-only stream.

    fileno() is deliberately unsupported: httpx would otherwise take the whole file's size as
    the part's length.
    """

    def __init__(self, path: str, offset: int, length: int) -> None:
        super().__init__()
        self._fh = open(path, "rb")  # noqa: SIM115 - closed in close()
        self._start = offset
        self._length = max(0, min(length, os.fstat(self._fh.fileno()).st_size - offset))
        self._pos = 0

    def __len__(self) -> int:
        return self._length

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._length}[whence]
        self._pos = max(0, base + pos)
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        remaining = self._length - self._pos
        count = remaining if size is None or size < 0 else min(size, remaining)
        if count <= 0:
            return b""
        self._fh.seek(self._start + self._pos)
        data = self._fh.read(count)
        self._pos += len(data)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._fh.close()
        super().close()


def md5_of(path: str) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 18), b""):
            digest.update(block)
    return digest.hexdigest()
