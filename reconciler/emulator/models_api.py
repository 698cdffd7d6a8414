"""Endpoints for models (list, retrieve, delete), checkpoint permissions, and inference
(`/chat/completions`, `/completions`) so that checks can query a fine-tuned model.

A fine-tuned model answers with the reply of its most similar training example (word overlap,
ties to the earliest line: deterministic); a base model answers with a fixed reply.
"""

from __future__ import annotations

import functools
import json
import os
import re
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request

from reconciler.emulator import catalog, lifecycle
from reconciler.emulator.context import Context, json_body, limit_arg, new_id, page
from reconciler.emulator.errors import ApiError, invalid, not_found

BASE_REPLY = "This is a reply from the ftctl local emulator's base model."
_MAX_EXAMPLES = 20000
_WORD = re.compile(r"\w+")


def list_models(ctx: Context, request: Request) -> dict[str, Any]:
    return {"object": "list", "data": catalog.all_models(ctx)}


def get_model(ctx: Context, request: Request, model: str) -> dict[str, Any]:
    found = catalog.find_model(ctx, model)
    if found is None:
        raise not_found("model", model, "model")
    return found


def delete_model(ctx: Context, request: Request, model: str) -> dict[str, Any]:
    if catalog.is_base(model):
        raise ApiError(403, f"You do not have permission to delete the base model {model}.",
                       param="model", code="model_not_owned")
    if catalog.live_job(ctx, model) is None:
        raise not_found("model", model, "model")
    ctx.store.delete_model(model, int(ctx.now()))
    return {"id": model, "object": "model", "deleted": True}


# -- inference -------------------------------------------------------------------------------


def _examples(ctx: Context, model: str) -> tuple[tuple[frozenset[str], str], ...]:
    """(prompt words, reply) of each example of the model's training file; () for a base
    model."""
    if catalog.is_base(model):
        return ()
    job = catalog.live_job(ctx, model)
    if job is None:
        raise ApiError(404, f"The model `{model}` does not exist or you do not have access to it.",
                       param="model", code="model_not_found")
    row = ctx.store.get_file(job["doc"]["training_file"])
    if row is None:
        return ()
    path = ctx.store.blob_path(row["blob"])
    stat = os.stat(path)
    return _read_examples(path, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _read_examples(blob_path: str, size: int, mtime_ns: int
                   ) -> tuple[tuple[frozenset[str], str], ...]:
    # A stored file never changes (size and mtime are in the key all the same), so it is
    # parsed once, not on every request: an evaluation asks a model many questions in a row.
    pairs = []
    with open(blob_path, "rb") as fh:
        for n, line in enumerate(fh):
            if n >= _MAX_EXAMPLES:
                break
            pair = _pair(line)
            if pair:
                pairs.append((frozenset(_WORD.findall(pair[0].lower())), pair[1]))
    return tuple(pairs)


def _pair(line: bytes) -> tuple[str, str] | None:
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("prompt"), str) and isinstance(obj.get("completion"), str):
        return obj["prompt"], obj["completion"]
    messages = obj.get("messages")
    if not isinstance(messages, list):
        return None
    prompt = " ".join(str(m.get("content") or "") for m in messages
                      if isinstance(m, dict) and m.get("role") == "user")
    replies = [m.get("content") for m in messages
               if isinstance(m, dict) and m.get("role") == "assistant" and m.get("content")]
    return (prompt, str(replies[-1])) if replies else None


def _answer(ctx: Context, model: str, prompt: str) -> str:
    examples = _examples(ctx, model)
    if not examples:
        return BASE_REPLY
    words = frozenset(_WORD.findall(prompt.lower()))

    def score(pair: tuple[frozenset[str], str]) -> float:
        theirs = pair[0]
        union = words | theirs
        return len(words & theirs) / len(union) if union else 0.0

    best = max(range(len(examples)), key=lambda i: (score(examples[i]), -i))
    return examples[best][1]


def _usage(prompt: str, reply: str) -> dict[str, int]:
    p, c = max(1, len(prompt) // 4), max(1, len(reply) // 4)
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def chat_completions(ctx: Context, request: Request) -> dict[str, Any]:
    body = json_body(request)
    model, messages = body.get("model"), body.get("messages")
    if not isinstance(model, str) or not model:
        raise invalid("Missing required parameter: 'model'.", "model")
    if not isinstance(messages, list) or not messages:
        raise invalid("'messages' must be a non-empty list.", "messages")
    prompt = " ".join(str(m.get("content") or "") for m in messages
                      if isinstance(m, dict) and m.get("role") == "user")
    reply = _answer(ctx, model, prompt)
    return {
        "id": new_id("chatcmpl-"), "object": "chat.completion", "created": int(ctx.now()),
        "model": model, "system_fingerprint": None,
        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                     "message": {"role": "assistant", "content": reply, "refusal": None}}],
        "usage": _usage(prompt, reply),
    }


