"""Renderer behaviour beyond the golden files: colour, the switch, JSON, Markdown limits."""

from __future__ import annotations

import json
from types import ModuleType

import pytest

from reconciler.diagnostics import Diagnostic, Severity
from reconciler.plan import (
    Action,
    CreateJob,
    DeleteModel,
    FieldChange,
    FromStep,
    Plan,
    Reason,
    Step,
)
from reconciler.render import PLAN_FORMATS, render
from reconciler.render.markdown import GITHUB_COMMENT_LIMIT, marker, render_markdown


def test_the_summary_line_of_the_design(cases: ModuleType) -> None:
    out = render(cases.retrain_fields(), "text")
    assert out.rstrip().endswith("Plan: 1 to create, 1 to retrain, 0 to delete.")
    assert "must be retrained because the training file and n_epochs changed" in out
    assert "# forces retrain" in out


def test_no_changes_line(cases: ModuleType) -> None:
    assert render(cases.no_changes(), "text") == "No changes. Your models match the manifests.\n"


def test_unknown_base_is_known_after_apply(cases: ModuleType) -> None:
    out = render(cases.ref_child(), "text")
    assert '"ft:gpt-4o-mini-2024-07-18:acme:base-tone:v2" -> (known after apply)' in out


def test_colour_only_when_asked(cases: ModuleType) -> None:
    for name, build in cases.CASES.items():
        assert "\x1b[" not in render(build(), "text"), name
        assert "\x1b[" not in render(build(), "json"), name
        assert "\x1b[" not in render(build(), "markdown"), name
    coloured = render(cases.retrain_fields(), "text", color=True)
    assert "\x1b[32m+\x1b[0m" in coloured
    plain = render(cases.retrain_fields(), "text")
    assert _strip_ansi(coloured) == plain


