"""Planner tests: make tests/builders.py and planner_projects.py importable by name.

--import-mode=importlib puts no test folder on sys.path, so the module is loaded by path.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def _load(name: str, path: Path) -> None:
    if name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


_load("builders", Path(__file__).parent.parent / "builders.py")
_load("planner_projects", Path(__file__).with_name("planner_projects.py"))
