"""Token counts per example, with the cookbook's overheads made explicit.

Chat: 3 per message, the tokens of the role, the text content (text parts of list content),
the name (+1) and tool-call names/arguments, 85 per image (low detail), +3 per example for
reply priming, plus the [TT] constants for declared tools. Prompt/completion: the two texts.
DPO: the input plus both outputs. Every count is approximate and never crashes on odd values.

The tokenizer is tiktoken when its encoding file is already cached (tiktoken downloads it
otherwise, which fails offline), else bpe-openai, which ships the encodings in its wheel.
Texts that repeat across examples (roles, names, system prompts) are counted once per process.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from collections.abc import Callable
from typing import Any

from reconciler.datasets.pages import release_library_pages

Counter = Callable[[str], int]

IMAGE_TOKENS = 85
# Roles whose message text usually repeats from example to example (one system prompt for the
# whole file): their counts are remembered, up to MEMO_ENTRIES texts of at most MEMO_CHARS.
_REPEATED_ROLES = frozenset(("system", "developer"))
MEMO_ENTRIES = 256
MEMO_CHARS = 8192
_TIKTOKEN_URLS = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}


@functools.lru_cache(maxsize=4)
def counter_for(encoding: str) -> Counter:
    """A str -> token count function for an encoding (loaded once per process)."""
    raw = _tiktoken_counter(encoding) or _bpe_counter(encoding)
    raw("load")  # the tables are built on first use: build them before handing pages back
    release_library_pages()

    def count(text: str) -> int:
        try:
            return raw(text)
        except UnicodeEncodeError:  # lone surrogates: count their replacement instead
            return raw(text.encode("utf-8", "replace").decode("utf-8"))

    return count


def _tiktoken_counter(encoding: str) -> Counter | None:
    cache = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
    cache = cache or os.path.join(tempfile.gettempdir(), "data-gym-cache")
    url = _TIKTOKEN_URLS.get(encoding)
    if url is None:
        return None
    if not os.path.exists(os.path.join(cache, hashlib.sha1(url.encode()).hexdigest())):
        return None
    try:
        import tiktoken

        enc = tiktoken.get_encoding(encoding)
    except Exception:  # noqa: BLE001 - any failure means "not available offline"
        return None
    return lambda text: len(enc.encode_ordinary(text))


def _bpe_counter(encoding: str) -> Counter:
    try:  # the Rust backend's count() skips building the token list
        from bpe_openai import _bindings

        return _bindings.tokenizer_for_encoding(encoding).count  # type: ignore[no-any-return]
    except (ImportError, AttributeError):
        import bpe_openai

        enc = bpe_openai.get_encoding(encoding)
        return lambda text: len(enc.encode_ordinary(text))


@functools.lru_cache(maxsize=4)
def _memo_for(encoding: str) -> dict[str, int]:
    """Remembered counts of repeated texts (roles, names, system prompts) for one encoding."""
    return {}


def _remembered(text: str, count: Counter, memo: dict[str, int]) -> int:
    n = memo.get(text)
    if n is None:
        n = count(text) if text else 0
        if len(memo) < MEMO_ENTRIES and len(text) <= MEMO_CHARS:
            memo[text] = n
    return n


def count_example(obj: dict[str, Any], encoding: str) -> int:
    """Tokens of one parsed example of any format (0 for shapes it cannot read)."""
    count = counter_for(encoding)
    if "messages" in obj:
        return _chat(obj.get("messages"), obj.get("tools") or obj.get("functions"), count, encoding)
    if "input" in obj:
        inp = obj["input"] if isinstance(obj["input"], dict) else {}
        n = _chat(inp.get("messages"), inp.get("tools"), count, encoding)
        for key in ("preferred_output", "non_preferred_output"):
            n += _messages(obj.get(key), count, encoding)
        return n
    return _text(obj.get("prompt"), count) + _text(obj.get("completion"), count)


def _text(value: object, count: Counter) -> int:
    return count(value) if isinstance(value, str) and value else 0


def _chat(messages: object, tools: object, count: Counter, encoding: str) -> int:
    n = _messages(messages, count, encoding) + 3
    if isinstance(tools, list) and tools:
        n += _tools(tools, count, encoding)
    return n


def _messages(messages: object, count: Counter, encoding: str) -> int:
    if not isinstance(messages, list):
        return 0
    memo = _memo_for(encoding)
    n = 0
    for m in messages:
        if not isinstance(m, dict):
            continue
        n += 3
        role, content = m.get("role"), m.get("content")
        if len(m) == 2 and type(role) is str and type(content) is str:
            # The usual {"role", "content": text} message, without the walk over its items.
            n += memo.get(role) or _remembered(role, count, memo)
            if role in _REPEATED_ROLES:
                n += _remembered(content, count, memo)
            else:
                n += count(content) if content else 0
            continue
        for key, value in m.items():
            if key == "weight":
                continue
            if key == "name":
                n += 1
            if type(value) is str:
                if key == "role" or key == "name":
                    n += _remembered(value, count, memo)
                else:
                    n += count(value) if value else 0
            elif key == "content" and isinstance(value, list):
                n += _parts(value, count)
            elif key in ("tool_calls", "function_call"):
                n += _calls(value, count)
    return n


def _parts(parts: list[Any], count: Counter) -> int:
    n = 0
    for part in parts:
        if isinstance(part, dict):
            if part.get("type") == "image_url":
                n += IMAGE_TOKENS
            else:
                n += _text(part.get("text") or part.get("refusal"), count)
    return n


def _calls(value: object, count: Counter) -> int:
    calls = value if isinstance(value, list) else [value]
    n = 0
    for call in calls:
        if isinstance(call, dict):
            fn = call.get("function", call)
            if isinstance(fn, dict):
                n += _text(fn.get("name"), count) + _text(fn.get("arguments"), count)
    return n


def _tools(tools: list[Any], count: Counter, encoding: str) -> int:
    """[TT] num_tokens_for_tools: func_init 7 (o200k) or 10 (cl100k), prop 3, enum, end 12."""
    n = 0
    func_init = 7 if encoding == "o200k_base" else 10
    for tool in tools:
        fn = tool.get("function", tool) if isinstance(tool, dict) else None
        if not isinstance(fn, dict):
            continue
        n += func_init + count(f"{fn.get('name', '')}:{str(fn.get('description', '')).rstrip('.')}")
        params = fn.get("parameters")
        props = params.get("properties") if isinstance(params, dict) else None
        if isinstance(props, dict) and props:
            n += 3
            for key, prop in props.items():
                n += 3
                prop = prop if isinstance(prop, dict) else {}
                enum = prop.get("enum")
                if isinstance(enum, list):
                    n -= 3
                    n += sum(3 + count(str(item)) for item in enum)
                desc = str(prop.get("description", "")).rstrip(".")
                n += count(f"{key}:{prop.get('type', '')}:{desc}")
    return n + 12
