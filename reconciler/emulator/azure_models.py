"""Models and inference in the Azure dialect.

Models: the shared catalog, shown with Azure's extra fields (status, capabilities, the base
model and job of a fine-tuned one). There is no model delete on Azure.
Inference addresses DEPLOYMENTS only, never model ids: `model` in a v1 body, or the path of
the dated API, names a deployment; the gateway answers `DeploymentNotFound` for a name with
no ready deployment, and otherwise hands the request to the shared handler with the model the
deployment serves. Each answer counts as activity, which keeps a deployment from being
removed as idle.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from reconciler.emulator import catalog, deployments, inference, models_api
from reconciler.emulator.azure_errors import deployment_not_found
from reconciler.emulator.azure_requests import with_json
from reconciler.emulator.context import Context, json_body
from reconciler.emulator.errors import invalid

Handler = Callable[[Context, Request], "dict[str, Any] | Response"]
_SAFE = {kind: {"filtered": False, "severity": "safe"}
         for kind in ("hate", "self_harm", "sexual", "violence")}


def azure_model(ctx: Context, obj: dict[str, Any]) -> dict[str, Any]:
    fine_tuned = catalog.is_fine_tuned(obj["id"])
    out = {**obj, "created_at": obj["created"], "status": "succeeded",
           "lifecycle_status": "generally-available",
           "capabilities": {"fine_tune": True, "inference": True, "completion": False,
                            "chat_completion": True, "embeddings": False},
           "deprecation": _deprecation(obj.get("shutdown_date"))}
    if fine_tuned:
        job = ctx.store.job_by_model(obj["id"])
        out["model"] = catalog.root_base(obj["id"])
        out["fine_tune"] = job["id"] if job else None
    return out


def _deprecation(shutdown: str | None) -> dict[str, int]:
    if shutdown is None:
        return {}
    day = date.fromisoformat(shutdown)
    return {"inference": int(datetime(day.year, day.month, day.day,
                                      tzinfo=UTC).timestamp())}


def list_models(ctx: Context, request: Request) -> dict[str, Any]:
    out = models_api.list_models(ctx, request)
    return {**out, "data": [azure_model(ctx, m) for m in out["data"]]}


def get_model(ctx: Context, request: Request, model: str) -> dict[str, Any]:
    return azure_model(ctx, models_api.get_model(ctx, request, model))


# -- inference through deployments ----------------------------------------------------------


def chat_v1(ctx: Context, request: Request) -> dict[str, Any] | Response:
    return _through(ctx, request, json_body(request).get("model"),
                    inference.chat_completions)


def completions_v1(ctx: Context, request: Request) -> dict[str, Any] | Response:
    return _through(ctx, request, json_body(request).get("model"), inference.completions)


def chat_dated(ctx: Context, request: Request, deployment: str) -> dict[str, Any] | Response:
    return _through(ctx, request, deployment, inference.chat_completions)


def completions_dated(ctx: Context, request: Request,
                      deployment: str) -> dict[str, Any] | Response:
    return _through(ctx, request, deployment, inference.completions)


def _through(ctx: Context, request: Request, name: Any,
             handler: Handler) -> dict[str, Any] | Response:
    if not isinstance(name, str) or not name:
        raise invalid("Missing required parameter: 'model' (the deployment name).", "model")
    row = ctx.store.get_deployment(name)
    state = deployments.view(row, ctx.now(), ctx.speed) if row else deployments.GONE
    if state.serving is None:
        raise deployment_not_found()
    result = handler(ctx, with_json(request, {**json_body(request), "model": state.serving}))
    ctx.store.update_deployment(name, last_used_at=ctx.now())
    if isinstance(result, dict):
        result = {**result, "prompt_filter_results": [
            {"prompt_index": 0, "content_filter_results": _SAFE}]}
        result["choices"] = [{**c, "content_filter_results": _SAFE} for c in result["choices"]]
    return result
