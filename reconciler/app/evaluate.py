"""Evaluation use cases: the gate's evaluation during apply, `ftctl eval`, the plan's
evaluation lines (eval set size and the inference cost of evaluating), and drift's serving
versions below a `promote.min`.

`serving_version` is the one place that says which version a candidate is compared with:
today the current version (the newest succeeded one whose model exists) other than the
candidate itself. Never prints.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from reconciler.app.operate import NotFound, Refused, Workspace, versions_of
from reconciler.app.project import cache_dir
from reconciler.checks import ModelCaller, run_evaluation, run_gate
from reconciler.diagnostics import Diagnostic, Severity, has_errors, sorted_diagnostics
from reconciler.estimate import eval_cost
from reconciler.evaluation import evalset
from reconciler.evaluation.cache import ScoreCache
from reconciler.evaluation.runner import EvalRequest, Progress
from reconciler.evaluation.verdict import DIGITS, Metric, Outcome, below_minimum
from reconciler.events import CheckResult, EvalProgress, Reporter
from reconciler.loader import resolve_base_model
from reconciler.plan import CreateJob, DriftItem, DriftKind, DriftReport, Plan
from reconciler.planner.compare import Versions, managed_jobs_by_name, version_of, versions_for
from reconciler.snapshot import RemoteJob, Snapshot
from reconciler.spec import Check, Desired

EVAL_NOTE = "evaluation_cost"


class EvalSetInvalid(Refused):
    """The eval set has errors (their diagnostics are attached); nothing was evaluated."""

    def __init__(self, name: str, diagnostics: tuple[Diagnostic, ...]) -> None:
        first = diagnostics[0]
        super().__init__(f"{name}: the eval set has {len(diagnostics)} error(s), first: "
                         f"{first.subject}: {first.summary}")
        self.diagnostics = diagnostics


def serving_version(versions: Versions, candidate: str | None) -> RemoteJob | None:
    """The version `candidate` (a model id) is compared with and would replace: the current
    version, or, when the candidate is already the current one, the version before it."""
    current = versions.current
    if current is None or current.fine_tuned_model != candidate:
        return current
    older = [j for j in versions.existing if j.fine_tuned_model != candidate]
    return older[0] if older else None


def serving_model(snapshot: Snapshot, desired: Desired, name: str,
                  candidate: str | None) -> str | None:
    """serving_version's model id for `name` as `snapshot` shows it."""
    versions = versions_for(name, desired.manifest(name), managed_jobs_by_name(snapshot),
                            snapshot)
    job = serving_version(versions, candidate)
    return job.fine_tuned_model if job is not None else None


def progress_of(reporter: Reporter | None) -> Progress | None:
    """The reporter's evaluation progress display, when it has one."""
    return reporter.eval_progress if isinstance(reporter, EvalProgress) else None


def eval_request(desired: Desired, name: str, serving: str | None, *,
                 reporter: Reporter | None = None) -> EvalRequest | None:
    """What the gate needs to evaluate `name` (None when its manifest has no evaluation).

    Raises EvalSetInvalid when the eval set has errors.
    """
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


def gate(api: ModelCaller, desired: Desired, snapshot: Snapshot, name: str, model: str,
         checks: Sequence[Check], *, base_model: str | None = None,
         reporter: Reporter | None = None) -> tuple[CheckResult, ...]:
    """The whole gate for a new version `model` of `name`: its checks, then its evaluation
    against the version serving in `snapshot` (taken before the new version existed)."""
    try:
        request = eval_request(desired, name, serving_model(snapshot, desired, name, model),
                               reporter=reporter)
    except EvalSetInvalid as exc:
        refused = CheckResult(name=name, model=model, index=0, prompt="evaluation",
                              passed=False, reason=str(exc))
        return (*run_gate(api, name, model, checks, base_model=base_model), refused)
    return run_gate(api, name, model, checks, base_model=base_model, evaluation=request)


def run_eval(ws: Workspace, name: str, *, version: int | None = None,
             reporter: Reporter | None = None) -> Outcome:
    """`ftctl eval NAME [--version N]`: the candidate (version N, default the current one)
    against the version it is compared with by serving_version."""
    manifest = ws.manifest(name)
    if manifest is None:
        raise NotFound(f"no manifest named {name}")
    if manifest.spec.evaluation is None:
        raise Refused(f"{name} has no spec.evaluation; add one to its manifest "
                      "(see docs/evaluation.md)")
    versions = versions_of(ws, name)
    candidate = _candidate(versions, name, version)
    model = str(candidate.fine_tuned_model)
    serving = serving_version(versions, model)
    request = eval_request(ws.desired, name, serving.fine_tuned_model if serving else None,
                           reporter=reporter)
    assert request is not None  # the manifest has an evaluation
    result = run_evaluation(ws.api, name, model, request, base_model=candidate.model)
    assert result.evaluation is not None
    return result.evaluation


def _candidate(versions: Versions, name: str, version: int | None) -> RemoteJob:
    if version is None:
        if versions.current is None:
            raise NotFound(f"{name} has no version to evaluate (no succeeded job whose model "
                           "still exists); `ftctl show` lists its versions")
        return versions.current
    job = next((j for j in versions.existing if version_of(j) == version), None)
    if job is None:
        have = ", ".join(str(version_of(j)) for j in reversed(versions.existing)) or "none"
        raise NotFound(f"{name} has no version {version} with a model "
                       f"(versions with a model: {have})")
    return job


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
    cost = eval_cost(examples.prompt_tokens, examples.answer_tokens,
                     model=resolve_base_model(desired, name) or "",
                     prices=desired.settings.prices, versions=2)
    price = "cost unknown (no price for the base model)" if cost is None \
        else f"estimated inference cost ${cost:,.4f}"
    return Diagnostic(
        severity=Severity.INFO, code=EVAL_NOTE, address=name,
        summary=f"{name}: evaluation on {len(examples)} example(s) of {path}, {price} "
                "(new and serving version)",
        subject=manifest.spec.evaluation.dataset.source,
    )


def with_eval_drift(report: DriftReport, desired: Desired, snapshot: Snapshot) -> DriftReport:
    """`report` plus every serving version whose recorded metrics (the scores in the project's
    cache; nothing is asked) fall below a `promote.min` its manifest now asks for."""
    cache = ScoreCache(cache_dir(desired.settings.root))
    items = list(report.items)
    for manifest in desired.manifests:
        evaluation = manifest.spec.evaluation
        if evaluation is None or not evaluation.promote.minimum:
            continue
        serving = serving_model(snapshot, desired, manifest.name, None)
        examples, diags = evalset.read(desired.settings.root, evaluation.dataset.repo_path)
        if serving is None or has_errors(diags):
            continue
        means = cache.means(serving, [e.key for e in examples.examples], evaluation.graders)
        if means is None:
            continue  # never measured on this eval set here: nothing recorded to compare
        metrics = [Metric(grader=g, candidate=round(v, DIGITS)) for g, v in means.items()]
        short = below_minimum(metrics, evaluation.promote)
        if short:
            items.append(DriftItem(
                kind=DriftKind.BELOW_EVALUATION_MIN, name=manifest.name, subject=serving,
                message=f"{manifest.name}: serving version {serving} was measured below what "
                        f"the manifest now asks for: {'; '.join(short)}",
            ))
    if len(items) == len(report.items):
        return report
    return dataclasses.replace(report, items=tuple(items))
