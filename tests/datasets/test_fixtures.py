"""Every check has a fixture line marked with the code it must produce; valid files of every
format must pass with no error and no warning."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from reconciler.datasets import Options, validate_file
from reconciler.diagnostics import Severity

INLINE = ["file_level", "chat_invalid", "dpo_invalid", "rft_invalid", "pc_invalid",
          "pc_identical", "pretty"]
VALID = os.path.join(os.path.dirname(__file__), "fixtures", "valid")


def _found(report_diags: tuple, *, infos: bool) -> set[tuple[int, str]]:
    return {
        (d.subject.line, d.code)
        for d in report_diags
        if infos or d.severity is not Severity.INFO
    }


@pytest.mark.parametrize("name", INLINE)
@pytest.mark.parametrize("jobs", [1, 2])
def test_inline_expectations(
    name: str, jobs: int, inline_fixture: Callable[[str], tuple[str, object]]
) -> None:
    path, fixture = inline_fixture(f"{name}.jsonl.in")
    opts = fixture.options  # type: ignore[attr-defined]
    report = validate_file(
        path, "f.jsonl", Options(method=opts.get("method"), model=opts.get("model"), jobs=jobs)
    )
    expected: set[tuple[int, str]] = fixture.expected  # type: ignore[attr-defined]
    whole_file = {code for line, code in expected if line == 0}  # "#!" codes: any line
    found = _found(report.diagnostics, infos=False)
    codes = {code for _, code in _found(report.diagnostics, infos=True)}
    missing = {(n, c) for n, c in expected if (n, c) not in found and not (n == 0 and c in codes)}
    unexpected = {(n, c) for n, c in found if (n, c) not in expected and c not in whole_file}
    assert not missing, f"missing {sorted(missing)}"
    assert not unexpected, f"unexpected {sorted(unexpected)}"


@pytest.mark.parametrize("name", sorted(os.listdir(VALID)))
def test_valid_files_pass(name: str) -> None:
    model = "babbage-002" if name.startswith("prompt") else "gpt-4o-mini-2024-07-18"
    method = {"dpo.jsonl": "dpo", "reinforcement.jsonl": "reinforcement"}.get(name, "supervised")
    report = validate_file(os.path.join(VALID, name), name, Options(method=method, model=model))
    problems = [d for d in report.diagnostics if d.severity is not Severity.INFO]
    assert problems == []
    assert report.examples == 12
    assert report.billable and report.billable > 12 * 5


@pytest.mark.parametrize("name", sorted(os.listdir(VALID)))
def test_valid_files_pass_with_format_inferred(name: str) -> None:
    report = validate_file(os.path.join(VALID, name), name, Options())
    assert [d for d in report.diagnostics if d.severity is not Severity.INFO] == []
    expected = {"dpo.jsonl": "dpo", "reinforcement.jsonl": "reinforcement",
                "prompt_completion.jsonl": "prompt_completion"}.get(name, "chat")
    assert report.format == expected
