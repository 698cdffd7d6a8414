"""The models the emulator knows: a fixed list of base models, plus every fine-tuned model a
succeeded job produced that has not been deleted.
"""

from __future__ import annotations

from typing import Any

from reconciler.emulator.context import ORG_ID, Context

# (id, created, owned_by, shutdown_date). One retiring model lets drift warnings be exercised.
BASE_MODELS: tuple[tuple[str, int, str, str | None], ...] = (
    ("gpt-4o-mini-2024-07-18", 1721172741, "system", None),
    ("gpt-4o-2024-08-06", 1722814719, "system", None),
    ("gpt-4.1-mini-2025-04-14", 1744317547, "system", None),
    ("gpt-4.1-nano-2025-04-14", 1744321025, "system", None),
    ("gpt-4.1-2025-04-14", 1744316542, "system", None),
    ("gpt-3.5-turbo-0125", 1706048358, "system", "2026-09-28"),
    ("babbage-002", 1692634615, "system", "2027-02-15"),
    ("davinci-002", 1692634301, "system", "2027-02-15"),
    ("o4-mini-2025-04-16", 1744133506, "system", None),
    ("gpt-4o-2024-05-13", 1715368132, "system", None),
)
_BASE_IDS = {m[0] for m in BASE_MODELS}
# Served only by /completions; every other model only by /chat/completions, as on OpenAI.
COMPLETION_BASES = ("babbage-002", "davinci-002")

# Listed, but refused by job creation: OpenAI's model list holds many models it cannot
# fine-tune, and ftctl must tell them apart from the ones it can.
NOT_FINE_TUNABLE = frozenset({"gpt-4o-2024-05-13"})


def is_base(model: str) -> bool:
    return model in _BASE_IDS


def is_fine_tuned(model: str) -> bool:
    """Whether `model` has a fine-tuned model's id: `ft:...` (OpenAI) or `<base>.ft-<hex>`
    (Azure)."""
    return model.startswith("ft:") or ".ft-" in model


def is_fine_tunable(model: str) -> bool:
    """A base model job creation accepts (fine-tuned models are checked by live_job)."""
    return is_base(model) and model not in NOT_FINE_TUNABLE


def root_base(model: str) -> str:
    """The base model under `model` (an ft: id names its base in its second segment, an
    Azure id before its `.ft-`)."""
    if model.startswith("ft:"):
        return model.split(":")[1]
    return model.partition(".ft-")[0]


def is_completion_model(model: str) -> bool:
    """A legacy completion base, or a model fine-tuned from one (ft:babbage-002:...)."""
    return root_base(model) in COMPLETION_BASES


def base_object(entry: tuple[str, int, str, str | None]) -> dict[str, Any]:
    ident, created, owner, shutdown = entry
    return {"id": ident, "object": "model", "created": created, "owned_by": owner,
            "shutdown_date": shutdown}


def live_job(ctx: Context, model: str) -> dict[str, Any] | None:
    """The succeeded job behind fine-tuned model `model`, unless the model was deleted."""
    if not is_fine_tuned(model) or model in ctx.store.deleted_models():
        return None
    job = ctx.store.job_by_model(model)
    if job is None or ctx.view(job).status != "succeeded":
        return None
    return job


def ft_object(job: dict[str, Any], finished_at: int | None) -> dict[str, Any]:
    return {"id": job["doc"]["fine_tuned_model"], "object": "model",
            "created": finished_at, "owned_by": ORG_ID, "shutdown_date": None}


def find_model(ctx: Context, model: str) -> dict[str, Any] | None:
    for entry in BASE_MODELS:
        if entry[0] == model:
            return base_object(entry)
    job = live_job(ctx, model)
    return ft_object(job, ctx.view(job).finished_at) if job else None


def all_models(ctx: Context) -> list[dict[str, Any]]:
    out = [base_object(e) for e in BASE_MODELS]
    jobs = ctx.store.jobs_with_models()
    for job, v in zip(jobs, ctx.views(jobs), strict=True):
        if v.status == "succeeded":
            out.append(ft_object(job, v.finished_at))
    return out
