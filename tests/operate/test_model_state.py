"""End to end against the emulator: checks verdicts recorded on the provider decide which version
serves, and the planner decides what to verify, retrain and retire.

Every scenario deletes `.ftctl/` between runs: verdicts live on the provider, so a fresh CI
runner (or another machine) sees what the last one decided.
"""

from __future__ import annotations

import json
import shutil
from typing import Any

from reconciler.app.apply import ApplyOptions, ApplyReport, run_apply
from reconciler.app.inspect import ModelInfo, outputs, run_show
from reconciler.app.plan import PlanRunOptions, run_drift, run_plan
from reconciler.app.try_model import Prompt, try_model
from reconciler.cli.cmd_show import format_models
from reconciler.events import NullReporter
from reconciler.plan import Action, DriftKind, Plan, Reason
from reconciler.planner.verdicts import parse_verdict_file_name

from .conftest import CHAT_BASE, Local, Project

PASSING = ("Where is order 3?", "tracking")


def write_data(project: Project, name: str, answer: str) -> str:
    """Chat examples whose answers follow `answer` (the emulator answers from them)."""
    rows = [json.dumps({"messages": [
        {"role": "user", "content": f"Where is order {i}?"},
        {"role": "assistant", "content": answer.format(i=i)}]}) for i in range(12)]
    path = project.root / "data" / f"{name}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n")
    return f"../data/{name}.jsonl"


def write_model(project: Project, name: str, *, answer: str = "Order {i}: tracking T{i}.",
                checks: tuple[tuple[str, str], ...] = (PASSING,), parent: str | None = None,
                keep_versions: int = 1) -> None:
    data = write_data(project, name, answer)
    model = f"{{ref: {parent}}}" if parent else CHAT_BASE
    lines = [
        "apiVersion: ftctl/v1", "kind: FineTunedModel", f"metadata: {{name: {name}}}", "spec:",
        f"  model: {model}", f"  training_file: {data}",
        "  method: {type: supervised, hyperparameters: {n_epochs: 1}}",
        f"  lifecycle: {{keep_versions: {keep_versions}}}",
    ]
    if checks:
        lines.append("  checks:")
        for prompt, expected in checks:
            lines += [f"    - prompt: {prompt!r}", f"      expect_contains: {expected!r}"]
    (project.root / "models").mkdir(exist_ok=True)
    (project.root / "models" / f"{name}.yaml").write_text("\n".join(lines) + "\n")


def forget(local: Local) -> None:
    """A fresh machine: nothing ftctl keeps locally survives."""
    shutil.rmtree(local.project.root / ".ftctl", ignore_errors=True)


def apply(local: Local, *, wait: bool = True, retry_failed: bool = False) -> ApplyReport:
    forget(local)
    return run_apply(str(local.project.root), None,
                     ApplyOptions(auto_approve=True, wait=wait, retry_failed=retry_failed,
                                  poll_interval=5.0),
                     open_remote=local.open_remote, reporter=NullReporter(),
                     clock=local.clock, sleep=local.clock.advance)


def plan(local: Local, *, retry_failed: bool = False) -> Plan:
    forget(local)
    run = run_plan(str(local.project.root), options=PlanRunOptions(retry_failed=retry_failed),
                   open_remote=local.open_remote, clock=local.clock)
    assert run.plan is not None, run.diagnostics
    return run.plan


def show(local: Local) -> dict[str, ModelInfo]:
    forget(local)
    result = run_show(str(local.project.root), None, open_remote=local.open_remote)
    return {m.name: m for m in result.models}


def keys(p: Plan) -> list[str]:
    return [s.key for s in p.changes]


def reasons(p: Plan, name: str) -> list[Reason]:
    return [s.reason for s in p.steps if s.name == name]


