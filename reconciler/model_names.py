"""Model names: dated snapshots and their aliases, and the base segment of a fine-tuned id.

Shared by the planner (does a job's model match its manifest) and the base-model checks of
validate and plan. Stdlib only.
"""

from __future__ import annotations

import re

_DATED = re.compile(r"^(?P<alias>.+)-\d{4}-\d{2}-\d{2}$")


def model_alias(model: str) -> str:
    """gpt-4o-mini-2024-07-18 -> gpt-4o-mini; anything else unchanged."""
    match = _DATED.match(model)
    return match.group("alias") if match else model


def models_match(a: str, b: str) -> bool:
    """Equal, or one is a dated snapshot of the other (two different dates do not match)."""
    return a == b or model_alias(a) == b or a == model_alias(b)


def ft_base(model: str) -> str | None:
    """The base segment of a fine-tuned id, ft:BASE:org:suffix:id -> BASE; None otherwise."""
    if not model.startswith("ft:"):
        return None
    parts = model.split(":")
    return parts[1] if len(parts) > 1 and parts[1] else None
