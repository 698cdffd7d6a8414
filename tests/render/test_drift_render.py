"""Drift renderers: the switch, JSON shape, colour, and the Markdown size limit."""

from __future__ import annotations

import json
from types import ModuleType

import pytest

from reconciler.plan import DriftItem, DriftKind, DriftReport
from reconciler.render.drift import drift_marker, render_drift
from reconciler.render.markdown import GITHUB_COMMENT_LIMIT


def test_json_shape(cases: ModuleType) -> None:
    doc = json.loads(render_drift(cases.drift_all_kinds(), "json"))
    assert list(doc) == ["format_version", "workspace", "today", "has_drift", "items",
                         "summary", "diagnostics"]
    assert doc["has_drift"] is True
    assert doc["summary"]["failed_job"] == 1
    assert doc["items"][-2] == {
        "kind": "base_model_retiring", "name": "faq", "subject": "gpt-4o-mini-2024-07-18",
        "date": "2027-01-15", "message": doc["items"][-2]["message"],
    }
    assert doc["items"][-1]["kind"] == "below_evaluation_min"


def test_no_drift(cases: ModuleType) -> None:
    out = render_drift(cases.no_drift(), "text")
    assert out == 'No drift. The remote matches the manifests of workspace "prod".\n'
    assert json.loads(render_drift(cases.no_drift(), "json"))["has_drift"] is False


def test_colour_only_when_asked(cases: ModuleType) -> None:
    assert "\x1b[" not in render_drift(cases.drift_all_kinds(), "text")
    assert "\x1b[" in render_drift(cases.drift_all_kinds(), "text", color=True)


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown drift format"):
        render_drift(DriftReport(workspace="w"), "html")


def test_markdown_is_marked_and_bounded() -> None:
    items = tuple(
        DriftItem(kind=DriftKind.UNMANAGED_MODEL, subject=f"ft:m:{i}",
                  message=f"fine-tuned model ft:m:{i} " + "x" * 900)
        for i in range(5_000)
    )
    out = render_drift(DriftReport(workspace="w", items=items), "markdown")
    assert out.splitlines()[0] == drift_marker("w") == "<!-- ftctl:drift workspace=w -->"
    assert len(out.encode("utf-16-le")) // 2 <= GITHUB_COMMENT_LIMIT
    assert "This comment was shortened" in out
    assert "**Drift: 5000 unmanaged.**" in out
