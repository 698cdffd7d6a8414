"""Asking a model: `/chat/completions` and `/completions`, so that checks and `try` can query a
fine-tuned model.

A fine-tuned model answers with the reply of its most similar training example (word overlap,
ties to the earliest line: deterministic); a base model answers with a fixed reply. As on
OpenAI: each model is served by one endpoint only (the legacy completion bases and their
fine-tunes by `/completions`, every other model by `/chat/completions`); `max_tokens` cuts the
answer (finish_reason "length"); `stream: true` answers in server-sent events, one chunk per
token, then `data: [DONE]`.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterator
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from reconciler.emulator import catalog
from reconciler.emulator.context import Context, json_body, new_id
from reconciler.emulator.errors import ApiError, invalid

BASE_REPLY = "This is a reply from the ftctl local emulator's base model."
SYSTEM_FINGERPRINT = "fp_ftctl_emulator"  # the contract types it as a (non-null) string
_MAX_EXAMPLES = 20000
_WORD = re.compile(r"\w+")
_TOKEN = re.compile(r"\s*\S+")  # about one token: a word with the space before it


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


def _tokens(text: str) -> list[str]:
    """The answer in about-token pieces that join back to it (trailing space kept last)."""
    pieces = _TOKEN.findall(text)
    rest = text[sum(map(len, pieces)):]
    if rest and pieces:
        pieces[-1] += rest
    return pieces or ([text] if text else [])


def _max_tokens(body: dict[str, Any], *names: str) -> int | None:
    for name in names:
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise invalid(f"Invalid '{name}': expected an integer of at least 1.", name)
        return value
    return None


def _limited(reply: str, limit: int | None) -> tuple[list[str], str]:
    """The answer's pieces up to `limit` tokens, and the finish reason."""
    pieces = _tokens(reply)
    if limit is not None and len(pieces) > limit:
        return pieces[:limit], "length"
    return pieces, "stop"


def _usage(prompt: str, pieces: list[str]) -> dict[str, int]:
    p, c = max(1, len(prompt) // 4), max(1, len(pieces))
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def _wrong_endpoint(model: str, *, chat: bool) -> ApiError | None:
    """OpenAI's 404 for a model asked through the other endpoint (same words, same shape)."""
    if chat and catalog.is_completion_model(model):
        return ApiError(404, "This is not a chat model and thus not supported in the "
                        "v1/chat/completions endpoint. Did you mean to use v1/completions?",
                        param="model")
    if not chat and not catalog.is_completion_model(model):
        return ApiError(404, "This is a chat model and not supported in the v1/completions "
                        "endpoint. Did you mean to use v1/chat/completions?", param="model")
    return None


def _model_of(body: dict[str, Any], *, chat: bool) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise invalid("Missing required parameter: 'model'.", "model")
    refusal = _wrong_endpoint(model, chat=chat)
    if refusal is not None:
        raise refusal
    return model


def _reply(ctx: Context, body: dict[str, Any], model: str, prompt: str, id_prefix: str,
           limit_keys: tuple[str, ...]
           ) -> tuple[dict[str, Any], list[str], str, dict[str, int]]:
    """What both endpoints answer: the head fields, the answer's pieces (cut at the token
    limit), the finish reason and the usage."""
    limit = _max_tokens(body, *limit_keys)
    pieces, finish = _limited(_answer(ctx, model, prompt), limit)
    head = {"id": new_id(id_prefix), "created": int(ctx.now()), "model": model,
            "system_fingerprint": SYSTEM_FINGERPRINT}
    return head, pieces, finish, _usage(prompt, pieces)


def chat_completions(ctx: Context, request: Request) -> dict[str, Any] | Response:
    body = json_body(request)
    model = _model_of(body, chat=True)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise invalid("'messages' must be a non-empty list.", "messages")
    prompt = " ".join(str(m.get("content") or "") for m in messages
                      if isinstance(m, dict) and m.get("role") == "user")
    head, pieces, finish, usage = _reply(ctx, body, model, prompt, "chatcmpl-",
                                         ("max_completion_tokens", "max_tokens"))
    if body.get("stream") is True:
        return _event_stream(_chat_chunks(head, pieces, finish, usage, _wants_usage(body)))
    return {
        **head, "object": "chat.completion",
        "choices": [{"index": 0, "finish_reason": finish, "logprobs": None,
                     "message": {"role": "assistant", "content": "".join(pieces),
                                 "refusal": None}}],
        "usage": usage,
    }


def completions(ctx: Context, request: Request) -> dict[str, Any] | Response:
    body = json_body(request)
    model = _model_of(body, chat=False)
    prompt = body.get("prompt")
    if isinstance(prompt, list):
        prompt = " ".join(str(p) for p in prompt)
    if not isinstance(prompt, str):
        raise invalid("'prompt' must be a string.", "prompt")
    head, pieces, finish, usage = _reply(ctx, body, model, prompt, "cmpl-", ("max_tokens",))
    if body.get("stream") is True:
        return _event_stream(_text_chunks(head, pieces, finish, usage, _wants_usage(body)))
    return {
        **head, "object": "text_completion",
        "choices": [{"index": 0, "text": "".join(pieces), "logprobs": None,
                     "finish_reason": finish}],
        "usage": usage,
    }


# -- streaming ------------------------------------------------------------------------------


def _wants_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


def _chat_chunks(head: dict[str, Any], pieces: list[str], finish: str,
                 usage: dict[str, int], with_usage: bool) -> Iterator[dict[str, Any]]:
    chunk = {**head, "object": "chat.completion.chunk"}
    extra = {"usage": None} if with_usage else {}
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": "", "refusal": None}]
    deltas += [{"content": piece} for piece in pieces]
    for delta in deltas:
        yield {**chunk, **extra,
               "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}]}
    yield {**chunk, **extra,
           "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": finish}]}
    if with_usage:
        yield {**chunk, "choices": [], "usage": usage}


def _text_chunks(head: dict[str, Any], pieces: list[str], finish: str,
                 usage: dict[str, int], with_usage: bool) -> Iterator[dict[str, Any]]:
    chunk = {**head, "object": "text_completion"}
    for n, piece in enumerate(pieces):
        last = n == len(pieces) - 1
        yield {**chunk, "choices": [{"index": 0, "text": piece, "logprobs": None,
                                     "finish_reason": finish if last else None}]}
    if not pieces:
        yield {**chunk, "choices": [{"index": 0, "text": "", "logprobs": None,
                                     "finish_reason": finish}]}
    if with_usage:
        yield {**chunk, "choices": [], "usage": usage}


def _event_stream(chunks: Iterator[dict[str, Any]]) -> Response:
    """Server-sent events as OpenAI sends them: `data: {json}` blocks, then `data: [DONE]`."""
    lines = [f"data: {json.dumps(chunk)}\n\n" for chunk in chunks] + ["data: [DONE]\n\n"]
    return Response("".join(lines), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache"})


RULES = [
    Rule("/v1/chat/completions", methods=["POST"], endpoint=chat_completions),
    Rule("/v1/completions", methods=["POST"], endpoint=completions),
]
