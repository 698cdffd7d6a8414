"""Plain factories of desired and remote values for planner tests (data, not mocks).

`a_desired(...)` fills dataset facts for every path its manifests name; `a_job_for(...)` makes
the job apply would have created for a manifest (same metadata, spec hash and files), and
`simulate_apply(plan, snapshot)` plays a plan onto a snapshot the way a successful apply would.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType

from reconciler.plan import (
    Action,
    CancelJob,
    CreateJob,
    DeleteModel,
    FromStep,
    Plan,
    Step,
    UploadFile,
)
from reconciler.planner.compare import spec_of
from reconciler.planner.identity import file_name, job_metadata, operation_id
from reconciler.planner.verdicts import checks_id, verdict_file_name
from reconciler.snapshot import JobStatus, RemoteFile, RemoteJob, RemoteModel, Snapshot
from reconciler.spec import (
    Check,
    DatasetInfo,
    DatasetRef,
    Desired,
    Lifecycle,
    Manifest,
    Method,
    MethodType,
    ModelSpec,
    ParentRef,
    Price,
    Settings,
    UpdatePolicy,
)

WORKSPACE = "ws"
BASE = "gpt-4o-mini-2024-07-18"
PRICES = (Price(model="gpt-4o-mini", training_per_1m=3.0),)


def sha_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def a_settings(*, workspace: str = WORKSPACE, prune: bool = False) -> Settings:
    return Settings(workspace=workspace, root="/project", prune=prune, prices=PRICES)


def a_manifest(
    name: str,
    *,
    model: str | None = BASE,
    parent: str | None = None,
    training: str | None = None,
    validation: str | None = None,
    hyperparameters: Mapping[str, object] | None = None,
    method: MethodType = MethodType.SUPERVISED,
    grader: object = None,
    seed: int | None = None,
    suffix: str | None = None,
    update: UpdatePolicy = UpdatePolicy.RETRAIN,
    keep_versions: int = 1,
    prevent_destroy: bool = False,
    ignore_changes: tuple[str, ...] = (),
    adopt: str | None = None,
) -> Manifest:
    training = training or f"data/{name}/train.jsonl"
    spec = ModelSpec(
        model=ParentRef(name=parent) if parent else (model or BASE),
        training_file=DatasetRef(path=training, repo_path=training),
        validation_file=DatasetRef(path=validation, repo_path=validation) if validation else None,
        suffix=suffix,
        method=Method(
            type=method,
            hyperparameters=tuple(sorted((hyperparameters or {}).items())),  # type: ignore[arg-type]
            grader_json=json.dumps(grader, sort_keys=True) if grader is not None else None,
        ),
        seed=seed,
        update=update,
        lifecycle=Lifecycle(prevent_destroy=prevent_destroy, keep_versions=keep_versions,
                            ignore_changes=ignore_changes),
        adopt=adopt,
    )
    return Manifest(name=name, spec=spec)


def a_dataset(repo_path: str, *, content: str | None = None, examples: int = 50,
              tokens: int | None = 10_000) -> DatasetInfo:
    """Facts of a dataset; its sha256 comes from `content` (default: the path itself)."""
    return DatasetInfo(repo_path=repo_path, sha256=sha_of(content or repo_path), bytes=1234,
                       examples=examples, tokens=tokens, format="chat")


def a_desired(
    *manifests: Manifest,
    settings: Settings | None = None,
    datasets: Iterable[DatasetInfo] = (),
) -> Desired:
    """Desired with facts for every dataset the manifests name (explicit ones win)."""
    facts = {d.repo_path: d for d in datasets}
    for m in manifests:
        for ref in (m.spec.training_file, m.spec.validation_file):
            if ref is not None and ref.repo_path not in facts:
                facts[ref.repo_path] = a_dataset(ref.repo_path)
    return Desired(
        settings=settings or a_settings(),
        manifests=tuple(sorted(manifests, key=lambda m: m.name)),
        datasets=MappingProxyType(facts),
    )


def a_file(sha256: str, *, id: str | None = None, created_at: int = 1) -> RemoteFile:
    return RemoteFile(id=id or f"file-{sha256[:8]}", filename=file_name(sha256), bytes=1234,
                      purpose="fine-tune", created_at=created_at, status="processed")


def a_verdict_file(job: RemoteJob, checks: Sequence[Check], *, passed: bool,
                   created_at: int = 2) -> RemoteFile:
    """The file a gate uploads to record `job`'s verdict for `checks`."""
    name = verdict_file_name(job.id, checks_id(checks), passed=passed)
    return RemoteFile(id=f"file-verdict-{job.id}", filename=name, bytes=200, purpose="fine-tune",
                      created_at=created_at, status="processed")


