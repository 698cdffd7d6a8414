"""Structure checks for chat messages: supervised examples and reinforcement prompts.

Pure: a parsed line in, issues into an IssueSink out. Roles include developer and tool; content
is a string or a list of parts; weight is 0 or 1 and only on assistant messages; tool calls
carry arguments that parse as a JSON object and name a declared function; tool messages carry a
tool_call_id; images only in user messages, at most 10 per example.
"""

from __future__ import annotations

from typing import Any

import orjson

from reconciler.datasets.issues import IssueSink
from reconciler.datasets.reading import count_keys

MAX_IMAGES = 10
_COMMON = frozenset(("role", "content", "name"))
_PLAIN_ROLES = frozenset(("system", "developer", "user", "assistant"))
ALLOWED_KEYS: dict[str, frozenset[str]] = {
    "system": _COMMON,
    "developer": _COMMON,
    "user": _COMMON,
    "assistant": _COMMON | {"weight", "tool_calls", "function_call", "refusal"},
    "tool": frozenset(("role", "content", "tool_call_id", "name")),
    "function": _COMMON,
}
CHAT_TOP_KEYS = frozenset(("messages", "tools", "parallel_tool_calls", "functions"))


class Facts:
    """What one message list showed, for the example-level rules (a plain class: it is made
    once per example, so its construction cost matters)."""

    __slots__ = ("roles", "keys", "images", "trainable", "call_ids")

    def __init__(self) -> None:
        self.roles: list[str] = []
        self.keys = 0  # object keys seen, nested ones included (duplicate-key detection)
        self.images = 0
        self.trainable = 0  # assistant messages with weight 1 (or no weight)
        self.call_ids: set[str] = set()


def declared_functions(obj: dict[str, Any], line: int, sink: IssueSink) -> set[str] | None:
    """Names of the functions in `tools`/`functions`; None when neither is given."""
    tools, functions = obj.get("tools"), obj.get("functions")
    if tools is None and functions is None:
        return None
    names: set[str] = set()
    for key, items in (("tools", tools), ("functions", functions)):
        if items is None:
            continue
        if not isinstance(items, list):
            sink.add("invalid_tools", line, f"`{key}` must be a list")
            continue
        for item in items:
            fn = item.get("function") if key == "tools" and isinstance(item, dict) else item
            if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
                sink.add("invalid_tools", line,
                         f"each `{key}` entry needs a function with a string `name`",
                         'Expected {"type": "function", "function": {"name": ..., '
                         '"parameters": {...}}}.')
                continue
            names.add(fn["name"])
    return names


def check_messages(
    messages: object, line: int, sink: IssueSink, declared: set[str] | None, where: str = "messages"
) -> Facts | None:
    """Check a message list; None when it is not a non-empty list (already reported)."""
    if not isinstance(messages, list) or not messages:
        sink.add("missing_messages", line, f"`{where}` must be a non-empty list of messages",
                 'Expected {"messages": [{"role": "user", "content": "..."}, ...]}.')
        return None
    facts = Facts()
    roles = facts.roles
    keys = trainable = 0
    for index, message in enumerate(messages):
        if type(message) is not dict:
            sink.add("message_not_object", line, f"{where}[{index}] is not an object")
            continue
        # Fast path for the common shape {"role": R, "content": "non-empty text"}.
        role, content = message.get("role"), message.get("content")
        if len(message) == 2 and type(content) is str and content and role in _PLAIN_ROLES:
            roles.append(role)
            keys += 2
            trainable += role == "assistant"
            continue
        _check_message(message, index, line, sink, declared, facts, where)
    facts.keys += keys
    facts.trainable += trainable
    if facts.images > MAX_IMAGES:
        sink.add("too_many_images", line,
                 f"{facts.images} images in one example (at most {MAX_IMAGES})")
    return facts


def _check_message(
    m: dict[str, Any], i: int, line: int, sink: IssueSink, declared: set[str] | None,
    facts: Facts, where: str,
) -> None:
    facts.keys += len(m)
    for value in m.values():
        if type(value) is dict or type(value) is list:
            facts.keys += count_keys(value)
    role = m.get("role")
    allowed = ALLOWED_KEYS.get(role) if type(role) is str else None
    if allowed is None or type(role) is not str:
        if "role" not in m:
            sink.add("message_missing_key", line, f"{where}[{i}] has no `role`")
        else:
            sink.add("unrecognized_role", line, f"{where}[{i}] has unknown role {role!r}",
                     "Roles are system, developer, user, assistant, tool and function.")
        return
    facts.roles.append(role)
    if not allowed.issuperset(m):
        for key in m:
            if key not in allowed:
                _unknown_key(key, role, i, line, sink, where)
    _check_content(m, role, i, line, sink, facts, where)
    if role == "assistant":
        _check_assistant(m, i, line, sink, declared, facts, where)
    elif role == "tool":
        call_id = m.get("tool_call_id")
        if not isinstance(call_id, str) or not call_id:
            sink.add("missing_tool_call_id", line, f"{where}[{i}] (tool) has no `tool_call_id`"
            )
        elif call_id not in facts.call_ids:
            sink.add("unknown_tool_call_id", line,
                f"{where}[{i}] answers tool call {call_id!r}, which no earlier assistant made",
            )


