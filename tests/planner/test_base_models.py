"""A base model the provider does not have is caught at plan (and warned about at validate),
at the manifest's `model:` line, with the closest valid name; nothing is planned for it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from builders import BASE, a_desired, a_job_for, a_manifest, a_snapshot, files_for
from click.testing import CliRunner, Result
from planner_projects import carry_out, wait_until_settled, write_project

from reconciler.app.plan import run_plan
from reconciler.basemodels import FINE_TUNABLE, ProviderModels, fine_tunable, static_check
from reconciler.cli import main
from reconciler.cli.provider import open_remote
from reconciler.diagnostics import Severity, SourceRange
from reconciler.plan import Action, PlanOptions, Reason
from reconciler.planner import plan
from reconciler.snapshot import RemoteModel
from reconciler.spec import Settings

TYPO = "gpt-4o-mni-2024-07-18"
AT_MODEL = SourceRange(file="models/bot.yaml", line=6, column=10)


def _typo_after_deploy() -> tuple[object, object]:
    deployed = a_desired(a_manifest("bot"))
    current = a_job_for(deployed, "bot", id="ftjob-1")
    edited = a_desired(replace(a_manifest("bot", model=TYPO),
                               spec=replace(a_manifest("bot", model=TYPO).spec,
                                            model_source=AT_MODEL)))
    return edited, a_snapshot(jobs=[current], files=files_for(deployed))


def test_an_unknown_base_model_is_an_error_at_its_line_and_plans_nothing() -> None:
    desired, snapshot = _typo_after_deploy()
    result = plan(desired, snapshot)  # type: ignore[arg-type]
    assert result.has_errors
    (error,) = [d for d in result.notes if d.is_error]
    assert error.subject == AT_MODEL and error.address == "bot"
    assert error.summary == (f"the provider has no model {TYPO}; "
                             f"did you mean gpt-4o-mini-2024-07-18?")
    # Above all, the serving version is not retired for a model that cannot be trained.
    assert [(s.action, s.reason) for s in result.steps] == [(Action.NOOP, Reason.BLOCKED)]
    targeted = plan(desired, snapshot, PlanOptions(targets=("bot",)))  # type: ignore[arg-type]
    assert [d.summary for d in targeted.notes if d.is_error] == [error.summary]


def test_known_models_aliases_and_snapshots_pass() -> None:
    for model in (BASE, "gpt-4o-mini"):
        desired = a_desired(a_manifest("bot", model=model))
        result = plan(desired, a_snapshot(files=files_for(desired)))
        assert not result.has_errors, (model, result.notes)
        assert [s.action for s in result.steps if s.name == "bot"] == [Action.CREATE]
    only_alias = a_snapshot(models=[RemoteModel(id="gpt-4o-mini", owned_by="system")])
    assert not plan(a_desired(a_manifest("bot")), only_alias).has_errors


def test_a_provider_that_lists_no_base_model_cannot_tell() -> None:
    desired = a_desired(a_manifest("bot", model=TYPO))
    result = plan(desired, a_snapshot(models=[]))
    assert not result.has_errors
    assert not ProviderModels.of([RemoteModel(id="ft:x:o::1", owned_by="o")]).lists_bases


def test_a_fine_tuned_base_must_exist_itself() -> None:
    models = ProviderModels.of([RemoteModel(id=BASE, owned_by="system"),
                                RemoteModel(id="ft:gpt-4o-mini-2024-07-18:o:a:1", owned_by="o")])
    assert models.has("ft:gpt-4o-mini-2024-07-18:o:a:1")
    assert not models.has("ft:gpt-4o-mini-2024-07-18:o:a:2")
    assert not models.has("gpt-4o-mini-2024-08-01")  # another date is another model


def test_the_static_list_warns_at_validate() -> None:
    assert all(fine_tunable(m) for m in (*FINE_TUNABLE, "gpt-4o-mini", "gpt-4.1",
                                         "ft:gpt-4o-mini-2024-07-18:o:a:1"))
    assert not fine_tunable(TYPO) and not fine_tunable("gpt-4o-2024-05-13")
    manifest = a_manifest("bot", model=TYPO)
    warning = static_check(replace(manifest, spec=replace(manifest.spec, model_source=AT_MODEL)))
    assert warning is not None and warning.severity is Severity.WARNING
    assert warning.subject == AT_MODEL
    assert warning.summary == (f"{TYPO} is not a base model OpenAI lists as fine-tunable; "
                               "did you mean gpt-4o-mini-2024-07-18?")
    assert static_check(a_manifest("bot")) is None
    assert static_check(a_manifest("kid", parent="bot")) is None


# --- end to end -------------------------------------------------------------------------------

def ftctl(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["-C", str(root), *args])


def test_a_typo_in_a_deployed_model_fails_plan_and_proposes_no_delete(tmp_path: Path) -> None:
    write_project(tmp_path, speed=5000)
    run = run_plan(str(tmp_path), open_remote=open_remote)
    assert run.plan is not None and run.ok
    with open_remote(Settings(workspace="e2e", root=str(tmp_path))) as api:
        carry_out(run.plan, api, tmp_path)
        wait_until_settled(api)
        (deployed,) = [m.id for m in api.list_models() if m.is_fine_tuned]
    manifest = tmp_path / "models" / "bot.yaml"
    manifest.write_text(manifest.read_text().replace("gpt-4o-mini-2024-07-18", TYPO))

    validated = ftctl(tmp_path, "validate")
    assert validated.exit_code == 0, validated.stderr  # no network: a warning only
    assert f"models/bot.yaml:6:10: warning: {TYPO} is not a base model" in validated.stderr

    planned = ftctl(tmp_path, "plan")
    assert planned.exit_code == 1
    assert (f"models/bot.yaml:6:10: error: the provider has no model {TYPO}; "
            "did you mean gpt-4o-mini-2024-07-18?") in planned.stderr
    assert "Traceback" not in planned.stderr + planned.stdout
    doc = json.loads(ftctl(tmp_path, "plan", "--format", "json").stdout)
    assert doc["errored"] and [d["code"] for d in doc["diagnostics"] if d["severity"] == "error"
                               ] == ["unknown_base_model"]
    assert [(c["name"], c["actions"]) for c in doc["changes"]] == [("bot", ["noop"])]
    applied = ftctl(tmp_path, "apply", "--auto-approve")
    assert applied.exit_code == 1 and "HTTP 400" not in applied.output
    with open_remote(Settings(workspace="e2e", root=str(tmp_path))) as api:
        assert [m.id for m in api.list_models() if m.is_fine_tuned] == [deployed]
