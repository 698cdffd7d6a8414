"""The parallel scan: a file cut into many more ranges than processes, taken one by one, gives
exactly what one process gives; and what the tokenizer's memory handling must not change."""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable

import pytest

from reconciler.datasets import Options, Report, parallel, validate_file
from reconciler.datasets.pages import release_library_pages, trim_heap
from reconciler.datasets.tokens import MEMO_ENTRIES, count_example, counter_for

MODEL = "gpt-4o-mini-2024-07-18"


def _chat(i: int, system: str = "Answer briefly.") -> dict[str, object]:
    messages = [{"role": "system", "content": system}] if system else []
    return {"messages": [*messages, {"role": "user", "content": f"question {i} " * (i % 7 + 1)},
                         {"role": "assistant", "content": f"answer {i}"}]}


def _mixed_rows() -> list[object]:
    rows: list[object] = []
    for i in range(4000):
        if i % 211 == 5:
            rows.append(b'{"messages": [oops')
        elif i % 157 == 9:
            rows.append(b"")  # a blank line
        elif i % 101 == 7:
            rows.append(_chat(i % 900))  # repeats of earlier rows, across ranges
        elif i % 89 == 3:
            rows.append({"messages": [{"role": "robot", "content": "x"}]})
        else:
            rows.append(_chat(i, system="" if i % 5 == 0 else f"System prompt {i % 3}."))
    return rows


def _facts(report: Report) -> tuple[object, ...]:
    diags = sorted((d.subject.line if d.subject else 0, d.code, d.summary, d.severity.value)
                   for d in report.diagnostics)
    return (diags, report.codes, report.examples, report.lines, report.format, report.billable,
            list(report.token_counts or []))


@pytest.mark.parametrize("tokens", [True, False])
def test_many_ranges_in_two_processes_match_one_process(
    write_jsonl: Callable[..., str], monkeypatch: pytest.MonkeyPatch, tokens: bool
) -> None:
    path = write_jsonl("mixed.jsonl", _mixed_rows())
    monkeypatch.setattr(parallel, "RANGE_MIN_BYTES", 4096)
    size = os.path.getsize(path)
    assert parallel.range_count(size, 2) == 2 * parallel.RANGES_PER_WORKER  # 16 ranges, 2 procs
    one = validate_file(path, "m", Options(model=MODEL, tokens=tokens, cap=10_000, jobs=1))
    assert one.codes["duplicate_example"] > 0 and one.codes["blank_line"] > 0
    for jobs in (2, 3):
        many = validate_file(path, "m", Options(model=MODEL, tokens=tokens, cap=10_000, jobs=jobs))
        assert _facts(many) == _facts(one)


def test_range_count_follows_size_and_workers() -> None:
    mb = 1024 * 1024
    assert parallel.range_count(40 * mb, 2) == 5  # ranges of at least 8 MB
    assert parallel.range_count(10 * mb, 4) == 4  # never fewer ranges than processes
    assert parallel.range_count(500 * mb, 2) == 16  # at most 8 per process


def test_split_ranges_cover_the_file_on_line_boundaries(write_jsonl: Callable[..., str]) -> None:
    path = write_jsonl("r.jsonl", [_chat(i) for i in range(300)])
    with open(path, "rb") as f:
        data = f.read()
    ranges = parallel.split_ranges(path, 16)
    assert ranges[0][0] == 0 and ranges[-1][1] == len(data) and len(ranges) == 16
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    assert all(data[start - 1:start] == b"\n" for start, _ in ranges[1:])


def test_repeated_texts_count_as_the_tokenizer_counts_them() -> None:
    count = counter_for("o200k_base")
    # More distinct system prompts than the memo keeps: the later ones are counted each time.
    for i in range(MEMO_ENTRIES + 20):
        system = f"You are assistant number {i}. Be brief."
        example = {"messages": [{"role": "system", "content": system},
                                {"role": "user", "content": "Hi"},
                                {"role": "assistant", "content": "Hello!", "name": "bot"}]}
        expected = 3 + (3 + count("system") + count(system)) + (3 + count("user") + count("Hi"))
        expected += 3 + count("assistant") + count("Hello!") + 1 + count("bot")
        assert count_example(example, "o200k_base") == expected
        assert count_example(example, "o200k_base") == expected  # remembered: the same


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/maps")
def test_library_pages_released_and_counts_unchanged() -> None:
    count = counter_for("o200k_base")
    before = count("Wie spät ist es in 東京? It is ten o'clock.")
    assert release_library_pages() > 0  # bpe-openai's read-only data is mapped
    assert _library_data_resident_kb() < 1024  # dropped: about 35 MB were resident
    assert count("Wie spät ist es in 東京? It is ten o'clock.") == before
    assert release_library_pages(("/no/such/library",)) == 0
    assert trim_heap()  # glibc: freed heap memory handed back
    assert count("Wie spät ist es in 東京? It is ten o'clock.") == before


def test_a_failing_child_is_reported_not_hung(
    write_jsonl: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_jsonl("f.jsonl", [_chat(i) for i in range(400)])
    monkeypatch.setattr(parallel, "RANGE_MIN_BYTES", 1024)
    parent, real = os.getpid(), parallel.scan_part
    child_started = multiprocessing.get_context("fork").Event()

    def broken_in_child(args: parallel.ScanArgs) -> object:
        if os.getpid() != parent:
            child_started.set()
            raise RuntimeError("worker failed")
        child_started.wait(60)  # the parent leaves ranges to the child: it surely takes one
        return real(args)

    monkeypatch.setattr(parallel, "scan_part", broken_in_child)
    with pytest.raises(RuntimeError, match="worker failed"):
        validate_file(path, "f", Options(tokens=False, jobs=2))


def _library_data_resident_kb() -> int:
    resident, inside = 0, False
    with open("/proc/self/smaps", encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if not fields[0].endswith(":"):
                inside = len(fields) >= 6 and fields[1] == "r--p" and "bpe_openai" in fields[5]
            elif inside and fields[0] == "Rss:":
                resident += int(fields[1])
    return resident
