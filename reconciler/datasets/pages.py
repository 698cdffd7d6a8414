"""Handing memory a scan no longer uses back to the system (Linux with glibc; best effort).

Two kinds, both resident in the process (and in every worker forked from it) although nothing
will read them again:
- the pages of a native library read while it loaded: bpe-openai builds its tokenizer tables
  from encoding data embedded in its shared library, about 35 MB of which stay resident after.
  MADV_PAGEOUT asks the kernel to reclaim them now, as it would under memory pressure. Only
  read-only mappings are advised: their pages are clean copies of the file, so nothing is
  lost, and a page needed again is read back. The kernel keeps pages another process maps
  too (their cost is then shared). Kernels before 5.4 have no MADV_PAGEOUT: nothing happens.
- freed heap memory: glibc keeps what a long pass freed (read blocks, line lists, parts
  received from workers) for later use; malloc_trim returns it.
Elsewhere nothing happens.
"""

from __future__ import annotations

import sys
from typing import Any

MADV_PAGEOUT = 21
LIBRARIES = ("/bpe_openai/_bindings",)


def release_library_pages(libraries: tuple[str, ...] = LIBRARIES) -> int:
    """Advise the kernel to reclaim the read-only pages mapped from `libraries` (path parts);
    returns the number of bytes advised (0 when nothing could be)."""
    libc = _libc()
    if libc is None:
        return 0
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
            ranges = [_range(fields[0]) for fields in map(str.split, f)
                      if len(fields) >= 6 and fields[1] == "r--p"
                      and any(name in fields[5] for name in libraries)]
    except OSError:
        return 0
    import ctypes

    madvise = libc.madvise
    madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    advised = 0
    for start, end in ranges:
        if madvise(start, end - start, MADV_PAGEOUT) == 0:
            advised += end - start
    return advised


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