def completions(ctx: Context, request: Request) -> dict[str, Any]:
    body = json_body(request)
    model, prompt = body.get("model"), body.get("prompt")
    if not isinstance(model, str) or not model:
        raise invalid("Missing required parameter: 'model'.", "model")
    if isinstance(prompt, list):
        prompt = " ".join(str(p) for p in prompt)
    if not isinstance(prompt, str):
        raise invalid("'prompt' must be a string.", "prompt")
    reply = _answer(ctx, model, prompt)
    return {
        "id": new_id("cmpl-"), "object": "text_completion", "created": int(ctx.now()),
        "model": model,
        "choices": [{"index": 0, "text": reply, "logprobs": None, "finish_reason": "stop"}],
        "usage": _usage(prompt, reply),
    }


# -- checkpoint permissions ------------------------------------------------------------------


def _checkpoint_exists(ctx: Context, name: str) -> bool:
    model, _, step = name.rpartition(":ckpt-step-")
    if not model:
        return catalog.live_job(ctx, name) is not None
    job = ctx.store.job_by_model(model)
    if job is None or not step.isdigit():
        return False
    ckpts = lifecycle.checkpoints(job, ctx.view(job), ctx.speed)
    return any(c["step_number"] == int(step) for c in ckpts)


def _permission(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "object": "checkpoint.permission",
            "created_at": row["created_at"], "project_id": row["project_id"]}


def create_permissions(ctx: Context, request: Request, checkpoint: str) -> dict[str, Any]:
    if not _checkpoint_exists(ctx, checkpoint):
        raise not_found("checkpoint", checkpoint, "fine_tuned_model_checkpoint")
    ids = json_body(request).get("project_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise invalid("'project_ids' must be a non-empty list of project ids.", "project_ids")
    rows = []
    for project in ids:
        row = {"id": new_id("cp_"), "checkpoint": checkpoint, "project_id": project,
               "created_at": int(ctx.now())}
        ctx.store.insert_permission(row)
        rows.append(_permission(row))
    return page(rows, len(rows), ids=True)


def list_permissions(ctx: Context, request: Request, checkpoint: str) -> dict[str, Any]:
    if not _checkpoint_exists(ctx, checkpoint):
        raise not_found("checkpoint", checkpoint, "fine_tuned_model_checkpoint")
    limit = limit_arg(request, 10, 10000)
    rows = [_permission(r) for r in ctx.store.list_permissions(checkpoint)]
    if request.args.get("order") == "ascending":
        rows.reverse()
    project = request.args.get("project_id")
    if project:
        rows = [r for r in rows if r["project_id"] == project]
    after = request.args.get("after")
    if after:
        ids = [r["id"] for r in rows]
        rows = rows[ids.index(after) + 1 :] if after in ids else rows
    return page(rows[: limit + 1], limit, ids=True)


def delete_permission(
    ctx: Context, request: Request, checkpoint: str, permission_id: str
) -> dict[str, Any]:
    if not ctx.store.delete_permission(checkpoint, permission_id):
        raise not_found("checkpoint permission", permission_id, "permission_id")
    return {"id": permission_id, "object": "checkpoint.permission", "deleted": True}


_PERMS = "/v1/fine_tuning/checkpoints/<checkpoint>/permissions"
RULES = [
    Rule("/v1/models", methods=["GET"], endpoint=list_models),
    Rule("/v1/models/<model>", methods=["GET"], endpoint=get_model),
    Rule("/v1/models/<model>", methods=["DELETE"], endpoint=delete_model),
    Rule("/v1/chat/completions", methods=["POST"], endpoint=chat_completions),
    Rule("/v1/completions", methods=["POST"], endpoint=completions),
    Rule(_PERMS, methods=["POST"], endpoint=create_permissions),
    Rule(_PERMS, methods=["GET"], endpoint=list_permissions),
    Rule(_PERMS + "/<permission_id>", methods=["DELETE"], endpoint=delete_permission),
]