def test_a_version_that_failed_its_checks_never_serves(local: Local) -> None:
    project = local.project
    project.remove("bot")
    write_model(project, "bot")
    write_model(project, "child", checks=(), parent="bot")
    first = apply(local)
    assert first.ok, first
    v1 = show(local)["bot"].current_model
    assert v1 is not None
    child_v1 = show(local)["child"].current_model

    # New data whose answers no longer mention tracking: v2 trains, then fails its check.
    write_model(project, "bot", answer="Order {i} ships soon.")
    second = apply(local)
    assert not second.ok and [c.passed for c in second.checks] == [False]

    models = show(local)
    bot = models["bot"]
    v2 = bot.versions[0]
    assert (v2.version, v2.verdict, v2.current) == (2, "checks failed", False)
    assert (bot.versions[1].model_id, bot.versions[1].current) == (v1, True)
    assert bot.current_model == v1
    lines = format_models((bot,)).splitlines()
    assert lines[0] == f"bot: {v1}"
    assert lines[1].startswith("  v2  ") and lines[1].endswith("(checks failed)")
    assert lines[2].startswith("  v1  ") and lines[2].endswith("(current)")
    assert outputs(models.values())["bot"] == v1
    answered = try_model(local.workspace(), "bot", Prompt(text="Where is order 3?"))
    assert answered.target.model == v1 and "tracking" in answered.answer

    # No cost loop, no child built on the failed version, and it is not "No changes".
    again = plan(local)
    assert keys(again) == []
    assert reasons(again, "bot") == [Reason.CHECKS_FAILED]
    assert reasons(again, "child") == [Reason.UNCHANGED]
    assert not again.converged
    assert any("version 2" in n.summary and "failed its checks" in n.summary
               for n in again.notes)
    assert show(local)["child"].current_model == child_v1
    forget(local)
    drift = run_drift(str(project.root), open_remote=local.open_remote, clock=local.clock)
    assert drift.report is not None
    assert [i.kind for i in drift.report.items] == [DriftKind.CHECKS_FAILED]

    # --retry-failed, or a change of spec, moves it on; the child follows the new version.
    retry = {s.key: s for s in plan(local, retry_failed=True).changes}
    assert retry["bot/create-job"].reason is Reason.RETRY_FAILED
    write_model(project, "bot", answer="Order {i}: tracking number T{i}, on its way.")
    fixed = plan(local)
    create = next(s for s in fixed.changes if s.key == "bot/create-job")
    assert create.reason is Reason.SPEC_CHANGED
    child = next(s for s in fixed.changes if s.key == "child/create-job")
    assert "bot/create-job" in child.depends_on
    third = apply(local)
    assert third.ok, third
    assert plan(local).converged


def test_a_version_trained_without_waiting_is_verified_before_it_serves(local: Local) -> None:
    project = local.project
    project.remove("bot")
    write_model(project, "bot")
    assert apply(local).ok
    v1 = show(local)["bot"].current_model

    write_model(project, "bot", answer="Order {i}: tracking code T{i}.")
    assert apply(local, wait=False).ok
    in_flight = plan(local)
    assert keys(in_flight) == [] and not in_flight.converged
    assert reasons(in_flight, "bot") == [Reason.IN_PROGRESS]

    local.clock.advance(100_000)  # the job finishes while no ftctl runs
    pending = plan(local)
    (job_id,) = [v.job_id for v in show(local)["bot"].versions if v.version == 2]
    assert keys(pending) == [f"bot/verify/{job_id}", f"bot/delete/{v1}"]
    verify, delete = pending.changes
    assert verify.action is Action.VERIFY and verify.reason is Reason.UNVERIFIED
    assert delete.depends_on == (verify.key,)
    assert show(local)["bot"].current_model == v1  # not checked yet: the old one serves

    done = apply(local)
    assert done.ok and [c.passed for c in done.checks] == [True]
    bot = show(local)["bot"]
    assert (bot.versions[0].version, bot.versions[0].verdict, bot.versions[0].current) == (
        2, "passed", True)
    assert plan(local).converged


