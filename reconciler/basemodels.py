"""Base models: which ones OpenAI fine-tunes, and whether a manifest's base model exists.

Pure, no I/O. A base model the provider does not have passes the schema and would only fail
at apply (HTTP 400). `validate` (no network) warns about a model that is not on the
fine-tunable list below, which may lag behind OpenAI; `plan` refuses a model the provider's
own model list (read in the same refresh) does not have. Both point at the manifest's
`model:` line and suggest the closest valid name.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable
from dataclasses import dataclass

from reconciler.diagnostics import Diagnostic, Severity
from reconciler.model_names import ft_base, model_alias, models_match
from reconciler.snapshot import RemoteModel
from reconciler.spec import Manifest, ParentRef

# Base models OpenAI fine-tunes. The first four are what its fine-tuning guide lists (snapshot
# 2026-05): supervised on the gpt-4.1 family, reinforcement on o4-mini. The others were
# fine-tunable before and are still served: gpt-4o and gpt-4o-mini, gpt-3.5-turbo, and the
# completion models babbage-002 and davinci-002 (the SDK's suggestions are among these).
FINE_TUNABLE = (
    "gpt-4.1-2025-04-14",
    "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano-2025-04-14",
    "o4-mini-2025-04-16",
    "gpt-4o-2024-08-06",
    "gpt-4o-mini-2024-07-18",
    "gpt-3.5-turbo",
    "gpt-3.5-turbo-0125",
    "gpt-3.5-turbo-1106",
    "gpt-3.5-turbo-0613",
    "babbage-002",
    "davinci-002",
)


@functools.lru_cache(maxsize=1024)  # pure; thousands of manifests name the same few models
def fine_tunable(model: str) -> bool:
    """On the list, as written or as a dated snapshot of a listed alias (or the other way);
    a fine-tuned model (ft:BASE:...) counts by its base."""
    base = ft_base(model) or model
    return any(models_match(base, known) for known in FINE_TUNABLE)


def closest(model: str, candidates: Iterable[str]) -> str | None:
    """The candidate a typo most likely meant, None when nothing is close."""
    found = difflib.get_close_matches(model, sorted(set(candidates)), n=1, cutoff=0.6)
    return found[0] if found else None


def _model_line(manifest: Manifest, address: str) -> dict[str, object]:
    return {"subject": manifest.spec.model_source or manifest.source, "address": address}


def static_check(manifest: Manifest) -> Diagnostic | None:
    """A warning (validate, no network) when spec.model is not on the fine-tunable list."""
    model = manifest.spec.model
    if isinstance(model, ParentRef) or fine_tunable(model):
        return None
    guess = closest(ft_base(model) or model, FINE_TUNABLE)
    hint = f"; did you mean {guess}?" if guess else ""
    return Diagnostic(
        severity=Severity.WARNING,
        summary=f"{model} is not a base model OpenAI lists as fine-tunable{hint}",
        detail="Fine-tunable: " + ", ".join(FINE_TUNABLE) + ". `ftctl plan` checks the "
               "provider's own model list.",
        code="not_fine_tunable",
        **_model_line(manifest, f"{manifest.name}.spec.model"),  # type: ignore[arg-type]
    )


@dataclass(frozen=True, slots=True)
class ProviderModels:
    """The provider's model ids (GET /models), indexed once per plan."""

    ids: frozenset[str]
    base_aliases: frozenset[str]

    @classmethod
    def of(cls, models: Iterable[RemoteModel]) -> ProviderModels:
        ids = frozenset(m.id for m in models)
        bases = frozenset(model_alias(i) for i in ids if not i.startswith("ft:"))
        return cls(ids=ids, base_aliases=bases)

    @property
    def lists_bases(self) -> bool:
        """Whether the list names any base model; if not, it cannot tell one is missing."""
        return bool(self.base_aliases)

    def has(self, model: str) -> bool:
        if model in self.ids or model.startswith("ft:"):
            return model in self.ids
        # A dated snapshot matches its alias either way round (essence.models_match).
        return model_alias(model) in self.ids or model in self.base_aliases


def provider_check(manifest: Manifest, models: ProviderModels) -> Diagnostic | None:
    """An error (plan) when the provider does not have spec.model: nothing can be trained."""
    model = manifest.spec.model
    if isinstance(model, ParentRef) or not models.lists_bases or models.has(model):
        return None
    same_kind = [i for i in models.ids if i.startswith("ft:") == model.startswith("ft:")]
    guess = closest(model, same_kind)
    hint = f"; did you mean {guess}?" if guess else ""
    return Diagnostic(
        severity=Severity.ERROR,
        summary=f"the provider has no model {model}{hint}",
        detail="spec.model must name a model the provider lists (GET /models) and can "
               "fine-tune. Nothing is planned for this model until it does.",
        code="unknown_base_model",
        # Addressed by name, as the planner's notes are (plan --target keeps them by name).
        **_model_line(manifest, manifest.name),  # type: ignore[arg-type]
    )
