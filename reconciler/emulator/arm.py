"""The ARM control plane for deployments: `PUT`/`GET`/`DELETE .../deployments/{name}`, the
list, and the long-running operations they start (`Azure-AsyncOperation` status documents,
`Location` result URLs).

A new deployment answers 201 (`Accepted`), a changed one 200 (`Accepted`, the old model keeps
serving until `Succeeded`), an unchanged one 200 (`Succeeded`, no operation), the same PUT
again while it provisions 200 (so a retried PUT is safe), a different one then 409; a delete of an
existing deployment answers 202, of a missing one 204. At most `limits.fine_tuned_deployments`
fine-tuned deployments per resource. States move on the clock (`deployments`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from reconciler.emulator import catalog, deployments
from reconciler.emulator.azure_jobs import find_checkpoint
from reconciler.emulator.context import Context, json_body, json_response, new_id
from reconciler.emulator.errors import ApiError

PROVIDER = "providers/Microsoft.CognitiveServices"
ACCOUNT = f"/subscriptions/<sub>/resourceGroups/<rg>/{PROVIDER}/accounts/<account>"
LOCATION = f"/subscriptions/<sub>/{PROVIDER}/locations/<location>"
RETRY_AFTER = "1"  # seconds ARM asks pollers to wait
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,63}")


def _bad(message: str, target: str, code: str = "InvalidResourceProperties") -> ApiError:
    return ApiError(400, message, param=target, code=code)


def _check_resource(ctx: Context, sub: str, rg: str, account: str) -> None:
    """The emulated resource answers only for the names it was given (any, when unset)."""
    s = ctx.resource()
    if s.subscription is not None and sub != s.subscription:
        raise ApiError(404, f"The subscription '{sub}' could not be found.",
                       code="SubscriptionNotFound")
    if s.resource_group is not None and rg != s.resource_group:
        raise ApiError(404, f"Resource group '{rg}' could not be found.",
                       code="ResourceGroupNotFound")
    if s.account is not None and account != s.account:
        raise ApiError(404, f"The Resource 'Microsoft.CognitiveServices/accounts/{account}' "
                       f"under resource group '{rg}' was not found.", code="ResourceNotFound")


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def _deployment(row: dict[str, Any], state: str, sub: str, rg: str,
                account: str) -> dict[str, Any]:
    name, doc = row["name"], row["doc"]
    return {
        "id": f"/subscriptions/{sub}/resourceGroups/{rg}/{PROVIDER}/accounts/{account}"
              f"/deployments/{name}",
        "name": name, "type": "Microsoft.CognitiveServices/accounts/deployments",
        "sku": doc["sku"],
        "properties": {"model": doc["model"], "provisioningState": state,
                       "versionUpgradeOption": "NoAutoUpgrade",
                       "capabilities": {"chatCompletion": "true"}},
        "systemData": {"createdAt": _iso(row["created_at"]),
                       "lastModifiedAt": _iso(row["changed_at"])},
    }


def _alive(ctx: Context, name: str) -> tuple[dict[str, Any] | None, deployments.DeploymentView]:
    row = ctx.store.get_deployment(name)
    if row is None:
        return None, deployments.GONE
    state = deployments.view(row, ctx.now(), ctx.speed)
    return (row, state) if state.state is not None else (None, deployments.GONE)


def _not_found(name: str, account: str) -> ApiError:
    return ApiError(404, f"Deployment '{name}' was not found under account '{account}'.",
                    code="DeploymentNotFound")


# -- requests --------------------------------------------------------------------------------


def _requested(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """The stored document of a PUT body: sku, model, and what the model serves."""
    sku = body.get("sku")
    if not isinstance(sku, dict):
        raise _bad("The deployment needs a 'sku' with a name and a capacity.", "sku")
    sku_name = deployments.canonical_sku(sku.get("name"))
    if sku_name is None:
        raise _bad(f"Unsupported sku name {sku.get('name')!r}: expected one of "
                   f"{', '.join(deployments.SKUS)}.", "sku.name")
    capacity = sku.get("capacity", 1)
    if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
        raise _bad(f"Invalid capacity {capacity!r}: an integer of at least 1.", "sku.capacity",
                   "InvalidCapacity")
    properties = body.get("properties")
    model = properties.get("model") if isinstance(properties, dict) else None
    if not isinstance(model, dict) or not isinstance(model.get("name"), str):
        raise _bad("The deployment needs 'properties.model' with a format and a name.",
                   "properties.model")
    if str(model.get("format", "OpenAI")).lower() != "openai":
        raise _bad(f"Unsupported model format {model.get('format')!r}: expected OpenAI.",
                   "properties.model.format")
    serving = _serving(ctx, model["name"], model.get("version"))
    wire = {"format": "OpenAI", "name": model["name"], "version": str(model.get("version", "1"))}
    return {"sku": {"name": sku_name, "capacity": capacity}, "model": wire, "serving": serving,
            "fine_tuned": catalog.is_fine_tuned(serving)}


def _serving(ctx: Context, name: str, version: Any) -> str:
    """The model a deployment of `name` answers with: a fine-tuned model of this resource,
    one of its checkpoints (by `ftchkpt-` id or `:ckpt-step-N` name), or a base model."""
    if catalog.live_job(ctx, name) is not None:
        return name
    checkpoint_of = find_checkpoint(ctx, name)
    if checkpoint_of is not None:
        return checkpoint_of
    for candidate in (name, f"{name}-{version}"):
        if catalog.is_base(candidate):
            return candidate
    raise _bad(f"The model '{name}' is not supported or does not exist in this resource.",
               "properties.model.name", "DeploymentModelNotSupported")


def _check_room(ctx: Context, name: str, doc: dict[str, Any]) -> None:
    if not doc["fine_tuned"]:
        return
    limit = ctx.resource().limits.fine_tuned_deployments
    others = [row for row in ctx.store.all_deployments()
              if row["name"] != name and row["doc"]["fine_tuned"]
              and deployments.view(row, ctx.now(), ctx.speed).state is not None]
    if len(others) >= limit:
        raise ApiError(400, f"The resource already has {len(others)} fine-tuned model "
                       f"deployments, the maximum of {limit}; delete one first.",
                       code="QuotaExceeded")


def _operation(ctx: Context, request: Request, sub: str, kind: str,
               name: str, started: float) -> dict[str, str]:
    """Start a long-running operation; the headers that let a client follow it."""
    op = new_id("op-", 24)
    ctx.store.insert_operation(op, kind, name, started)
    version = request.args.get("api-version", "")
    base = f"{request.host_url}subscriptions/{sub}/{PROVIDER}/locations/{ctx.resource().location}"
    return {"Azure-AsyncOperation": f"{base}/operationStatuses/{op}?api-version={version}",
            "Location": f"{base}/operationResults/{op}?api-version={version}",
            "Retry-After": RETRY_AFTER}


# -- endpoints -------------------------------------------------------------------------------


def put_deployment(ctx: Context, request: Request, sub: str, rg: str, account: str,
                   name: str) -> Response:
    _check_resource(ctx, sub, rg, account)
    if not _NAME.fullmatch(name):
        raise _bad(f"Invalid deployment name {name!r}: 2 to 64 letters, digits, '.', '-' or "
                   "'_', starting with a letter or digit.", "name", "InvalidResourceName")
    doc = _requested(ctx, json_body(request))
    row, state = _alive(ctx, name)
    if row is not None and row["doc"] == doc and state.state in ("Accepted", "Creating"):
        return _in_progress(ctx, request, sub, rg, account, row, state.state)
    if state.state in ("Accepted", "Creating", "Deleting"):
        raise ApiError(409, f"Another operation is in progress on deployment '{name}' "
                       f"(provisioningState {state.state}); retry when it has finished.",
                       code="RequestConflict")
    _check_room(ctx, name, doc)
    if row is not None and row["doc"] == doc:
        return json_response(_deployment(row, "Succeeded", sub, rg, account))
    now = ctx.now()
    new = {"name": name, "doc": doc, "changed_at": now, "deleting_at": None,
           "created_at": row["created_at"] if row else now,
           "last_used_at": row["last_used_at"] if row else None,
           "previous_model": state.serving}
    ctx.store.put_deployment(new)
    headers = _operation(ctx, request, sub, "put", name, now)
    headers.pop("Location")  # ARM's PUT is final-state-via azure-async-operation
    return json_response(_deployment(new, "Accepted", sub, rg, account),
                         200 if row else 201, headers)


def _in_progress(ctx: Context, request: Request, sub: str, rg: str, account: str,
                 row: dict[str, Any], state: str) -> Response:
    """A repeated PUT (a client retrying after a lost answer) joins the operation under way."""
    headers = _operation(ctx, request, sub, "put", row["name"], row["changed_at"])
    headers.pop("Location")
    return json_response(_deployment(row, state, sub, rg, account), 200, headers)


def get_deployment(ctx: Context, request: Request, sub: str, rg: str, account: str,
                   name: str) -> dict[str, Any]:
    _check_resource(ctx, sub, rg, account)
    row, state = _alive(ctx, name)
    if row is None or state.state is None:
        raise _not_found(name, account)
    return _deployment(row, state.state, sub, rg, account)


def list_deployments(ctx: Context, request: Request, sub: str, rg: str,
                     account: str) -> dict[str, Any]:
    _check_resource(ctx, sub, rg, account)
    out = []
    for row in ctx.store.all_deployments():
        state = deployments.view(row, ctx.now(), ctx.speed).state
        if state is not None:
            out.append(_deployment(row, state, sub, rg, account))
    return {"value": out}


def delete_deployment(ctx: Context, request: Request, sub: str, rg: str, account: str,
                      name: str) -> Response:
    _check_resource(ctx, sub, rg, account)
    row, state = _alive(ctx, name)
    if row is None:
        return Response(status=204)
    started = row["deleting_at"] if state.state == "Deleting" else ctx.now()
    if state.state != "Deleting":
        ctx.store.update_deployment(name, deleting_at=started)
    return Response(status=202, headers=_operation(ctx, request, sub, "delete", name, started))


def operation_status(ctx: Context, request: Request, sub: str, location: str,
                     op: str) -> dict[str, Any]:
    row = _operation_or_404(ctx, op)
    status = deployments.operation_status(row["kind"], row["started_at"], ctx.now(), ctx.speed)
    out = {"id": f"/subscriptions/{sub}/{PROVIDER}/locations/{location}/operationStatuses/{op}",
           "name": op, "status": status, "startTime": _iso(row["started_at"])}
    if status == "Succeeded":
        needed = deployments.READY_SECONDS if row["kind"] == "put" else deployments.DELETE_SECONDS
        out["endTime"] = _iso(row["started_at"] + needed / ctx.speed)
    return out


def operation_result(ctx: Context, request: Request, sub: str, location: str,
                     op: str) -> Response:
    row = _operation_or_404(ctx, op)
    status = deployments.operation_status(row["kind"], row["started_at"], ctx.now(), ctx.speed)
    if status == "InProgress":
        return Response(status=202, headers={"Location": request.url,
                                             "Retry-After": RETRY_AFTER})
    return Response(status=204)


def _operation_or_404(ctx: Context, op: str) -> dict[str, Any]:
    row = ctx.store.get_operation(op)
    if row is None:
        raise ApiError(404, f"The operation '{op}' was not found.", code="OperationNotFound")
    return row


RULES = [
    Rule(f"{ACCOUNT}/deployments", methods=["GET"], endpoint=list_deployments),
    Rule(f"{ACCOUNT}/deployments/<name>", methods=["PUT"], endpoint=put_deployment),
    Rule(f"{ACCOUNT}/deployments/<name>", methods=["GET"], endpoint=get_deployment),
    Rule(f"{ACCOUNT}/deployments/<name>", methods=["DELETE"], endpoint=delete_deployment),
    Rule(f"{LOCATION}/operationStatuses/<op>", methods=["GET"], endpoint=operation_status),
    Rule(f"{LOCATION}/operationResults/<op>", methods=["GET"], endpoint=operation_result),
]
