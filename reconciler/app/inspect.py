"""The show and output use cases: what each managed model is made of on the remote right now.

`inventory` is pure (snapshot in, values out); `run_show` reads the project and the remote.
Versions, verdicts and the serving version come from the model-state layer (planner.state), so
show, output, try and plan agree on which fine-tuned model a name serves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reconciler.app.refreshing import OpenRemote, load_refreshing
from reconciler.diagnostics import Diagnostics, error
from reconciler.errors import ApiError
from reconciler.planner.identity import META_COMMIT
from reconciler.planner.state import ModelState, Version, build_state
from reconciler.planner.verdicts import ReadVerdict, recorded_metrics
from reconciler.snapshot import Snapshot
from reconciler.spec import Desired


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionInfo:
    version: int
    job_id: str
    status: str
    model_id: str | None  # the fine-tuned model the job produced, if any
    model_exists: bool
    verdict: str  # passed, checks failed, evaluation refused, not checked, no checks
    current: bool  # the version that serves
    created_at: int
    finished_at: int | None
    trained_tokens: int | None
    commit: str | None
    # The score per grader its gate's evaluation recorded (empty without an evaluation).
    metrics: tuple[tuple[str, float], ...] = ()

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "version": self.version, "job_id": self.job_id, "status": self.status,
            "model_id": self.model_id, "model_exists": self.model_exists,
            "verdict": self.verdict, "current": self.current, "created_at": self.created_at,
            "finished_at": self.finished_at, "trained_tokens": self.trained_tokens,
            "commit": self.commit,
        }
        if self.metrics:
            out["metrics"] = dict(self.metrics)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelInfo:
    """deployment: the deployment that serves current_model (Azure; None while it is
    missing). served_by_deployment: the manifest has a deployment on a provider with them."""

    name: str
    managed: bool  # False: remote jobs remain but no manifest names this model (an orphan)
    current_model: str | None
    versions: tuple[VersionInfo, ...]
    deployment: str | None = None
    served_by_deployment: bool = False

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "name": self.name, "managed": self.managed, "current_model": self.current_model,
            "versions": [v.to_json() for v in self.versions],
        }
        if self.served_by_deployment:
            out["deployment"] = self.deployment
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class ShowResult:
    models: tuple[ModelInfo, ...] = ()
    diagnostics: Diagnostics = ()


def inventory(desired: Desired, snapshot: Snapshot, names: Iterable[str] = (), *,
              read_verdict: ReadVerdict | None = None) -> tuple[ModelInfo, ...]:
    """Every manifest's model and every orphaned name, sorted by name (or only `names`).
    read_verdict: to show the metrics recorded by the evaluations of models that have one."""
    wanted = set(names)
    out = []
    for model in build_state(desired, snapshot):
        if wanted and model.name not in wanted:
            continue
        serving = model.serving
        rows = tuple(
            VersionInfo(
                version=v.number, job_id=v.job.id, status=v.status.value, model_id=v.model_id,
                model_exists=v.model_exists, verdict=v.verdict.value,
                current=v is serving, created_at=v.job.created_at,
                finished_at=v.job.finished_at, trained_tokens=v.job.trained_tokens,
                commit=v.job.meta(META_COMMIT),
                metrics=_metrics(desired, model, v, read_verdict),
            )
            for v in reversed(model.versions)  # newest first
        )
        deployed = model.deployment if serving is not None and serving is model.deployed \
            else None
        out.append(ModelInfo(
            name=model.name, managed=model.declared,
            current_model=serving.model_id if serving else None, versions=rows,
            deployment=deployed.name if deployed else None,
            served_by_deployment=model.deployment_name is not None,
        ))
    return tuple(out)


def _metrics(desired: Desired, model: ModelState, version: Version,
             read_verdict: ReadVerdict | None) -> tuple[tuple[str, float], ...]:
    """What `version` was measured at, from its verdict file (read only for a manifest with an
    evaluation: a checks verdict has no metrics)."""
    manifest = desired.manifest(model.name)
    if read_verdict is None or version.verdict_file is None or manifest is None \
            or manifest.spec.evaluation is None:
        return ()
    try:
        return tuple(recorded_metrics(read_verdict(version.verdict_file)).items())
    except ApiError:
        return ()  # a provider that does not hand file contents back: show the rest


def outputs(models: Iterable[ModelInfo], *, deployments: bool = False) -> dict[str, str | None]:
    """name -> current fine-tuned model id (None while none exists), for manifests only; the
    same shape on every provider (other tools parse it). deployments: name -> the deployment
    that serves it instead (Azure, where inference addresses the deployment, not the model;
    None while missing, and on providers without deployments)."""
    return {
        m.name: (m.deployment if m.served_by_deployment else None) if deployments
        else m.current_model
        for m in models if m.managed
    }


def run_show(
    directory: str, config: str | None, *, open_remote: OpenRemote, names: Iterable[str] = ()
) -> ShowResult:
    # Models outlive their manifests: looking at them needs no manifest.
    with load_refreshing(directory, config, open_remote=open_remote, with_datasets=False,
                         require_manifests=False) as started:
        if started.remote is None:
            return ShowResult(diagnostics=started.result.diagnostics)
        desired, api, refresh = started.remote
        models = inventory(desired, refresh.snapshot(desired), names,
                           read_verdict=api.read_file_json)
    missing = sorted(set(names) - {m.name for m in models})
    diags = tuple(
        error(f"no model named {n!r}", "Name a manifest's metadata.name, or a managed model.")
        for n in missing
    )
    return ShowResult(models=models, diagnostics=diags)
