"""Evaluation use cases: binding the gate of a trained version (its evaluation against the
serving version), `ftctl eval`, the plan's evaluation lines (eval set size and the inference
cost of evaluating), and drift's serving versions below a `promote.min`.

Which version a candidate is compared with is the model-state layer's serving version (one
home for "serving"); what a version was measured at is read from its recorded verdict on the
provider. Never prints.
"""

from __future__ import annotations

import dataclasses

from reconciler.app.gate_target import asking
from reconciler.app.operate import NotFound, Refused, Workspace, model_state
from reconciler.app.project import cache_dir
from reconciler.checks import gate, run_evaluation
from reconciler.client.api import RemoteApi
from reconciler.diagnostics import (
    Diagnostic,
    Severity,
    has_errors,
    sorted_diagnostics,
    warning,
)
from reconciler.errors import ApiError
from reconciler.estimate import eval_cost
from reconciler.evaluation import evalset
from reconciler.evaluation.cache import ScoreCache
from reconciler.evaluation.runner import EvalRequest, Progress
from reconciler.evaluation.verdict import DIGITS, Metric, Outcome, below_minimum
from reconciler.events import CheckResult, EvalProgress, Reporter
from reconciler.plan import CreateJob, DriftItem, DriftKind, DriftReport, Plan, VerifyModel
from reconciler.planner.state import ModelState, RemoteState, Version
from reconciler.planner.verdicts import ReadVerdict, recorded_metrics
from reconciler.refs import root_base_model
from reconciler.spec import Desired

EVAL_NOTE = "evaluation_cost"

class EvalSetInvalid(Refused):
    """The eval set has errors (their diagnostics are attached); nothing was evaluated."""

    def __init__(self, name: str, diagnostics: tuple[Diagnostic, ...]) -> None:
        first = diagnostics[0]
        super().__init__(f"{name}: the eval set has {len(diagnostics)} error(s), first: "
                         f"{first.subject}: {first.summary}")
        self.diagnostics = diagnostics


def progress_of(reporter: Reporter | None) -> Progress | None:
    """The reporter's evaluation progress display, when it has one."""
    return reporter.eval_progress if isinstance(reporter, EvalProgress) else None


def eval_request(desired: Desired, name: str, serving: str | None, *,
                 reporter: Reporter | None = None) -> EvalRequest | None:
    """What the gate needs to evaluate `name` against `serving` (None when its manifest has
    no evaluation). Raises EvalSetInvalid when the eval set has errors."""
    manifest = desired.manifest(name)
    if manifest is None or manifest.spec.evaluation is None:
        return None
    evaluation = manifest.spec.evaluation
    root = desired.settings.root
    examples, diags = evalset.read(root, evaluation.dataset.repo_path)
    errors = tuple(d for d in diags if d.severity is Severity.ERROR)
    if errors:
        raise EvalSetInvalid(name, errors)
    return EvalRequest(evaluation=evaluation, evalset=examples, serving=serving,
                       cache=ScoreCache(cache_dir(root)),
                       concurrency=desired.settings.concurrency, progress=progress_of(reporter))


def bound_gate(api: RemoteApi, desired: Desired, state: RemoteState, request: VerifyModel, *,
               reporter: Reporter | None = None) -> tuple[CheckResult, ...]:
    """The gate of a trained version, bound to the model state the step was planned on: the
    verdict is recorded under that state's gate identity, and the evaluation compares the
    candidate with that state's serving version (none for a first version: only `min`).
    On Azure the models are asked through deployments (gate_target)."""
    model = state[request.name]
    if model.checks_id is None:
        return ()  # not gated: the version serves as trained
    request = dataclasses.replace(request, checks_id=request.checks_id or model.checks_id)
    try:
        evaluation = eval_request(desired, request.name, model.serving_model, reporter=reporter)
    except EvalSetInvalid as exc:  # nothing is recorded: the next plan verifies again
        return (CheckResult(name=request.name, model=request.model_id, index=0,
                            prompt="evaluation", passed=False, reason=str(exc),
                            unanswered=True),)
    with asking(api, model) as caller:
        return gate(caller, request, evaluation=evaluation)


