"""Fuzzing (hypothesis) of the manifest loader and the JSONL validator: whatever the bytes, they
report diagnostics located in the file, and never raise.

The manifest fuzz mutates the raw text of a valid manifest (YAML syntax, anchors, tags, tabs,
document markers, bytes), complementing tests/foundation/test_loader_fuzz.py, which varies
values inside well-formed YAML. The JSONL fuzz feeds arbitrary JSON values, mutated valid rows
and raw bytes as lines, for each fine-tuning method. Default: a short run; `-m slow`: long.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.datasets import inspect
from reconciler.loader import load_project

SETTINGS = "apiVersion: ftctl/v1\nkind: Project\nworkspace: fuzz\nprovider: {type: local}\n"
MANIFEST = """\
apiVersion: ftctl/v1
kind: FineTunedModel
metadata:
  name: fuzz
  labels: {team: a}
spec:
  model: gpt-4o-mini-2024-07-18
  suffix: fuzz
  training_file: ../data/train.jsonl
  method:
    type: supervised
    supervised:
      hyperparameters: {n_epochs: 2, batch_size: auto}
  seed: 7
  lifecycle: {keep_versions: 1}
  checks:
    - prompt: "hello"
      expect_contains: "hi"
"""
YAML_BITS = ["{", "}", "[", "]", ":", ": ", "- ", "&a ", "*a", "!!python/name:os.system ",
             "!!binary ", "!custom ", "\t", "---\n", "...\n", "%YAML 1.1\n", "? ", "|", ">",
             "#", "'", '"', "\\", "<<: *a\n", "\x00", "\ufeff", "\u2028", "\x85", "~", "null",
             ".nan", "0x1F", "1e999", "-", "@", "`", ",", "\n", "  ", "ref:", "{ref: fuzz}"]

edits = st.lists(
    st.tuples(st.integers(0, len(MANIFEST)), st.integers(0, 12),
              st.one_of(st.sampled_from(YAML_BITS), st.text(max_size=6))),
    min_size=1, max_size=6,
)


def mutate(text: str, changes: list[tuple[int, int, str]]) -> str:
    for pos, cut, insert in changes:
        pos = min(pos, len(text))
        text = text[:pos] + insert + text[pos + cut:]
    return text


def check_manifest(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "models"))
        os.makedirs(os.path.join(tmp, "data"))
        with open(os.path.join(tmp, "ftctl.yaml"), "w") as fh:
            fh.write(SETTINGS)
        with open(os.path.join(tmp, "data", "train.jsonl"), "w") as fh:
            fh.write(chat_rows(12))
        with open(os.path.join(tmp, "models", "m.yaml"), "wb") as fh:
            fh.write(data)
        result = load_project(tmp)  # must not raise
    # YAML also breaks lines at \r, U+0085, U+2028 and U+2029: count with splitlines too.
    n_lines = max(data.count(b"\n"), len(data.decode("utf-8", "replace").splitlines())) + 1
    for d in result.diagnostics:
        assert d.subject is not None and d.subject.file in ("models/m.yaml", "ftctl.yaml"), d
        assert 0 <= d.subject.line <= n_lines + 1, d  # 0: the file as a whole


def chat_rows(n: int) -> str:
    return "".join(json.dumps({"messages": [{"role": "user", "content": f"q{i}"},
                                            {"role": "assistant", "content": f"a{i}"}]}) + "\n"
                   for i in range(n))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(["messages", "role", "content", "prompt", "completion",
                                       "input", "preferred_output", "non_preferred_output",
                                       "weight", "tools", "name", "x"]) | st.text(max_size=6),
                      inner, max_size=4),
    max_leaves=12,
)
row_lines = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=40),
    st.sampled_from(chat_rows(3).splitlines()).map(str.encode),
    st.tuples(st.sampled_from(chat_rows(3).splitlines()), st.integers(0, 80),
              st.text(max_size=4)).map(lambda t: (t[0][:t[1]] + t[2] + t[0][t[1]:]).encode(
                  "utf-8", "surrogatepass")),
)


def check_jsonl(lines: list[bytes], method: str | None) -> None:
    data = b"\n".join(lines) + b"\n"
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "data"))
        with open(os.path.join(tmp, "data", "train.jsonl"), "wb") as fh:
            fh.write(data)
        _info, diags = inspect(tmp, "data/train.jsonl", base_model="gpt-4o-mini-2024-07-18",
                               method=method, cache_dir=os.path.join(tmp, "cache"))
    for d in diags:
        assert d.subject is not None and d.subject.file == "data/train.jsonl", d
        assert 0 <= d.subject.line <= data.count(b"\n") + 1, d  # 0: the file as a whole


METHODS = [None, "supervised", "dpo", "reinforcement"]
QUICK = settings(max_examples=40, deadline=None, database=None,
                 suppress_health_check=list(HealthCheck))
LONG = settings(max_examples=3000, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))


def manifest_fuzz(profile: settings) -> Callable[[], None]:
    @profile
    @given(changes=edits)
    def run(changes: list[tuple[int, int, str]]) -> None:
        check_manifest(mutate(MANIFEST, changes).encode("utf-8", "surrogatepass"))
    return run


def raw_manifest_fuzz(profile: settings) -> Callable[[], None]:
    @profile
    @given(data=st.binary(max_size=300))
    def run(data: bytes) -> None:
        check_manifest(data)
    return run


def jsonl_fuzz(profile: settings) -> Callable[[], None]:
    @profile
    @given(lines=st.lists(row_lines, min_size=0, max_size=15), method=st.sampled_from(METHODS))
    def run(lines: list[bytes], method: str | None) -> None:
        check_jsonl(lines, method)
    return run


@pytest.mark.parametrize("fuzz", [manifest_fuzz, raw_manifest_fuzz, jsonl_fuzz])
def test_fuzz_finds_no_crash(fuzz: Callable[[settings], Callable[[], None]]) -> None:
    fuzz(QUICK)()


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("fuzz", [manifest_fuzz, raw_manifest_fuzz, jsonl_fuzz])
def test_long_fuzz_finds_no_crash(fuzz: Callable[[settings], Callable[[], None]]) -> None:
    fuzz(LONG)()