def files_for(desired: Desired) -> tuple[RemoteFile, ...]:
    """The remote files of every dataset `desired` names (as if already uploaded)."""
    return tuple(a_file(d.sha256) for d in sorted(desired.datasets.values(),
                                                  key=lambda d: d.repo_path))


def the_spec(desired: Desired, name: str) -> str:
    manifest = desired.manifest(name)
    assert manifest is not None
    return spec_of(manifest, desired.datasets)


def a_job_for(
    desired: Desired,
    name: str,
    *,
    id: str,
    version: int = 1,
    status: JobStatus = JobStatus.SUCCEEDED,
    model: str | None = None,
    fine_tuned_model: str | None = None,
    created_at: int | None = None,
    seed: int | None = 1234,
    hyperparameters: Mapping[str, object] | None = None,
    spec: str | None = None,
    error_message: str | None = None,
    estimated_finish: int | None = None,
) -> RemoteJob:
    """The job apply would have created for `name` (server-resolved seed and epochs)."""
    manifest = desired.manifest(name)
    assert manifest is not None
    spec = spec or the_spec(desired, name)
    train = desired.datasets[manifest.spec.training_file.repo_path]
    valid = manifest.spec.validation_file
    valid_info = desired.datasets[valid.repo_path] if valid else None
    resolved = {"n_epochs": 3, "batch_size": 1, "learning_rate_multiplier": 1.8}
    resolved.update({k: v for k, v in manifest.spec.method.hyperparameters if v != "auto"})
    if status is JobStatus.SUCCEEDED and fine_tuned_model is None:
        fine_tuned_model = f"ft:{BASE}:org:{name}:{id[-6:]}"
    op = operation_id(desired.settings.workspace, name, version, spec)
    return RemoteJob(
        id=id,
        status=status,
        model=model or (manifest.spec.model if isinstance(manifest.spec.model, str) else BASE),
        training_file=f"file-{train.sha256[:8]}",
        validation_file=f"file-{valid_info.sha256[:8]}" if valid_info else None,
        method_type=manifest.spec.method.type.value,
        hyperparameters=tuple(sorted((hyperparameters or resolved).items())),  # type: ignore[arg-type]
        suffix=manifest.spec.suffix,
        seed=manifest.spec.seed if manifest.spec.seed is not None else seed,
        metadata=job_metadata(workspace=desired.settings.workspace, name=name, spec=spec,
                              version=version, op=op, commit=None),
        fine_tuned_model=fine_tuned_model if status is JobStatus.SUCCEEDED else None,
        created_at=created_at if created_at is not None else 1000 + version,
        estimated_finish=estimated_finish,
        error_message=error_message,
    )


def a_hand_made_job(id: str, *, model: str = BASE, training_file: str, seed: int = 7,
                    fine_tuned_model: str | None = None) -> RemoteJob:
    """A job created outside ftctl (no metadata)."""
    return RemoteJob(id=id, status=JobStatus.SUCCEEDED, model=model,
                     training_file=training_file, seed=seed,
                     hyperparameters=(("batch_size", 1), ("n_epochs", 3)),
                     fine_tuned_model=fine_tuned_model or f"ft:{model}:org::{id[-6:]}")


def base_models(*extra: RemoteModel) -> tuple[RemoteModel, ...]:
    return (RemoteModel(id=BASE, owned_by="system"), *extra)