def run_eval(ws: Workspace, name: str, *, version: int | None = None,
             reporter: Reporter | None = None) -> Outcome:
    """`ftctl eval NAME [--version N]`: version N (default the newest trained one) against
    the version that serves now (no comparison when that is the candidate itself)."""
    manifest = ws.manifest(name)
    if manifest is None:
        raise NotFound(f"no manifest named {name}")
    if manifest.spec.evaluation is None:
        raise Refused(f"{name} has no spec.evaluation; add one to its manifest "
                      "(see docs/evaluation.md)")
    state = model_state(ws, name)
    candidate = _candidate(state, name, version)
    model = str(candidate.model_id)
    request = eval_request(ws.desired, name, state.serving_model, reporter=reporter)
    assert request is not None  # the manifest has an evaluation
    with asking(ws.api, state) as caller:
        result = run_evaluation(caller, name, model, request, base_model=candidate.job.model)
    assert result.evaluation is not None
    return result.evaluation


def _candidate(state: ModelState, name: str, version: int | None) -> Version:
    if version is None:
        if state.candidate is None:
            raise NotFound(f"{name} has no version to evaluate (no succeeded job whose model "
                           "still exists); `ftctl show` lists its versions")
        return state.candidate
    found = next((v for v in state.trained if v.number == version), None)
    if found is None:
        have = ", ".join(str(v.number) for v in reversed(state.trained)) or "none"
        raise NotFound(f"{name} has no version {version} with a model "
                       f"(versions with a model: {have})")
    return found


def with_eval_notes(plan: Plan, desired: Desired) -> Plan:
    """The plan with one line per model it trains that has an evaluation: the eval set's
    size and the estimated inference cost of evaluating the new and the serving version."""
    notes = list(plan.notes)
    trained = {s.name for s in plan.steps if isinstance(s.payload, CreateJob)}
    for name in sorted(trained):
        note = _eval_note(desired, name)
        if note is not None:
            notes.append(note)
    if len(notes) == len(plan.notes):
        return plan
    return dataclasses.replace(plan, notes=sorted_diagnostics(notes))


def _eval_note(desired: Desired, name: str) -> Diagnostic | None:
    manifest = desired.manifest(name)
    if manifest is None or manifest.spec.evaluation is None:
        return None
    path = manifest.spec.evaluation.dataset.repo_path
    examples, diags = evalset.read(desired.settings.root, path)
    if has_errors(diags):
        return None  # already reported by the load, as errors
    index = {m.name: m for m in desired.manifests}
    cost = eval_cost(examples.prompt_tokens, examples.answer_tokens,
                     model=root_base_model(index, name) or "",
                     prices=desired.settings.prices, versions=2)
    price = "cost unknown (no price for the base model)" if cost is None \
        else f"estimated inference cost ${cost:,.4f}"
    return Diagnostic(
        severity=Severity.INFO, code=EVAL_NOTE, address=name,
        summary=f"{name}: evaluation on {len(examples)} example(s) of {path}, {price} "
                "(new and serving version)",
        subject=manifest.spec.evaluation.dataset.source,
    )


def with_eval_drift(report: DriftReport, desired: Desired, state: RemoteState,
                    read_verdict: ReadVerdict) -> DriftReport:
    """`report` plus every serving version whose recorded metrics (in its verdict file on the
    provider; no model is asked) fall below a `promote.min` its manifest now asks for. One
    read per such manifest, only when it has a `min`."""
    items, notes = list(report.items), list(report.notes)
    for manifest in desired.manifests:
        evaluation = manifest.spec.evaluation
        serving = state[manifest.name].serving
        if evaluation is None or not evaluation.promote.minimum or serving is None:
            continue
        if serving.verdict_file is None:
            continue  # never measured (no verdict recorded): nothing to compare
        try:
            measured = recorded_metrics(read_verdict(serving.verdict_file))
        except ApiError as exc:  # a provider that does not hand file contents back
            notes.append(warning(
                f"{manifest.name}: the recorded metrics of {serving.model_id} could not be "
                f"read ({exc}); not compared with promote.min",
                "`ftctl eval NAME` measures the serving version again.",
                address=manifest.name))
            continue
        metrics = [Metric(grader=g, candidate=round(v, DIGITS)) for g, v in measured.items()]
        short = below_minimum(metrics, evaluation.promote)
        if short:
            items.append(DriftItem(
                kind=DriftKind.BELOW_EVALUATION_MIN, name=manifest.name,
                subject=serving.model_id,
                message=f"{manifest.name}: serving version {serving.model_id} was measured "
                        f"below what the manifest now asks for: {'; '.join(short)}",
            ))
    if len(items) == len(report.items) and len(notes) == len(report.notes):
        return report
    return dataclasses.replace(report, items=tuple(items), notes=tuple(notes))

