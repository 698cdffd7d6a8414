"""Property test: whatever values a manifest holds, the loader reports diagnostics, never raises.

Every diagnostic it returns names the manifest file and a line inside it.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.loader import load_project

from .conftest import FIXTURES, SETTINGS

FULL = yaml.safe_load((FIXTURES / "valid" / "full.yaml").read_text())

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8,
)
PATHS = [
    ("spec", "model"), ("spec", "suffix"), ("spec", "training_file"), ("spec", "method"),
    ("spec", "method", "hyperparameters"), ("spec", "method", "type"), ("spec", "seed"),
    ("spec", "checks"), ("spec", "lifecycle"), ("spec", "integrations"), ("metadata", "name"),
    ("metadata",), ("spec", "update"), ("spec", "adopt"), ("spec", "validation_file"),
]


def _set(doc: dict, path: tuple[str, ...], value: object) -> dict:
    out = yaml.safe_load(yaml.safe_dump(doc))
    node = out
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value
    return out


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(PATHS), value=values)
def test_loader_never_raises(tmp_path: Path, path: tuple[str, ...], value: object) -> None:
    root = tmp_path / "p"
    (root / "models").mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    (root / "data" / "train.jsonl").write_text('{"messages": []}\n')
    (root / "data" / "valid.jsonl").write_text('{"messages": []}\n')
    (root / "ftctl.yaml").write_text(SETTINGS)
    text = yaml.safe_dump(_set(FULL, path, value))
    (root / "models" / "m.yaml").write_text(text)
    result = load_project(str(root))
    n_lines = len(text.splitlines())
    for d in result.diagnostics:
        assert d.subject is not None and d.subject.file == "models/m.yaml"
        assert 1 <= d.subject.line <= n_lines