def _unknown_key(key: str, role: str, i: int, line: int, sink: IssueSink, where: str) -> None:
    if key == "weight":
        sink.add("weight_not_on_assistant", line,
                 f"{where}[{i}] ({role}) has `weight`; only assistant messages may")
    else:
        sink.add("message_unrecognized_key", line,
                 f"{where}[{i}] ({role}) has unknown key {key!r}")


def _check_content(
    m: dict[str, Any], role: str, i: int, line: int, sink: IssueSink, facts: Facts, where: str
) -> None:
    content = m.get("content")
    if type(content) is str:
        if content:
            return
    elif isinstance(content, list) and content:
        _check_parts(content, role, i, line, sink, facts, where)
        return
    elif content is not None and not isinstance(content, list):
        sink.add("invalid_content", line,
                 f"{where}[{i}] content must be a string or a list of parts, not "
                 f"{type(content).__name__}")
        return
    if role == "assistant" and (m.get("tool_calls") or m.get("function_call")):
        return
    if "content" not in m:
        sink.add("message_missing_key", line, f"{where}[{i}] ({role}) has no `content`")
    else:
        sink.add("missing_content", line, f"{where}[{i}] ({role}) has empty content")


def _check_parts(
    parts: list[Any], role: str, i: int, line: int, sink: IssueSink, facts: Facts, where: str
) -> None:
    for j, part in enumerate(parts):
        kind = part.get("type") if isinstance(part, dict) else None
        at = f"{where}[{i}].content[{j}]"
        if kind == "text" or (kind == "refusal" and role == "assistant"):
            if not isinstance(part.get(kind), str):
                sink.add("invalid_content_part", line, f"{at} needs a string `{kind}`")
        elif kind == "image_url":
            facts.images += 1
            if role != "user":
                sink.add("image_not_in_user", line,
                         f"{at}: images are allowed only in user messages, not {role}")
            url = part.get("image_url")
            url = url.get("url") if isinstance(url, dict) else url
            if not isinstance(url, str) or not url:
                sink.add("invalid_content_part", line, f"{at} needs `image_url.url`")
        else:
            sink.add("invalid_content_part", line, f"{at} has unknown part type {kind!r}",
                     'Parts are {"type": "text", "text": ...} or {"type": "image_url", ...}.')


def _check_assistant(
    m: dict[str, Any], i: int, line: int, sink: IssueSink, declared: set[str] | None,
    facts: Facts, where: str,
) -> None:
    weight = m.get("weight", 1)
    if type(weight) is not int or weight not in (0, 1):
        sink.add("invalid_weight", line, f"{where}[{i}] weight must be 0 or 1, not {weight!r}"
        )
    elif weight == 1:
        facts.trainable += 1
    calls = m.get("tool_calls")
    if calls is not None:
        if not isinstance(calls, list) or not calls:
            sink.add("invalid_tool_call", line, f"{where}[{i}].tool_calls must be a list")
            return
        for j, call in enumerate(calls):
            _check_call(call, f"{where}[{i}].tool_calls[{j}]", line, sink, declared, facts)
    if "function_call" in m:
        call = m["function_call"]
        _check_function(call, f"{where}[{i}].function_call", line, sink, declared)


def _check_call(
    call: object, at: str, line: int, sink: IssueSink, declared: set[str] | None, facts: Facts
) -> None:
    if not isinstance(call, dict) or not isinstance(call.get("function"), dict):
        sink.add("invalid_tool_call", line, f"{at} must be an object with `function`",
                 'Expected {"id": ..., "type": "function", '
                 '"function": {"name": ..., "arguments": "{}"}}.')
        return
    call_id = call.get("id")
    if not isinstance(call_id, str) or not call_id:
        sink.add("invalid_tool_call", line, f"{at} has no string `id`")
    else:
        facts.call_ids.add(call_id)
    if call.get("type", "function") != "function":
        sink.add("invalid_tool_call", line, f"{at}.type must be \"function\"")
    _check_function(call["function"], f"{at}.function", line, sink, declared)