def test_changing_only_the_checks_verifies_the_serving_version_again(local: Local) -> None:
    project = local.project
    project.remove("bot")
    write_model(project, "bot")
    assert apply(local).ok
    v1 = show(local)["bot"].current_model

    write_model(project, "bot", checks=(PASSING, ("Where is order 5?", "T5")))
    changed = plan(local)
    (step,) = changed.changes
    assert (step.action, step.reason) == (Action.VERIFY, Reason.CHECKS_CHANGED)
    assert show(local)["bot"].current_model == v1  # passed its earlier checks: still serves
    done = apply(local)
    assert done.ok and [c.passed for c in done.checks] == [True, True]
    assert plan(local).converged

    write_model(project, "bot", checks=(("Where is order 5?", "refund"),))
    failed = apply(local)
    assert not failed.ok
    assert show(local)["bot"].current_model is None  # failed the checks it must pass now
    stuck = plan(local)
    assert keys(stuck) == [] and reasons(stuck, "bot") == [Reason.CHECKS_FAILED]


def test_a_ref_child_waiting_on_a_parent_in_flight_is_not_no_changes(local: Local) -> None:
    project = local.project
    project.remove("bot")
    write_model(project, "bot")
    write_model(project, "child", checks=(), parent="bot")
    assert apply(local, wait=False).ok
    waiting = plan(local)
    assert keys(waiting) == []
    assert reasons(waiting, "child") == [Reason.BLOCKED]
    assert not waiting.converged
    local.clock.advance(100_000)
    ready = plan(local)
    verify = next(s for s in ready.changes if s.name == "bot")
    child = next(s for s in ready.changes if s.name == "child")
    assert verify.action is Action.VERIFY
    assert verify.key in child.depends_on  # built only on a verified parent
    assert apply(local).ok
    assert plan(local).converged


def test_verdicts_are_files_on_the_provider(local: Local) -> None:
    project = local.project
    project.remove("bot")
    write_model(project, "bot")
    report = apply(local)
    assert report.ok
    names = [f.filename for f in local.api.list_files("fine-tune")]
    recorded = [v for v in map(parse_verdict_file_name, names) if v is not None]
    (job,) = report.jobs
    assert [(v.job_id, v.passed) for v in recorded] == [(job.id, True)]
    again = apply(local)  # nothing to verify again: the verdict is written once
    assert again.ok and again.checks == ()
    assert sum(1 for n in [f.filename for f in local.api.list_files("fine-tune")]
               if parse_verdict_file_name(n)) == 1


# -- the command line, provider local (the emulator on loopback) -------------------------------


def test_cli_apply_no_wait_follow_then_apply_runs_the_checks(project: Project, ftctl: Any
                                                              ) -> None:
    # About a second of real time per job: at the default 5000x a job takes ~20 ms, and under
    # load apply --no-wait itself could see it succeed and verify it (then nothing is pending).
    project.speed = 100.0
    project.settings()
    project.remove("bot")
    write_model(project, "bot")
    assert ftctl("apply", "--auto-approve", "--no-wait").exit_code == 0
    assert ftctl("follow", "bot", "--poll-interval", "0.02").exit_code == 0
    pending = ftctl("plan", "--detailed-exitcode")
    assert pending.exit_code == 2, pending.output + pending.stderr
    assert "? verify version 1" in pending.stdout and "No changes" not in pending.stdout
    applied = ftctl("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output + applied.stderr
    assert "Checks: 1 passed, 0 failed." in applied.stdout + applied.stderr
    settled = ftctl("plan", "--detailed-exitcode")
    assert settled.exit_code == 0, settled.stdout
    assert "No changes. Your models match the manifests." in settled.stdout


def test_cli_plan_is_not_no_changes_while_a_job_is_in_flight(project: Project, ftctl: Any
                                                             ) -> None:
    project.speed = 1.0  # jobs take minutes: still training while the test plans
    project.settings()
    assert ftctl("apply", "--auto-approve", "--no-wait").exit_code == 0
    result = ftctl("plan", "--detailed-exitcode")
    assert result.exit_code == 2, result.stdout
    assert "No changes to carry out now, but 1 model(s) do not match their manifests yet: bot" \
        in result.stdout
