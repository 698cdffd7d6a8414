"""Token counts follow the cookbook's formula with the model's encoding, never crash on odd
values, and the per-example limit is enforced with line numbers."""

from __future__ import annotations

from collections.abc import Callable

import bpe_openai
import pytest

from reconciler.datasets import Options, validate_file
from reconciler.datasets.models import encoding_for, example_limit
from reconciler.datasets.tokens import count_example


@pytest.mark.parametrize(("model", "encoding"), [
    ("gpt-4o-mini-2024-07-18", "o200k_base"), ("gpt-4.1-2025-04-14", "o200k_base"),
    ("o4-mini-2025-04-16", "o200k_base"), ("gpt-3.5-turbo-0125", "cl100k_base"),
    ("gpt-4-0613", "cl100k_base"), ("babbage-002", "cl100k_base"),
    ("davinci-002", "cl100k_base"), ("ft:gpt-4o-2024-08-06:org::x", "o200k_base"),
    ("llama-3", None), (None, None),
])
def test_encoding_per_model(model: str | None, encoding: str | None) -> None:
    assert encoding_for(model) == encoding


def test_limits_per_model() -> None:
    assert example_limit("gpt-4o-mini-2024-07-18") == 65_536
    assert example_limit("gpt-3.5-turbo-0613") == 4_096
    assert example_limit("gpt-3.5-turbo-0125") == 16_385
    assert example_limit("gpt-4.1-2025-04-14") is None  # unknown: reported, not guessed


@pytest.mark.parametrize("encoding", ["o200k_base", "cl100k_base"])
def test_chat_count_is_cookbook_formula(encoding: str) -> None:
    enc = bpe_openai.get_encoding(encoding)
    messages = [{"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Wie spät ist es in 東京?", "name": "ann"},
                {"role": "assistant", "content": "Zehn Uhr.", "weight": 1}]
    expected = 3  # reply priming
    for m in messages:
        expected += 3 + len(enc.encode(m["role"])) + len(enc.encode(m["content"]))
        expected += len(enc.encode(m["name"])) + 1 if "name" in m else 0
    assert count_example({"messages": messages}, encoding) == expected


def test_odd_values_never_crash() -> None:
    odd = {"messages": [{"role": "user", "content": None}, {"role": 5, "content": [1, {"x": 2}]},
                        {"role": "assistant", "tool_calls": "nope", "weight": 1},
                        "not a message", {"role": "user", "content": "lone \ud83d"}],
           "tools": [3, {"function": {"name": "f", "parameters": {"properties": {"a": 1}}}}]}
    assert count_example(odd, "o200k_base") > 0
    assert count_example({"prompt": 3, "completion": None}, "cl100k_base") == 0
    assert count_example({"input": "x", "preferred_output": 1}, "o200k_base") == 3


def test_text_and_image_parts_count() -> None:
    plain = count_example({"messages": [{"role": "user", "content": "hello there"}]}, "o200k_base")
    parts = count_example({"messages": [{"role": "user", "content": [
        {"type": "text", "text": "hello there"},
        {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}]}, "o200k_base")
    assert parts == plain + 85


def test_tools_add_overhead() -> None:
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]
    tools = [{"type": "function", "function": {"name": "lookup", "description": "Find.",
              "parameters": {"type": "object", "properties": {
                  "q": {"type": "string", "description": "Query."},
                  "mode": {"type": "string", "enum": ["a", "b"]}}}}}]
    without = count_example({"messages": messages}, "o200k_base")
    assert count_example({"messages": messages, "tools": tools}, "o200k_base") > without + 12


def test_example_over_limit_is_an_error_with_its_line(write_jsonl: Callable[..., str]) -> None:
    rows: list[object] = [{"messages": [{"role": "user", "content": f"q{i}"},
                                        {"role": "assistant", "content": "a"}]} for i in range(11)]
    rows.insert(4, {"messages": [{"role": "user", "content": "word " * 5000},
                                 {"role": "assistant", "content": "a"}]})
    path = write_jsonl("long.jsonl", rows)
    report = validate_file(path, "long.jsonl", Options(model="gpt-3.5-turbo-0613"))
    too_long = [d for d in report.diagnostics if d.code == "example_too_long"]
    assert [d.subject.line for d in too_long if d.subject] == [5]
    assert report.token_counts is not None and max(report.token_counts) > 4096
    assert report.billable == sum(min(n, 4096) for n in report.token_counts)


def test_unknown_limit_is_reported_not_guessed(write_jsonl: Callable[..., str]) -> None:
    rows = [{"messages": [{"role": "user", "content": f"q{i}"},
                          {"role": "assistant", "content": "a"}]} for i in range(10)]
    report = validate_file(write_jsonl("d.jsonl", rows), "d", Options(model="gpt-4.1-2025-04-14"))
    assert "unknown_token_limit" in report.codes
    assert report.billable == sum(report.token_counts or [])
