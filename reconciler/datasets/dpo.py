"""Structure checks for preference (DPO) examples.

Pure. `input` holds chat messages (and optional tools) ending before the answer;
`preferred_output` and `non_preferred_output` each hold the final assistant turn. The
`*_completion` spelling of an old spec draft is flagged with a hint to rename. DPO is text only.
"""

from __future__ import annotations

from typing import Any

from reconciler.datasets.chat import check_messages, declared_functions
from reconciler.datasets.issues import IssueSink

DPO_TOP_KEYS = frozenset(("input", "preferred_output", "non_preferred_output"))
_OUTPUT_ROLES = frozenset(("assistant", "tool"))
_OUTPUT_KEYS = ("preferred_output", "non_preferred_output")


def check_dpo(obj: dict[str, Any], line: int, sink: IssueSink) -> int:
    for key in obj:
        if key in DPO_TOP_KEYS:
            continue
        if key in ("preferred_completion", "non_preferred_completion"):
            new = key.replace("_completion", "_output")
            sink.add("dpo_completion_field", line, f"`{key}` should be named `{new}`",
                     "The preference format uses preferred_output / non_preferred_output.")
        else:
            sink.add("unknown_top_level_key", line, f"unknown top-level key {key!r}")
    inp = obj.get("input")
    if not isinstance(inp, dict):
        sink.add("dpo_missing_input", line, "`input` must be an object with `messages`",
                 'Expected {"input": {"messages": [...]}, "preferred_output": [...], '
                 '"non_preferred_output": [...]}.')
    else:
        facts = check_messages(
            inp.get("messages"), line, sink, declared_functions(inp, line, sink), "input.messages"
        )
        if facts is not None and facts.images:
            sink.add("dpo_image", line, "preference fine-tuning is text only (no images)")
        if facts is not None and facts.roles and facts.roles[-1] == "assistant":
            sink.add("dpo_input_ends_with_assistant", line,
                     "`input` ends with an assistant turn; the outputs must be the final turn")
    outputs = [_check_output(obj, key, line, sink) for key in _OUTPUT_KEYS]
    if outputs[0] is not None and outputs[0] == outputs[1]:
        sink.add("dpo_identical_outputs", line,
                 "preferred and non-preferred outputs are identical: nothing to learn")
    return -1  # not counted here: the caller counts keys generically


def _check_output(obj: dict[str, Any], key: str, line: int, sink: IssueSink) -> object:
    if key not in obj and key.replace("_output", "_completion") in obj:
        return None  # already reported as a misnamed field
    value = obj.get(key)
    if not isinstance(value, list) or not value:
        sink.add("dpo_invalid_output", line, f"`{key}` must be a non-empty list of messages",
                 'Expected [{"role": "assistant", "content": "..."}].')
        return None
    facts = check_messages(value, line, sink, None, key)
    if facts is None:
        return None
    if "assistant" not in facts.roles or not _OUTPUT_ROLES.issuperset(facts.roles):
        sink.add("dpo_invalid_output", line,
                 f"`{key}` must hold assistant (or tool) messages, with at least one assistant")
    return value
