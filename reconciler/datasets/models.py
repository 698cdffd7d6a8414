"""What a base model implies for its dataset: tokenizer encoding, per-example token limit, format.

Pure lookups, no I/O. Encodings follow OpenAI's tokenizers (o200k_base for the gpt-4o, gpt-4.1
and o-series families; cl100k_base for gpt-3.5, gpt-4, babbage-002 and davinci-002). Limits are
the documented training-example contexts; an unknown model has an unknown limit
(None), which callers report rather than guess.
"""

from __future__ import annotations

from reconciler.model_names import base_of

O200K = "o200k_base"
CL100K = "cl100k_base"

_O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o")
_CL100K_PREFIXES = ("gpt-3.5", "gpt-4", "babbage-002", "davinci-002", "text-embedding")

# Training-example context per model (longest matching prefix wins).
EXAMPLE_LIMITS: tuple[tuple[str, int], ...] = (
    ("gpt-4o-2024-08-06", 65_536),
    ("gpt-4o-mini-2024-07-18", 65_536),
    ("gpt-4o-mini", 65_536),
    ("gpt-4o", 65_536),
    ("gpt-3.5-turbo-0125", 16_385),
    ("gpt-3.5-turbo-1106", 16_385),
    ("gpt-3.5-turbo-0613", 4_096),
    ("gpt-3.5-turbo", 16_385),
    ("babbage-002", 16_384),
    ("davinci-002", 16_384),
)

COMPLETION_MODELS = ("babbage-002", "davinci-002")


def encoding_for(model: str | None) -> str | None:
    """The tokenizer encoding of a (base or ft:) model, or None when the family is unknown."""
    if not model:
        return None
    name = base_of(model)
    # o200k first: "gpt-4o" must not fall into the "gpt-4" (cl100k) family.
    if name.startswith(_O200K_PREFIXES):
        return O200K
    if name.startswith(_CL100K_PREFIXES):
        return CL100K
    return None


def example_limit(model: str | None) -> int | None:
    """The per-example token limit of a model, or None when not known."""
    if not model:
        return None
    name = base_of(model)
    best: tuple[str, int] | None = None
    for prefix, limit in EXAMPLE_LIMITS:
        if name.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, limit)
    return best[1] if best else None


def wants_completion_format(model: str | None) -> bool | None:
    """True for prompt/completion models, False for chat models, None when unknown."""
    if not model:
        return None
    name = base_of(model)
    if name.startswith(COMPLETION_MODELS):
        return True
    return False if encoding_for(name) else None
