"""Bad input at scale must not become a denial of service: a pull request that adds a dataset
of 100,000 invalid lines (900 kB) must be rejected by `validate` in seconds, not hours.

No timing assertion: the test's timeout is the guard (linear work takes about a second here;
the quadratic byte-offset sum it was written against, fixed in d28fd7b, needed ~5e9 steps).
A linear scan of these lines takes well under a second, so 5 s leaves room on a busy machine.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.datasets import inspect


@pytest.mark.timeout(5)
def test_a_hundred_thousand_bad_lines_are_rejected_quickly(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.jsonl").write_text("not json\n" * 100_000)
    _info, diags = inspect(str(tmp_path), "data/train.jsonl", cache_dir=str(tmp_path / "c"))
    assert any(d.severity.value == "error" and d.subject and d.subject.line == 1 for d in diags)
