"""Timestamps as ftctl shows them: UTC, to the minute (to the second for job events), and the
UTC date that retirement warnings are counted from. One format for every command. Stdlib only.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_minute(ts: float) -> str:
    """`2026-11-29 03:40` (UTC)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")


def utc_second(ts: float) -> str:
    """`2026-11-29 03:40:12` (UTC)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def utc_date(ts: float) -> str:
    """`2026-11-29`: the UTC date of `ts`."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")
