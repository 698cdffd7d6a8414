"""Golden-file support for the renderer tests: `pytest tests/render --update-golden` rewrites them.

The option is registered here, so it is known when pytest starts from tests/render (or deeper);
FTCTL_UPDATE_GOLDEN=1 does the same from anywhere (a conftest below the root is loaded too late
for a command-line option when pytest starts at the repository root).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from reconciler import __version__

GOLDEN = Path(__file__).parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/render/golden/* from the current renderers instead of comparing",
    )


def _load_cases() -> ModuleType:
    # --import-mode=importlib puts no test folder on sys.path, so load the sibling by path.
    path = Path(__file__).with_name("cases.py")
    spec = importlib.util.spec_from_file_location("render_cases", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CASES = _load_cases()


def _load_builders() -> None:
    # tests/builders.py (the planner's data factories), registered as `builders` like
    # tests/planner/conftest.py does, for the tests that render real planner output.
    if "builders" in sys.modules:
        return
    path = Path(__file__).parent.parent / "builders.py"
    spec = importlib.util.spec_from_file_location("builders", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["builders"] = module
    spec.loader.exec_module(module)


_load_builders()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case_name" in metafunc.fixturenames:
        metafunc.parametrize("case_name", sorted(CASES.CASES))


@pytest.fixture
def cases() -> ModuleType:
    """The scenario module (tests/render/cases.py): plain Plan builders."""
    return CASES


def _updating(config: pytest.Config) -> bool:
    flag = bool(config.getoption("--update-golden", default=False))
    return flag or os.environ.get("FTCTL_UPDATE_GOLDEN") == "1"


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """golden(relative_path, actual): compare with the file, or rewrite it when updating."""
    updating = _updating(request.config)

    def check(relative: str, actual: str) -> None:
        path = GOLDEN / relative
        if updating:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8", newline="\n")
            return
        assert path.exists(), f"{path} is missing; run: pytest tests/render --update-golden"
        expected = path.read_text(encoding="utf-8")
        assert actual == expected, f"{relative} differs; review, then pytest --update-golden"

    return check


@pytest.fixture
def planfile_golden(golden: Callable[[str, str], None]) -> Callable[[str, str], None]:
    """golden() for a saved-plan file's text: the ftctl version changes with every release,
    so it is written as "(this ftctl)"; everything else is pinned literally."""

    def check(relative: str, text: str) -> None:
        golden(relative, text.replace(f'"ftctl_version": "{__version__}"',
                                      '"ftctl_version": "(this ftctl)"'))

    return check