def _check_function(
    fn: object, at: str, line: int, sink: IssueSink, declared: set[str] | None
) -> None:
    if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
        sink.add("invalid_tool_call", line, f"{at} needs a string `name`")
        return
    name, args = fn["name"], fn.get("arguments")
    if not isinstance(args, str):
        sink.add("invalid_tool_arguments", line,
                 f"{at}.arguments must be a string holding a JSON object")
    else:
        try:
            parsed = orjson.loads(args)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, str):
            sink.add("invalid_tool_arguments", line,
                     f"{at}.arguments holds a JSON string, not a JSON object (encoded twice?)")
        elif not isinstance(parsed, dict):
            sink.add("invalid_tool_arguments", line,
                     f"{at}.arguments does not parse as a JSON object")
    if declared is None:
        sink.add("undeclared_function", line,
                 f"{at} calls {name!r} but the example declares no `tools`")
    elif name not in declared:
        sink.add("undeclared_function", line,
                 f"{at} calls {name!r}, which is not among the declared tools")


def _top_keys(obj: dict[str, Any], facts: Facts | None) -> int:
    """Keys of the whole example: the top level, the messages (counted by the checks), the rest."""
    n = len(obj) + (facts.keys if facts is not None else 0)
    if len(obj) > 1 or facts is None:
        for key, value in obj.items():
            nested = type(value) is dict or type(value) is list
            if nested and (key != "messages" or facts is None):
                n += count_keys(value)
    return n


def check_chat(obj: dict[str, Any], line: int, sink: IssueSink) -> int:
    """A supervised chat example. Returns the number of object keys it holds."""
    if len(obj) == 1:
        roles = _plain_roles(obj.get("messages"))
        if roles is not None:  # the common case: plain messages, nothing nested
            if roles not in _GOOD_SHAPES:
                _example_rules(roles, roles.count("assistant"), line, sink)
            return 1 + 2 * len(roles)
    elif not CHAT_TOP_KEYS.issuperset(obj):
        for key in obj:
            if key not in CHAT_TOP_KEYS:
                sink.add("unknown_top_level_key", line, f"unknown top-level key {key!r}")
    declared = declared_functions(obj, line, sink) if len(obj) > 1 else None
    facts = check_messages(obj.get("messages"), line, sink, declared)
    if facts is None:
        return _top_keys(obj, None)
    _example_rules(facts.roles, facts.trainable, line, sink)
    return _top_keys(obj, facts)


# Role sequences that need no example-level remark (checked first: the usual case).
_GOOD_SHAPES = (["system", "user", "assistant"], ["system", "user", "assistant"] * 2)


def _plain_roles(messages: object) -> list[str] | None:
    """Roles of a list of plain {"role", "content": non-empty text} messages, else None."""
    if type(messages) is not list or not messages:
        return None
    roles = []
    for m in messages:
        if type(m) is not dict or len(m) != 2:
            return None
        role, content = m.get("role"), m.get("content")
        if type(content) is not str or not content or role not in _PLAIN_ROLES:
            return None
        roles.append(role)
    return roles


def _example_rules(roles: list[str], trainable: int, line: int, sink: IssueSink) -> None:
    if "assistant" not in roles:
        sink.add("missing_assistant_message", line, "example has no assistant message")
    elif trainable == 0:
        sink.add("no_trainable_tokens", line,
                 "every assistant message has weight 0: nothing in this example is trained on")
    if "user" not in roles:
        sink.add("missing_user_message", line, "example has no user message")
    if "system" in roles[1:]:
        sink.add("system_not_first", line, "a system message is not the first message")
    if roles and roles[-1] != "assistant":
        sink.add("trailing_non_assistant", line,
                 f"example ends with a {roles[-1]} message, which is not trained on")
    if not roles or roles[0] != "system":
        sink.tally("missing_system_message", line)


def check_reinforcement(obj: dict[str, Any], line: int, sink: IssueSink) -> int:
    """A reinforcement prompt: chat messages ending on the user (or developer) turn.

    Extra top-level fields are allowed: graders read them as {{item.<field>}}.
    """
    declared = declared_functions(obj, line, sink)
    facts = check_messages(obj.get("messages"), line, sink, declared)
    if facts is None or not facts.roles:
        return _top_keys(obj, facts)
    if facts.roles[-1] not in ("user", "developer"):
        sink.add("rft_last_turn", line,
                 f"a reinforcement example must end on the user turn, not {facts.roles[-1]}",
                 "The model writes the answer; the example holds only the prompt to answer.")
    return _top_keys(obj, facts)
