"""Model names: dated snapshots and their aliases, and fine-tuned ids (OpenAI's `ft:...`,
Azure's `<base>.ft-<hex>`) and the base model they name.

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
    """The base model a fine-tuned id names (ft:BASE:org:suffix:id, or Azure's BASE.ft-HEX);
    None for anything else."""
    if not is_fine_tuned_id(model):
        return None
    return base_of(model) or None


AZURE_FT_MARK = ".ft-"  # Azure OpenAI's fine-tuned ids: `<base>.ft-<hex>`


def base_of(model: str) -> str:
    """The base model of a model id: `ft:gpt-4o-mini-2024-07-18:org:suffix:id` (OpenAI) or
    `gpt-4o-mini-2024-07-18.ft-0e20...` (Azure) -> `gpt-4o-mini-2024-07-18`."""
    if model.startswith("ft:"):
        return model[3:].split(":", 1)[0]
    if AZURE_FT_MARK in model:
        return model.split(AZURE_FT_MARK, 1)[0]
    return model


def is_fine_tuned_id(model: str) -> bool:
    """Whether a model id names a fine-tuned model (OpenAI's `ft:` or Azure's `.ft-` form)."""
    return model.startswith("ft:") or AZURE_FT_MARK in model
