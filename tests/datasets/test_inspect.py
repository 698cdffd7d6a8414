"""inspect() for the planner: facts, the sha256 cache keyed by file identity, cached results,
training/validation overlap; and a parallel scan that agrees with a serial one."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from reconciler.datasets import Options, check_overlap, inspect, validate_file
from reconciler.diagnostics import Severity


def _chat(i: int) -> dict[str, object]:
    return {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": f"q{i}"},
                         {"role": "assistant", "content": f"a{i}"}]}


def _project(tmp_path: Path, rows: list[object], name: str = "train.jsonl") -> Path:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    path = data / name
    path.write_bytes(b"".join(__import__("orjson").dumps(r) + b"\n" for r in rows))
    return path


def test_inspect_returns_facts_and_positions(tmp_path: Path) -> None:
    path = _project(tmp_path, [_chat(i) for i in range(12)] + [{"messages": []}])
    info, diags = inspect(str(tmp_path), "data/train.jsonl", base_model="gpt-4o-mini-2024-07-18",
                          method="supervised", cache_dir=str(tmp_path / ".ftctl" / "cache"))
    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (info.bytes, info.examples, info.format, info.has_errors) == (
        path.stat().st_size, 13, "chat", True)
    assert info.tokens is not None and info.tokens > 13 * 10
    bad = [d for d in diags if d.is_error]
    assert [(d.subject.file, d.subject.line, d.code) for d in bad if d.subject] == [
        ("data/train.jsonl", 13, "missing_messages")]


def test_missing_file_is_a_diagnostic(tmp_path: Path) -> None:
    info, diags = inspect(str(tmp_path), "data/nope.jsonl")
    assert info.has_errors and [d.code for d in diags] == ["file_not_found"]


def test_sha256_cache_skips_unchanged_files(tmp_path: Path) -> None:
    path = _project(tmp_path, [_chat(i) for i in range(12)])
    cache = str(tmp_path / "cache")
    first, _ = inspect(str(tmp_path), "data/train.jsonl", cache_dir=cache)
    st = path.stat()
    # Same size, same mtime, same inode, other bytes: the cache must be trusted (no re-read).
    with open(path, "r+b") as f:
        f.seek(st.st_size - 5)
        f.write(b"X")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    again, _ = inspect(str(tmp_path), "data/train.jsonl", cache_dir=cache)
    assert again.sha256 == first.sha256
    # A new mtime misses: the bytes are read again and the hash changes.
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    changed, _ = inspect(str(tmp_path), "data/train.jsonl", cache_dir=cache)
    assert changed.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() != first.sha256


def test_cached_result_keeps_diagnostics(tmp_path: Path) -> None:
    _project(tmp_path, [_chat(i) for i in range(3)])
    cache = str(tmp_path / "cache")
    one = inspect(str(tmp_path), "data/train.jsonl", cache_dir=cache)
    two = inspect(str(tmp_path), "data/train.jsonl", cache_dir=cache)
    assert one == two and any(d.code == "too_few_examples" for d in two[1])
    other_model = inspect(str(tmp_path), "data/train.jsonl", base_model="babbage-002",
                          cache_dir=cache)
    assert any(d.code == "format_mismatch" for d in other_model[1])


def test_corrupt_cache_is_ignored(tmp_path: Path) -> None:
    _project(tmp_path, [_chat(i) for i in range(12)])
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "sha256.json").write_text("{not json")
    (cache / "datasets.json").write_text("[]")
    info, _ = inspect(str(tmp_path), "data/train.jsonl", cache_dir=str(cache))
    assert len(info.sha256) == 64


def test_check_overlap_names_both_lines(tmp_path: Path) -> None:
    _project(tmp_path, [_chat(i) for i in range(20)])
    _project(tmp_path, [_chat(100), _chat(7), _chat(101), _chat(3)], "valid.jsonl")
    diags = tuple(sorted(check_overlap(str(tmp_path), "data/train.jsonl", "data/valid.jsonl"),
                         key=lambda d: d.subject.line if d.subject else 0))
    assert [(d.subject.line, d.code) for d in diags if d.subject] == [
        (2, "train_valid_overlap"), (4, "train_valid_overlap")]
    assert "line 8" in diags[0].summary and diags[0].severity is Severity.WARNING
    assert check_overlap(str(tmp_path), "data/train.jsonl", "data/missing.jsonl") == ()


def test_parallel_scan_matches_serial(write_jsonl: Callable[..., str]) -> None:
    rows: list[object] = []
    for i in range(3000):
        if i % 97 == 5:
            rows.append(b'{"messages": [oops')
        elif i % 101 == 7:
            rows.append(_chat(i - 1500 if i > 1500 else i))  # duplicates across the halves
        elif i % 89 == 3:
            rows.append({"messages": [{"role": "robot", "content": "x"}]})
        else:
            rows.append(_chat(i))
    rows += [_chat(10), _chat(2999), _chat(10), _chat(2999)]  # repeats within the last part
    path = write_jsonl("mix.jsonl", rows)
    serial = validate_file(path, "m", Options(model="gpt-4o-mini-2024-07-18", jobs=1, cap=10_000))
    key = lambda r: sorted((d.subject.line, d.code, d.summary) for d in r.diagnostics)  # noqa: E731
    for jobs in (2, 3):
        both = validate_file(path, "m", Options(model="gpt-4o-mini-2024-07-18", jobs=jobs,
                                                cap=10_000))
        assert key(serial) == key(both)
        assert serial.codes == both.codes and serial.examples == both.examples
        assert list(serial.token_counts or []) == list(both.token_counts or [])
    assert serial.codes["duplicate_example"] > 0
    # Structure only: duplicates are found with a dict instead of the compact table.
    plain = validate_file(path, "m", Options(tokens=False, jobs=1, cap=10_000))
    for jobs in (1, 2, 3):
        other = validate_file(path, "m", Options(tokens=False, jobs=jobs, cap=10_000))
        assert key(other) == [k for k in key(serial) if k[1] != "unknown_token_limit"]
        assert other.codes == plain.codes


def test_compact_firsts_agree_with_a_dict() -> None:
    import random

    from reconciler.datasets.firsts import Firsts

    rng = random.Random(3)
    firsts, expected = Firsts(), {}
    for line in range(1, 200_001):  # grows the table past its first sizes
        digest = rng.getrandbits(64) - (1 << 63) if line % 7 else rng.choice((0, -1, 1 << 40))
        assert firsts.setdefault(digest, line) == expected.setdefault(digest, line)
    assert len(firsts) == len(expected)
    assert all(firsts.get(h) == n for h, n in list(expected.items())[::997])
    assert firsts.get(12345) is None


def test_cap_per_code_keeps_counts(write_jsonl: Callable[..., str]) -> None:
    rows: list[object] = [b"{bad" for _ in range(50)] + [_chat(i) for i in range(10)]
    report = validate_file(write_jsonl("bad.jsonl", rows), "b", Options(cap=5))
    shown = [d for d in report.diagnostics if d.code == "invalid_json"]
    assert len(shown) == 6 and "45 more" in shown[-1].summary
    assert report.codes["invalid_json"] == 50


def test_validation_file_has_no_minimum_count(tmp_path: Path) -> None:
    _project(tmp_path, [_chat(i) for i in range(3)], "valid.jsonl")
    _, as_training = inspect(str(tmp_path), "data/valid.jsonl")
    _, as_validation = inspect(str(tmp_path), "data/valid.jsonl", validation=True)
    assert any(d.code == "too_few_examples" for d in as_training)
    assert not any(d.is_error for d in as_validation)


def test_invalid_utf8_reports_file_byte_offset(write_jsonl: Callable[..., str]) -> None:
    good = b'{"messages": [{"role": "user", "content": "q"}]}'
    bad = b'{"messages": [{"role": "user", "content": "caf\xe9"}]}'
    path = write_jsonl("u.jsonl", [good, good, bad])
    report = validate_file(path, "u", Options())
    (diag,) = [d for d in report.diagnostics if d.code == "invalid_utf8"]
    expected = 2 * (len(good) + 1) + bad.index(b"\xe9")
    assert diag.subject is not None and diag.subject.line == 3
    assert f"byte offset {expected}" in diag.summary


def test_cached_results_are_not_reused_under_other_rules(tmp_path: Path) -> None:
    from reconciler.datasets import Levels

    rows: list[object] = [_chat(i) for i in range(12)]
    path = _project(tmp_path, rows)
    path.write_bytes(path.read_bytes().replace(b"\n", b"\n\n", 1))  # a blank line 2
    cache = str(tmp_path / "cache")
    _, default = inspect(str(tmp_path), "data/train.jsonl", cache_dir=cache)
    _, off = inspect(str(tmp_path), "data/train.jsonl", cache_dir=cache,
                     levels=Levels(overrides={"blank_line": "off"}))
    _, again = inspect(str(tmp_path), "data/train.jsonl", cache_dir=cache)
    assert [(d.code, d.severity) for d in default if d.code == "blank_line"] == [
        ("blank_line", Severity.WARNING)]
    assert not [d for d in off if d.code == "blank_line"]
    assert again == default
