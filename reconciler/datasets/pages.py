"""Handing back the pages a native library only read while it loaded (Linux, best effort).

bpe-openai builds its tokenizer tables from encoding data embedded in its shared library. Once
they are built, the ~35 MB of the file that loading read are never read again, yet they stay
resident in the process and in every worker forked from it, where they count in its memory.
MADV_PAGEOUT asks the kernel to reclaim them now, as it would under memory pressure. Only
read-only mappings are advised: their pages are clean copies of the file, so nothing is lost,
and a page that is needed again is read back from the file. Elsewhere, or on kernels before
5.4 (no MADV_PAGEOUT), nothing happens.
"""

from __future__ import annotations

import sys

MADV_PAGEOUT = 21
LIBRARIES = ("/bpe_openai/_bindings",)


def release_library_pages(libraries: tuple[str, ...] = LIBRARIES) -> int:
    """Advise the kernel to reclaim the read-only pages mapped from `libraries` (path parts);
    returns the number of bytes advised (0 when nothing could be)."""
    if not sys.platform.startswith("linux"):
        return 0
    import ctypes  # here, not at import time: only runs that count tokens need it

    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
            ranges = [_range(fields[0]) for fields in map(str.split, f)
                      if len(fields) >= 6 and fields[1] == "r--p"
                      and any(name in fields[5] for name in libraries)]
        madvise = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return 0
    madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    advised = 0
    for start, end in ranges:
        if madvise(start, end - start, MADV_PAGEOUT) == 0:
            advised += end - start
    return advised


def _range(text: str) -> tuple[int, int]:
    start, end = text.split("-")
    return int(start, 16), int(end, 16)
