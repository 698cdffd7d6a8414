"""Planner tests: make tests/builders.py importable as `builders`.

--import-mode=importlib puts no test folder on sys.path, so the module is loaded by path.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def _load_builders() -> None:
    if "builders" in sys.modules:
        return
    path = Path(__file__).parent.parent / "builders.py"
    spec = importlib.util.spec_from_file_location("builders", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["builders"] = module
    spec.loader.exec_module(module)


_load_builders()
