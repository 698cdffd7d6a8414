"""Handing memory a scan no longer uses back to the system (Linux with glibc; best effort).

Two kinds, both resident in the process (and in every worker forked from it) although nothing
will read them again:
- the pages of a native library read while it loaded: bpe-openai builds its tokenizer tables
  from encoding data embedded in its shared library, about 35 MB of which stay mapped after.
  MADV_DONTNEED drops them from this process (the kernel's file cache keeps them, as a cache).
  Only read-only mappings in which no page was ever copied (Anonymous: 0 kB in smaps) are
  advised: every page there is the file's own, so one needed again is simply read back, and
  nothing is lost. A mapping with copied pages (relocated data) is left alone.
- freed heap memory: glibc keeps what a long pass freed (read blocks, line lists, parts
  received from workers) for later use; malloc_trim returns it.
Elsewhere nothing happens.
"""

from __future__ import annotations

import sys
from typing import Any

MADV_DONTNEED = 4
LIBRARIES = ("/bpe_openai/_bindings",)


def release_library_pages(libraries: tuple[str, ...] = LIBRARIES) -> int:
    """Drop this process's pages of the read-only, never-copied mappings of `libraries` (path
    parts); returns the number of bytes advised (0 when nothing could be)."""
    libc = _libc()
    if libc is None:
        return 0
    try:
        ranges = _clean_read_only(libraries)
    except (OSError, ValueError):
        return 0
    import ctypes

    madvise = libc.madvise
    madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    advised = 0
    for start, end in ranges:
        if madvise(start, end - start, MADV_DONTNEED) == 0:
            advised += end - start
    return advised


def _clean_read_only(libraries: tuple[str, ...]) -> list[tuple[int, int]]:
    """Address ranges of the r--p mappings of `libraries` with no privately copied page."""
    found: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    with open("/proc/self/smaps", encoding="utf-8", errors="replace") as f:
        for line in f:
            fields = line.split()
            if not fields[0].endswith(":"):  # a mapping's header line
                wanted = (len(fields) >= 6 and fields[1] == "r--p"
                          and any(name in fields[5] for name in libraries))
                current = _range(fields[0]) if wanted else None
            elif current is not None and fields[0] == "Anonymous:":
                if fields[1] == "0":
                    found.append(current)
                current = None
    return found


def trim_heap() -> bool:
    """Return the heap's free memory to the system (glibc malloc_trim); False when unavailable."""
    libc = _libc()
    trim = getattr(libc, "malloc_trim", None)
    if trim is None:
        return False
    trim(0)
    return True


def _libc() -> Any:
    """The C library loaded in this process (None where there is no such thing to ask)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # here, not at import time: only runs that count tokens need it

    try:
        return ctypes.CDLL(None)
    except OSError:
        return None


def _range(text: str) -> tuple[int, int]:
    start, end = text.split("-")
    return int(start, 16), int(end, 16)