def a_snapshot(
    *,
    jobs: Iterable[RemoteJob] = (),
    files: Iterable[RemoteFile] = (),
    models: Iterable[RemoteModel] | None = None,
    workspace: str = WORKSPACE,
) -> Snapshot:
    """A snapshot; models default to the base model plus every succeeded job's model."""
    jobs = tuple(sorted(jobs, key=lambda j: j.id))
    if models is None:
        models = base_models(*(RemoteModel(id=j.fine_tuned_model, owned_by="org")
                               for j in jobs if j.fine_tuned_model))
    return Snapshot(workspace=workspace, files=tuple(sorted(files, key=lambda f: f.id)),
                    jobs=jobs, models=tuple(sorted(models, key=lambda m: m.id)))


def without_models(snapshot: Snapshot, *model_ids: str) -> Snapshot:
    return replace(snapshot, models=tuple(m for m in snapshot.models if m.id not in model_ids))


def simulate_apply(plan: Plan, snapshot: Snapshot) -> Snapshot:
    """Play `plan` onto `snapshot` as a fully successful apply would (jobs succeed at once)."""
    clock = max([5000, *(j.created_at for j in snapshot.jobs),
                 *(f.created_at for f in snapshot.files)])
    files, jobs = list(snapshot.files), list(snapshot.jobs)
    models = list(snapshot.models)
    results: dict[str, dict[str, str]] = {}

    def resolve(value: object) -> str | None:
        if isinstance(value, FromStep):
            return results[value.key][value.field]
        return value if isinstance(value, str) else None

    for wave in _waves(plan.steps):
        for step in wave:
            p = step.payload
            clock += 1
            if isinstance(p, UploadFile):
                f = a_file(p.sha256, id=f"file-up-{p.sha256[:8]}", created_at=clock)
                files.append(f)
                results[step.key] = {"id": f.id}
            elif isinstance(p, CreateJob):
                job_id = f"ftjob-sim{clock}"
                ft = f"ft:{BASE}:org:{p.name}:{job_id[-6:]}"
                method = json.loads(p.method_json)
                hp = {"n_epochs": 3, "batch_size": 1, "learning_rate_multiplier": 1.8}
                given = method.get(method["type"], {}).get("hyperparameters", {})
                hp.update({k: v for k, v in given.items() if v != "auto"})
                jobs.append(RemoteJob(
                    id=job_id, status=JobStatus.SUCCEEDED, model=resolve(p.model) or "",
                    training_file=resolve(p.training_file) or "",
                    validation_file=resolve(p.validation_file), method_type=method["type"],
                    hyperparameters=tuple(sorted(hp.items())), suffix=p.suffix,
                    seed=p.seed if p.seed is not None else 99, metadata=p.metadata,
                    fine_tuned_model=ft, created_at=clock))
                models.append(RemoteModel(id=ft, owned_by="org", created=clock))
                results[step.key] = {"fine_tuned_model": ft, "id": job_id}
            elif isinstance(p, CancelJob):
                jobs = [replace(j, status=JobStatus.CANCELLED) if j.id == p.job_id else j
                        for j in jobs]
            elif isinstance(p, DeleteModel):
                models = [m for m in models if m.id != p.model_id]
            assert step.action is not Action.NOOP
    return Snapshot(workspace=snapshot.workspace, files=tuple(sorted(files, key=lambda f: f.id)),
                    jobs=tuple(sorted(jobs, key=lambda j: j.id)),
                    models=tuple(sorted(models, key=lambda m: m.id)))


def _waves(steps: tuple[Step, ...]) -> list[list[Step]]:
    """Steps in dependency order, a wave at a time (what the executor's ready queue allows).
    NOOP steps are reports, not work; dependencies outside `steps` count as done."""
    left = [s for s in steps if s.action is not Action.NOOP]
    keys = {s.key for s in left}
    done: set[str] = set()
    out: list[list[Step]] = []
    while left:
        wave = [s for s in left if all(d in done or d not in keys for d in s.depends_on)]
        assert wave, "dependency cycle among plan steps"
        out.append(wave)
        done.update(s.key for s in wave)
        left = [s for s in left if s.key not in done]
    return out
