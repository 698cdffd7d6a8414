"""The API-key canary plugin (tests/security_plugin.py) really catches leaks: a scratch test
suite run in a separate pytest process, with only that plugin, fails exactly the tests that put
the key into stdout, stderr, a log record, an exception or a file under tmp_path.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parents[1]

SCRATCH = '''
import logging, os, sys

def test_clean(tmp_path):
    print("nothing to see")
    (tmp_path / "plan.json").write_text("{}")

def test_stdout():
    print(os.environ["OPENAI_API_KEY"])

def test_stderr():
    sys.stderr.write("key=" + os.environ["OPENAI_API_KEY"] + "\\n")

def test_log():
    logging.getLogger("x").warning("using %s", os.environ["OPENAI_API_KEY"])

def test_exception():
    raise RuntimeError("bad key " + os.environ["OPENAI_API_KEY"])

def test_file(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "plan.json").write_text(os.environ["OPENAI_API_KEY"])

def test_capsys_unread(capsys):
    print(os.environ["OPENAI_API_KEY"])

def test_key_is_a_fresh_canary_per_test():
    assert os.environ["OPENAI_API_KEY"].startswith("sk-canary-")
'''


def test_the_canary_plugin_fails_exactly_the_leaking_tests(tmp_path: Path) -> None:
    (tmp_path / "test_scratch.py").write_text(SCRATCH)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {**os.environ, "PYTHONPATH": str(TESTS_DIR)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "security_plugin", "-p", "no:cacheprovider",
         "-q", "-rfE", "test_scratch.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    report = done.stdout
    flagged = {line.split("::")[1].split()[0] for line in report.splitlines()
               if line.startswith(("FAILED", "ERROR")) and "::" in line}
    assert flagged == {"test_stdout", "test_stderr", "test_log", "test_exception",
                       "test_file", "test_capsys_unread"}, report
    assert "leaked into: failure text / exception" in report  # not only "it raised"
    assert "leaked into: file sub/plan.json" in report


def test_the_plugin_is_active_in_this_suite(api_key_canary: str) -> None:
    """Guards the one-line registration in tests/conftest.py."""
    assert os.environ["OPENAI_API_KEY"] == api_key_canary
    assert api_key_canary.startswith("sk-canary-") and len(api_key_canary) == 42
