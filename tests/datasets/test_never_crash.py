"""Fuzzing: no file content makes the validator crash or lose count of its lines."""

from __future__ import annotations

import json
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.datasets import Options, validate_file

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["messages", "role", "content", "prompt", "completion", "weight",
                         "tool_calls", "function", "arguments", "input", "preferred_output",
                         "non_preferred_output", "tools", "type", "text", "image_url", "x"]),
        inner, max_size=4),
    max_leaves=12,
)
lines = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=40),
    st.sampled_from([b"", b"  ", b"\xef\xbb\xbf{}", b"{} {}", b'{"a":NaN}', b"[", b'"\\ud83d"']),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(lines, max_size=12), st.sampled_from([None, "dpo", "reinforcement"]),
       st.sampled_from([None, "gpt-4o-mini-2024-07-18", "babbage-002"]))
def test_any_bytes_validate_without_crashing(
    rows: list[bytes], method: str | None, model: str | None
) -> None:
    with tempfile.NamedTemporaryFile(suffix=".jsonl") as f:
        data = b"\n".join(r.replace(b"\n", b" ") for r in rows)
        f.write(data)
        f.flush()
        report = validate_file(f.name, "f", Options(method=method, model=model, jobs=1))
    assert report.lines == data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    assert all(d.subject and 0 <= d.subject.line <= report.lines for d in report.diagnostics)
