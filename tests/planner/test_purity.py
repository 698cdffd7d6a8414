"""The planner and its helpers are pure: no disk, network, clock, environment or randomness.

An AST scan backs up import-linter, which does not see the standard library.
"""

from __future__ import annotations

import ast
import importlib

import pytest

PURE = ("reconciler.planner", "reconciler.planner.compare", "reconciler.planner.scope",
        "reconciler.planner.steps", "reconciler.planner.decide", "reconciler.planner.state",
        "reconciler.planner.verdicts",
        "reconciler.planner.drift", "reconciler.planner.normalize", "reconciler.planner.field_diff",
        "reconciler.planner.identity", "reconciler.refs", "reconciler.model_names",
        "reconciler.basemodels")
FORBIDDEN_MODULES = {"os", "sys", "io", "socket", "subprocess", "httpx", "random", "time",
                     "pathlib", "shutil", "tempfile", "sqlite3", "threading", "uuid"}
FORBIDDEN_CALLS = {"open", "now", "today", "utcnow", "getenv", "input", "print"}


@pytest.mark.parametrize("name", PURE)
def test_module_does_no_io(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__file__ is not None and module.__doc__
    tree = ast.parse(open(module.__file__, encoding="utf-8").read())  # noqa: SIM115
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots = {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots = {(node.module or "").split(".")[0]}
        else:
            roots = set()
        assert not roots & FORBIDDEN_MODULES, (name, roots)
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            assert called not in FORBIDDEN_CALLS, (name, called, node.lineno)
