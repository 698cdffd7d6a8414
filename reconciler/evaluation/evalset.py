"""Reading an eval set: one JSON object a line, chat prompts with the answer expected.

`{"messages": [...], "expected": "..."}`: the messages are checked as reinforcement prompts are
(the same structure rules, ending on the user's turn) and `expected` must be a string. Lines
are read and bad JSON explained by the datasets' own reader; problems are Diagnostics with
file and line, capped per kind. The path itself was checked by the loader.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

import orjson

from reconciler.datasets.chat import check_reinforcement
from reconciler.datasets.codes import CHECKS, ERROR, Levels, Rule
from reconciler.datasets.issues import IssueSink
from reconciler.datasets.reading import diagnose, iter_chunks_at
from reconciler.diagnostics import Diagnostics, SourceRange, error

# An eval set's own codes, beside the dataset codes its chat messages are checked with. An
# eval set is never uploaded, so there is no provider to match: whatever stops an example
# from being asked and graded is an error.
_EVAL_CODES = {
    "not_object": Rule(ERROR, "each line is one example object", "ftctl's eval set format"),
    "eval_expected": Rule(ERROR, "graders compare the answer with `expected`",
                          "ftctl's eval set format"),
    "eval_empty": Rule(ERROR, "an empty eval set scores nothing", "ftctl's eval set format"),
}
EVAL_LEVELS = Levels({**CHECKS, **_EVAL_CODES})

CHARS_PER_TOKEN = 4  # the usual rule of thumb for English text, for cost estimates only


@dataclass(frozen=True, slots=True, kw_only=True)
class Example:
    """One eval example. key: sha256 of its canonical JSON, the cache's example identity."""

    line: int
    messages_json: str
    expected: str
    key: str

    def messages(self) -> list[dict[str, Any]]:
        loaded: list[dict[str, Any]] = json.loads(self.messages_json)
        return loaded

    def prompt_chars(self) -> int:
        return sum(len(str(m.get("content") or "")) for m in self.messages())


@dataclass(frozen=True, slots=True, kw_only=True)
class EvalSet:
    repo_path: str
    examples: tuple[Example, ...]

    def __len__(self) -> int:
        return len(self.examples)

    @property
    def prompt_tokens(self) -> int:
        """Approximate input tokens of asking one model every example."""
        return sum(e.prompt_chars() for e in self.examples) // CHARS_PER_TOKEN

    @property
    def answer_tokens(self) -> int:
        """Approximate output tokens, taking the expected answers as the answers' length."""
        return sum(len(e.expected) for e in self.examples) // CHARS_PER_TOKEN


def read(root: str, repo_path: str) -> tuple[EvalSet, Diagnostics]:
    """The eval set at root/repo_path and every problem found in it."""
    path = os.path.join(root, *repo_path.split("/"))
    if not os.path.isfile(path):
        return EvalSet(repo_path=repo_path, examples=()), (error(
            f"eval set not found: {repo_path}", subject=SourceRange(file=repo_path),
            code="file_not_found"),)
    sink = IssueSink(repo_path, levels=EVAL_LEVELS)
    examples: list[Example] = []
    lineno = 0
    for offset, lines in iter_chunks_at(path):
        for raw in lines:
            lineno += 1
            if raw.strip():
                found = _example(raw, lineno, offset, sink)
                if found is not None:
                    examples.append(found)
            offset += len(raw) + 1
    if not examples and sink.errors == 0:
        sink.add("eval_empty", 0, "the eval set has no examples",
                 'Write one {"messages": [...], "expected": "..."} object a line.')
    return EvalSet(repo_path=repo_path, examples=tuple(examples)), sink.diagnostics()


def _example(raw: bytes, line: int, offset: int, sink: IssueSink) -> Example | None:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        problem, _ = diagnose(raw, offset)
        sink.add(problem.code, line, problem.summary, problem.detail, problem.column)
        return None
    if not isinstance(obj, dict):
        sink.add("not_object", line, "line is not a JSON object",
                 'Each line is {"messages": [...], "expected": "..."}.')
        return None
    errors = sink.errors
    check_reinforcement(obj, line, sink)
    expected = obj.get("expected")
    if not isinstance(expected, str):
        sink.add("eval_expected", line,
                 '"expected" is missing or not a string' if expected is None
                 else f'"expected" must be a string, not {type(expected).__name__}',
                 "Each example carries the answer the graders compare the model's answer with.")
    if sink.errors != errors or not isinstance(expected, str):
        return None
    messages = json.dumps(obj["messages"], sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False)
    key = hashlib.sha256(f"{messages}\n{expected}".encode()).hexdigest()
    return Example(line=line, messages_json=messages, expected=expected, key=key)
