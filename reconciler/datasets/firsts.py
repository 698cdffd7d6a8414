"""First occurrences of 64-bit line hashes in 12 bytes a slot (a one-process scan with tokens).

An open-addressing table over two arrays: the hash, and the line where it was first seen (0 =
empty slot, as line numbers start at 1). A dict of Python ints costs about 100 bytes a row,
which at 500,000 rows outweighs everything else a scan keeps. A probe here runs in Python, a
little slower than a dict, which is why it is used when tokens are counted: the tokenizer's
time dwarfs it, and memory is what a run with the ~100 MB tokenizer must save. (A run in
several processes finds repeats after the join instead: validate._join.)
"""

from __future__ import annotations

from array import array

_START = 1 << 16


class Firsts:
    __slots__ = ("_hashes", "_lines", "_mask", "_used")

    def __init__(self, size: int = _START) -> None:
        self._hashes = array("q", bytes(8 * size))
        self._lines = array("I", bytes(4 * size))
        self._mask = size - 1
        self._used = 0

    def __len__(self) -> int:
        return self._used

    def setdefault(self, digest: int, line: int) -> int:
        """The first line recorded for digest; records `line` when there is none yet."""
        hashes, lines, mask = self._hashes, self._lines, self._mask
        i = digest & mask
        while True:
            first = lines[i]
            if not first:
                hashes[i], lines[i] = digest, line
                self._used += 1
                if self._used * 2 > mask:  # keep at most half full: probes stay short
                    self._grow()
                return line
            if hashes[i] == digest:
                return first
            i = (i + 1) & mask

    def get(self, digest: int) -> int | None:
        hashes, lines, mask = self._hashes, self._lines, self._mask
        i = digest & mask
        while True:
            first = lines[i]
            if not first:
                return None
            if hashes[i] == digest:
                return first
            i = (i + 1) & mask

    def _grow(self) -> None:
        old_hashes, old_lines = self._hashes, self._lines
        self.__init__(2 * (self._mask + 1))  # type: ignore[misc]
        for digest, line in zip(old_hashes, old_lines, strict=True):
            if line:
                self.setdefault(digest, line)
