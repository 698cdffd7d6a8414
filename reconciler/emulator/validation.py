"""Dataset checks the real service runs in validating_files, and the token count it bills.

`analyse(path, kind)` streams a JSONL file once and returns `{"n_examples", "tokens", "error"}`
where error is None or `{"code", "message", "line"}`. Kinds: chat, completion, dpo,
reinforcement. Tokens are approximated (about four characters per token): the emulator bills
nothing, it only needs a stable, size-proportional figure.
"""

from __future__ import annotations

import json
from typing import Any

MIN_EXAMPLES = 10
COMPLETION_MODELS = ("babbage-002", "davinci-002")
_ROLES = {"system", "user", "assistant", "tool", "function", "developer"}


def kind_for(method: str, base_model: str) -> str:
    """Which line format a (method, base model) pair needs."""
    if method == "supervised" and base_model.startswith(COMPLETION_MODELS):
        return "completion"
    return {"supervised": "chat"}.get(method, method)


def analyse(path: str, kind: str) -> dict[str, Any]:
    n, tokens = 0, 0
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            problem, count = _check_line(raw, kind)
            if problem:
                return _fail(n, tokens, f"Line {number}: {problem}", number)
            n += 1
            tokens += count
    if n < MIN_EXAMPLES:
        message = f"File has {n} example(s), but must have at least {MIN_EXAMPLES} examples"
        return _fail(n, tokens, message, None)
    return {"n_examples": n, "tokens": tokens, "error": None}


def _fail(n: int, tokens: int, message: str, line: int | None) -> dict[str, Any]:
    return {"n_examples": n, "tokens": tokens, "error": {"message": message, "line": line}}


def _check_line(raw: bytes, kind: str) -> tuple[str | None, int]:
    try:
        obj = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return "is not valid JSON. Expected file to have JSONL format.", 0
    if not isinstance(obj, dict):
        return "is not a JSON object. Expected every line to be a JSON dictionary.", 0
    checker = {
        "chat": _check_chat,
        "completion": _check_completion,
        "dpo": _check_dpo,
        "reinforcement": _check_reinforcement,
    }[kind]
    problem = checker(obj)
    return problem, _tokens(obj)


def _check_messages(messages: Any, *, need_assistant: bool) -> str | None:
    if not isinstance(messages, list) or not messages:
        return 'key "messages" must be a non-empty list of messages.'
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or msg.get("role") not in _ROLES:
            return f'messages[{i}] has a missing or unrecognised "role".'
        if msg.get("content") is None and not msg.get("tool_calls") and not msg.get(
            "function_call"
        ):
            return f'messages[{i}] is missing "content".'
    if need_assistant and not any(m.get("role") == "assistant" for m in messages):
        return "has no assistant message to train on."
    return None


def _check_chat(obj: dict[str, Any]) -> str | None:
    if "messages" not in obj:
        if "prompt" in obj and "completion" in obj:
            return 'is in prompt/completion format; this model needs the chat "messages" format.'
        return 'is missing the "messages" key.'
    return _check_messages(obj["messages"], need_assistant=True)


def _check_completion(obj: dict[str, Any]) -> str | None:
    if not isinstance(obj.get("prompt"), str) or not isinstance(obj.get("completion"), str):
        return 'needs string "prompt" and "completion" keys for this base model.'
    return None


def _check_dpo(obj: dict[str, Any]) -> str | None:
    inp = obj.get("input")
    if not isinstance(inp, dict):
        return 'is missing the "input" object with "messages" (preference format).'
    problem = _check_messages(inp.get("messages"), need_assistant=False)
    if problem:
        return f"input: {problem}"
    for key in ("preferred_output", "non_preferred_output"):
        value = obj.get(key)
        if not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], dict):
            return f'"{key}" must be a list holding one assistant message.'
    return None


def _check_reinforcement(obj: dict[str, Any]) -> str | None:
    problem = _check_messages(obj.get("messages"), need_assistant=False)
    if problem:
        return problem
    if obj["messages"][-1].get("role") != "user":
        return "the last message must be from the user for reinforcement fine-tuning."
    return None


def _tokens(obj: Any) -> int:
    """About one token per four characters of text, at least one per message."""
    if isinstance(obj, str):
        return max(1, len(obj) // 4)
    if isinstance(obj, dict):
        return sum(_tokens(v) for v in obj.values())
    if isinstance(obj, list):
        return sum(_tokens(v) for v in obj)
    return 0