def _strip_ansi(value: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", value)


def test_unknown_format_is_refused(cases: ModuleType) -> None:
    assert PLAN_FORMATS == ("text", "json", "markdown")
    with pytest.raises(ValueError, match="unknown plan format 'yaml'"):
        render(cases.no_changes(), "yaml")


def test_rendering_is_deterministic(cases: ModuleType) -> None:
    for build in cases.CASES.values():
        for fmt in PLAN_FORMATS:
            assert render(build(), fmt) == render(build(), fmt)


def test_json_contract(cases: ModuleType) -> None:
    doc = json.loads(render(cases.retrain_fields(), "json"))
    assert list(doc) == [
        "format_version", "workspace", "snapshot_fingerprint", "has_changes", "converged",
        "unsettled", "errored", "targets", "changes", "uploads", "delete_files", "summary",
        "estimate",
        "diagnostics",
    ]
    assert doc["summary"] == {"create": 1, "retrain": 1, "continue": 0, "cancel": 0,
                              "delete": 0, "upload": 1, "verify": 0, "deploy": 0,
                                  "undeploy": 0, "noop": 0}
    bot = next(c for c in doc["changes"] if c["name"] == "support-bot")
    assert bot["action"] == "retrain" and bot["reason"] == "spec_changed"
    assert bot["fields"][0] == {
        "path": "training_file", "before": "data/support/train.jsonl@aaaaaaaaaaaa",
        "after": "data/support/train.jsonl@bbbbbbbbbbbb", "after_unknown": False,
        "forces_retrain": True,
    }
    assert bot["uploads"][0]["path"] == "data/support/train.jsonl"
    assert bot["estimate"] == {"training_tokens": 520000, "epochs": 4, "cost_usd": 1.56}


def test_json_unknown_is_null_with_a_flag(cases: ModuleType) -> None:
    doc = json.loads(render(cases.ref_child(), "json"))
    child = next(c for c in doc["changes"] if c["name"] == "support-tone")
    assert child["fields"][0]["after"] is None and child["fields"][0]["after_unknown"] is True
    assert child["base_model"] is None and child["base_model_unknown"] is True


def test_json_lists_every_destructive_action(cases: ModuleType) -> None:
    doc = json.loads(render(cases.cancel_and_recreate(), "json"))
    (change,) = doc["changes"]
    assert change["actions"] == ["cancel", "retrain"]
    assert change["cancel_jobs"] == ["ftjob-run1"]
    assert len(change["fields"]) == 2  # the diff both steps carry is shown once


def test_a_shared_dataset_is_listed_under_each_model(cases: ModuleType) -> None:
    up = cases.upload("a", "data/shared.jsonl", cases.SHA_A, 10)
    ref = FromStep(key=up.key, field="id")
    plan = Plan(workspace="w", snapshot_fingerprint="f", steps=(
        up,
        cases.create("a", training=ref, depends_on=(up.key,)),
        cases.create("b", training=ref, depends_on=(up.key,)),
    ))
    doc = json.loads(render(plan, "json"))
    assert [len(c["uploads"]) for c in doc["changes"]] == [1, 1]
    assert doc["uploads"] == []


def test_notes_do_not_repeat_the_model_name() -> None:
    note = Diagnostic(severity=Severity.INFO, summary="bot: job j is running", address="bot")
    other = Diagnostic(severity=Severity.WARNING, summary="base retires", address="bot.spec")
    out = render(Plan(workspace="w", snapshot_fingerprint="f", notes=(note, other)), "text")
    assert "Note: bot: job j is running\n" in out
    assert "Warning: bot.spec: base retires\n" in out


def test_markdown_starts_with_the_marker(cases: ModuleType) -> None:
    for build in cases.CASES.values():
        plan = build()
        assert render(plan, "markdown").splitlines()[0] == marker(plan.workspace)
    assert marker("prod") == "<!-- ftctl:plan workspace=prod -->"


def test_markdown_warns_loudly_about_deletes_and_cancels(cases: ModuleType) -> None:
    out = render(cases.delete_warning(), "markdown")
    assert "> [!CAUTION]" in out
    assert "deletes 2 model versions and cancels 1 job" in out
    assert "> [!CAUTION]" not in render(cases.retrain_fields(), "markdown")


def test_markdown_escapes_html_and_table_pipes() -> None:
    step = Step(key="a/delete", action=Action.DELETE, name="a", reason=Reason.ORPHANED,
                payload=DeleteModel(model_id="ft:x"))
    note = Diagnostic(severity=Severity.WARNING, summary="<script>alert(1)</script> | x")
    out = render(Plan(workspace="w", snapshot_fingerprint="f", steps=(step,), notes=(note,)),
                 "markdown")
    assert "<script>" not in out and "&lt;script&gt;" in out


def _huge_plan(models: int, fields: int) -> Plan:
    steps = []
    for i in range(models):
        changes = tuple(
            FieldChange(path=f"method.hyperparameters.h{j}", before="x" * 40, after="y" * 40,
                        forces_new=True)
            for j in range(fields)
        )
        steps.append(Step(
            key=f"m{i:05d}/create-job", action=Action.RETRAIN, name=f"m{i:05d}",
            reason=Reason.SPEC_CHANGED, changes=changes,
            payload=CreateJob(name=f"m{i:05d}", model="gpt-4o-mini", training_file="file-1",
                              validation_file=None, method_json="{}", suffix=None, seed=None,
                              integrations_json=None, metadata=(), version=2),
        ))
    notes = tuple(Diagnostic(severity=Severity.WARNING, summary=f"note {i} " + "n" * 200)
                  for i in range(500))
    return Plan(workspace="w", snapshot_fingerprint="f", steps=tuple(steps), notes=notes)


@pytest.mark.parametrize(("models", "fields"), [(40, 30), (3000, 3), (2, 3000)])
def test_markdown_stays_under_githubs_limit(models: int, fields: int) -> None:
    out = render(_huge_plan(models, fields), "markdown")
    assert len(out.encode("utf-16-le")) // 2 <= GITHUB_COMMENT_LIMIT
    assert out.startswith(marker("w"))
    assert "This comment was shortened" in out
    assert out.count("<details>") == out.count("</details>")
    assert out.count("```") % 2 == 0


def test_markdown_small_limit_keeps_the_head(cases: ModuleType) -> None:
    plan = cases.retrain_fields()
    full = render_markdown(plan)
    cut = render_markdown(plan, limit=len(full) - 10)
    assert "This comment was shortened" in cut
    assert "**Plan: 1 to create, 1 to retrain, 0 to delete.**" in cut
    assert len(cut) <= len(full) - 10


def test_markdown_fence_outlasts_backticks_in_values(cases: ModuleType) -> None:
    step = cases.create("a", action=Action.RETRAIN, reason=Reason.SPEC_CHANGED, changes=(
        FieldChange(path="suffix", before="x```y", after="z", forces_new=True),))
    out = render(Plan(workspace="w", snapshot_fingerprint="f", steps=(step,)), "markdown")
    assert "````diff\n" in out and "\n````\n" in out
