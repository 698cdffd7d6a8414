"""The schemas ship inside the package, so a non-editable `pip install .` finds them."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_package_schemas_dir_is_the_repository_schemas_dir() -> None:
    # reconciler/schemas is a link to ../schemas: one definition, copied into wheels as
    # package data (pyproject: package-data "schemas/*.json").
    linked = REPO / "reconciler" / "schemas"
    assert linked.resolve() == (REPO / "schemas").resolve()
    assert sorted(p.name for p in linked.glob("*.json")) == [
        "ftctl-manifest.schema.json", "ftctl-project.schema.json",
    ]
    assert '"schemas/*.json"' in (REPO / "pyproject.toml").read_text()


@pytest.mark.slow
def test_wheel_contains_the_schemas(tmp_path: Path) -> None:
    # Build from a copy: pip builds in the source tree and would leave build/ behind.
    src = tmp_path / "src"
    keep = ("pyproject.toml", "README.md", "reconciler", "schemas")
    shutil.copytree(REPO, src, symlinks=True, ignore=lambda d, names: [
        n for n in names if Path(d) == REPO and n not in keep or n == "__pycache__"
    ])
    out = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
        check=True, timeout=600, cwd=tmp_path,
    )
    [wheel] = out.glob("ftctl-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "reconciler/schemas/ftctl-manifest.schema.json" in names
    assert "reconciler/schemas/ftctl-project.schema.json" in names
