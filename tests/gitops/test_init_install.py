"""`ftctl init` writes the install requirement of the ftctl that is running, read from its own
install record (PEP 610 direct_url.json), and never an index name that was not its source.

Each case puts a real `ftctl-X.dist-info` (METADATA, and direct_url.json as pip writes it) at
the front of sys.path, so importlib.metadata finds it as it would find an installed ftctl.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from reconciler.app.install_source import EXAMPLE, running_install
from reconciler.cli import main

COMMIT = "0123456789abcdef0123456789abcdef01234567"
SHA = "ab" * 32
WORKFLOW = ".github/workflows/ftctl.yml"


def install_record(site: Path, direct_url: dict[str, object] | None,
                   version: str = "0.3.1") -> None:
    info = site / f"ftctl-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: ftctl\nVersion: {version}\n")
    if direct_url is not None:
        (info / "direct_url.json").write_text(json.dumps(direct_url))


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "site-packages"
    path.mkdir()
    monkeypatch.syspath_prepend(str(path))
    return path


def init(tmp_path: Path) -> tuple[str, str]:
    """Run `ftctl init` and return (what it printed, FTCTL_PACKAGE in the workflow)."""
    result = CliRunner().invoke(main, ["init", str(tmp_path / "project")])
    assert result.exit_code == 0, result.output
    workflow = yaml.safe_load((tmp_path / "project" / WORKFLOW).read_text("utf-8"))
    return result.output, workflow["env"]["FTCTL_PACKAGE"]


PINNED = [
    pytest.param({"url": "https://github.com/acme/ftctl.git",
                  "vcs_info": {"vcs": "git", "commit_id": COMMIT, "requested_revision": "v0.3"}},
                 f"ftctl @ git+https://github.com/acme/ftctl.git@{COMMIT}", id="git"),
    pytest.param({"url": "https://github.com/acme/tools.git", "subdirectory": "ftctl",
                  "vcs_info": {"vcs": "git", "commit_id": COMMIT}},
                 f"ftctl @ git+https://github.com/acme/tools.git@{COMMIT}#subdirectory=ftctl",
                 id="git-subdirectory"),
    pytest.param({"url": "https://example.com/ftctl-0.3.1.tar.gz",
                  "archive_info": {"hashes": {"sha256": SHA}}},
                 f"ftctl @ https://example.com/ftctl-0.3.1.tar.gz#sha256={SHA}", id="archive"),
    pytest.param({"url": "https://example.com/ftctl-0.3.1.tar.gz",
                  "archive_info": {"hash": f"sha256={SHA}"}},
                 f"ftctl @ https://example.com/ftctl-0.3.1.tar.gz#sha256={SHA}",
                 id="archive-legacy-hash"),
    pytest.param(None, "ftctl==0.3.1", id="index"),
]


@pytest.mark.parametrize(("record", "requirement"), PINNED)
def test_init_pins_where_the_running_ftctl_came_from(
    tmp_path: Path, site: Path, record: dict[str, object] | None, requirement: str
) -> None:
    install_record(site, record)
    printed, package = init(tmp_path)
    assert package == requirement
    assert f"The workflow installs {requirement} (the ftctl you ran" in printed
    assert "Action needed" not in printed


UNINSTALLABLE = [
    pytest.param({"url": "file:///home/me/ftctl", "dir_info": {"editable": True}},
                 "the local path /home/me/ftctl", id="editable-clone"),
    pytest.param({"url": "file:///home/me/ftctl", "dir_info": {}},
                 "the local path /home/me/ftctl", id="local-directory"),
    pytest.param({"url": "file:///tmp/ftctl-0.3.1.tar.gz",
                  "archive_info": {"hashes": {"sha256": SHA}}},
                 "the local path /tmp/ftctl-0.3.1.tar.gz", id="local-archive"),
    pytest.param({"url": "file:///home/me/ftctl", "vcs_info": {"vcs": "git",
                                                               "commit_id": COMMIT}},
                 "the local path /home/me/ftctl", id="local-git"),
    pytest.param({"url": "https://example.com/ftctl.tar.gz", "archive_info": {}},
                 "without a recorded hash", id="archive-without-hash"),
    pytest.param({"url": 'https://example.com/x"${{ secrets.KEY }}.git',
                  "vcs_info": {"vcs": "git", "commit_id": COMMIT}},
                 "cannot be written safely", id="unsafe-url"),
]


@pytest.mark.parametrize(("record", "origin"), UNINSTALLABLE)
def test_a_source_ci_cannot_install_gets_a_placeholder_and_a_warning(
    tmp_path: Path, site: Path, record: dict[str, object], origin: str
) -> None:
    install_record(site, record)
    printed, package = init(tmp_path)
    assert package.startswith("SET FTCTL_PACKAGE: ") and origin in package
    assert EXAMPLE in package
    assert "ftctl==" not in package  # never an index name the running ftctl did not come from
    assert "${{" not in package and '"' not in package
    assert "Action needed" in printed and "placeholder" in printed and EXAMPLE in printed


def test_a_broken_record_is_not_guessed(site: Path) -> None:
    info = site / "ftctl-0.3.1.dist-info"
    install_record(site, None)
    (info / "direct_url.json").write_text("{not json")
    source = running_install()
    assert source.requirement is None and "unreadable" in source.origin


def test_the_placeholder_makes_the_install_step_fail_saying_what_to_set(
    tmp_path: Path, site: Path
) -> None:
    install_record(site, {"url": "file:///home/me/ftctl", "dir_info": {"editable": True}})
    _, package = init(tmp_path)
    # The workflow's own install command, offline: pip refuses the value and prints it.
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-index",
                           "--disable-pip-version-check", package],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0
    assert "SET FTCTL_PACKAGE" in done.stderr and EXAMPLE in done.stderr
