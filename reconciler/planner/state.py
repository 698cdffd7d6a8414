"""The model-state layer: what each model is on the remote, built once from a snapshot.

The one home for "what a model is right now": its versions (the jobs of one ftctl-name, or
the job a manifest adopts), each version's gate verdict (read from the verdict files the
refresh listed), which version serves, what is in flight, and the orphans. The planner, drift,
show, output, try, models and jobs all read a RemoteState; none of them groups jobs or picks
the serving version itself.

Promoted: the newest trained version whose model still exists and whose verdict is passed (or
whose manifest has no gate: no checks, no evaluation). A version that passed a gate which has
changed since stays promoted until it is verified again; a version whose checks failed or whose
evaluation refused it never is. Serving: on a provider with deployments (Azure), the version
the manifest's deployment points at, since that is what answers; otherwise (and while that
deployment is missing) the promoted version. The planner moves the deployment to the promoted
version, so the two differ only until the next apply.

Deployments (Azure): a deployment is this workspace's when the model it serves is one of the
workspace's versions; one of the manifest's name that serves anything else belongs to someone
else and is never touched. Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from operator import attrgetter

from reconciler.planner.identity import (
    META_NAME,
    META_SPEC,
    META_VERSION,
    META_WORKSPACE,
    version_of,
)
from reconciler.planner.verdicts import RecordedVerdict, gate_id, parse_verdict_file_name
from reconciler.snapshot import JobStatus, RemoteDeployment, RemoteJob, Snapshot
from reconciler.spec import Desired, Manifest


class Verdict(StrEnum):
    """A version's verdict for its manifest's gate (checks, evaluation) as it is now."""

    PASSED = "passed"
    FAILED = "checks failed"
    REFUSED = "evaluation refused"
    NOT_RUN = "not checked"
    NO_CHECKS = "no checks"  # not gated: no checks and no evaluation


@dataclass(frozen=True, slots=True, kw_only=True)
class Version:
    """One job of a model. verified_before: it passed a gate that has changed since.
    verdict_file: the id of the verdict file that decided `verdict`, or of the passed one
    behind verified_before (its content has the metrics of an evaluation)."""

    job: RemoteJob
    number: int  # ftctl-version; 0 for an adopted hand-made job
    model_exists: bool
    verdict: Verdict = Verdict.NO_CHECKS
    verified_before: bool = False
    verdict_file: str | None = None

    @property
    def model_id(self) -> str | None:
        return self.job.fine_tuned_model

    @property
    def spec(self) -> str | None:
        """The job's ftctl-spec identity (None for a hand-made job)."""
        return self.job.meta(META_SPEC)

    @property
    def status(self) -> JobStatus:
        return self.job.status

    @property
    def trained(self) -> bool:
        """Succeeded, and its fine-tuned model still exists."""
        return self.job.status is JobStatus.SUCCEEDED and self.model_exists

    @property
    def rejected(self) -> bool:
        """Its gate said no: checks failed, or the evaluation refused it."""
        return self.verdict in (Verdict.FAILED, Verdict.REFUSED)

    @property
    def rejection(self) -> str:
        """How its gate said no, for messages ("failed its checks")."""
        if self.verdict is Verdict.REFUSED:
            return "was refused by its evaluation"
        return "failed its checks"

    @property
    def may_serve(self) -> bool:
        if not self.trained:
            return False
        if self.verdict in (Verdict.PASSED, Verdict.NO_CHECKS):
            return True
        return self.verdict is Verdict.NOT_RUN and self.verified_before


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelState:
    """One name's versions, oldest first (by ftctl-version, then created_at, then id)."""

    name: str
    versions: tuple[Version, ...] = ()
    declared: bool = True  # False: no manifest declares it (an orphan, or a name typed wrong)
    checks_id: str | None = None  # identity of its manifest's gate; None when not gated
    # Deployments (module doc); all empty on a provider without them or without spec.deployment.
    deployment_name: str | None = None  # the manifest's spec.deployment.name
    deployment: RemoteDeployment | None = None  # that deployment, when it exists and is ours
    foreign_deployment: RemoteDeployment | None = None  # that name, serving another's model
    strays: tuple[RemoteDeployment, ...] = ()  # other deployments serving its versions
    # Derived once from `versions` (every reader asks for them, many times per plan):
    trained: tuple[Version, ...] = field(init=False)  # succeeded, model exists; newest first
    in_flight: tuple[Version, ...] = field(init=False)  # still training; newest first
    promoted: Version | None = field(init=False)  # the version that should serve (module doc)
    deployed: Version | None = field(init=False)  # the trained version `deployment` serves
    serving: Version | None = field(init=False)  # the version that serves (module doc)

    def __post_init__(self) -> None:
        newest_first = self.versions[::-1]
        trained = tuple(v for v in newest_first if v.trained)
        object.__setattr__(self, "trained", trained)
        object.__setattr__(self, "in_flight",
                           tuple(v for v in newest_first if not v.status.is_terminal))
        promoted = next((v for v in trained if v.may_serve), None)
        on = self.deployment.model if self.deployment is not None else None
        deployed = next((v for v in trained if v.model_id == on), None) if on is not None \
            else None
        object.__setattr__(self, "promoted", promoted)
        object.__setattr__(self, "deployed", deployed)
        object.__setattr__(self, "serving", deployed or promoted)

    @property
    def latest(self) -> Version | None:
        """The newest version, not counting cancelled duplicates of a version another job
        holds (two racing applies create one version twice and cancel the later job)."""
        # From the newest down: usually the first one looked at is the answer.
        return next((v for v in reversed(self.versions) if not self._cancelled_duplicate(v)),
                    None)

    def _cancelled_duplicate(self, version: Version) -> bool:
        if version.status is not JobStatus.CANCELLED or version.number == 0:
            return False
        return any(
            other is not version and other.number == version.number
            and other.status is not JobStatus.CANCELLED
            for other in self.versions
        )

    @property
    def candidate(self) -> Version | None:
        """The newest trained version: what the manifest is compared with."""
        trained = self.trained
        return trained[0] if trained else None

    @property
    def serving_model(self) -> str | None:
        serving = self.serving
        return serving.model_id if serving else None

    @property
    def max_version(self) -> int:
        return max((v.number for v in self.versions), default=0)

    def newer_than(self, version: Version, other: Version | None) -> bool:
        return other is None or self.versions.index(version) > self.versions.index(other)

    def lineage_root(self, job: RemoteJob) -> str:
        """What `job`'s line of versions was first built on: follows `update: continue` jobs
        (trained from this name's own earlier models) back to a base or {ref:} parent model."""
        produced = {v.model_id: v.job for v in self.versions if v.model_id}
        model, seen = job.model, set()
        while model in produced and model not in seen:
            seen.add(model)
            model = produced[model].model
        return model


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteState:
    """Every declared model and every managed name without a manifest, by name."""

    workspace: str
    models: Mapping[str, ModelState]
    orphans: tuple[str, ...] = ()  # undeclared names that still hold a model or a running job
    with_deployments: bool = False  # the provider serves models through deployments (Azure)

    def __getitem__(self, name: str) -> ModelState:
        return self.models.get(name) or ModelState(name=name, declared=False)

    def __iter__(self) -> Iterator[ModelState]:
        return iter(self.models[n] for n in sorted(self.models))


def version_number(job: RemoteJob) -> int:
    """ftctl-version, 0 for a job without one (an adopted hand-made job)."""
    return version_of(job.meta(META_VERSION)) or 0


def build_state(desired: Desired, snapshot: Snapshot) -> RemoteState:
    """The state of every model in `snapshot`, for the manifests of `desired`."""
    groups, numbers = _managed_jobs_by_name(snapshot)
    manifests = {m.name: m for m in desired.manifests}
    by_id: dict[str, RemoteJob] | None = None  # built when a manifest adopts a job
    for manifest in manifests.values():
        adopt = manifest.spec.adopt
        jobs = groups.setdefault(manifest.name, [])
        if adopt and all(job.id != adopt for job in jobs):
            if by_id is None:
                by_id = {j.id: j for j in snapshot.jobs}
            if (adopted := by_id.get(adopt)) is not None:
                jobs.append(adopted)
                numbers[adopted.id] = version_number(adopted)
    verdicts = _recorded_verdicts(snapshot)
    model_ids = frozenset(m.id for m in snapshot.models)
    models = {
        name: _model_state(name, manifests.get(name), jobs, numbers, verdicts, model_ids)
        for name, jobs in groups.items()
    }
    if snapshot.deployments is not None:
        models = _with_deployments(models, manifests, snapshot.deployments)
    orphans = tuple(sorted(
        name for name, state in models.items()
        if not state.declared and (state.trained or state.in_flight or state.strays)
    ))
    return RemoteState(workspace=snapshot.workspace, models=models, orphans=orphans,
                       with_deployments=snapshot.deployments is not None)


def _with_deployments(
    models: Mapping[str, ModelState],
    manifests: Mapping[str, Manifest],
    deployments: Sequence[RemoteDeployment],
) -> dict[str, ModelState]:
    """Each model with its manifest's deployment (ours or foreign) and its stray ones: those
    serving one of its versions under a name no manifest claims."""
    owner = {v.model_id: s.name for s in models.values() for v in s.versions if v.model_id}
    claimed = {m.spec.deployment.name for m in manifests.values() if m.spec.deployment}
    by_name = {d.name: d for d in deployments}
    out = dict(models)
    for name, state in models.items():
        manifest = manifests.get(name)
        wanted = manifest.spec.deployment if manifest is not None else None
        found = by_name.get(wanted.name) if wanted is not None else None
        ours = found is not None and found.model in owner
        strays = tuple(d for d in deployments
                       if owner.get(d.model) == name and d.name not in claimed)
        out[name] = replace(
            state,
            deployment_name=wanted.name if wanted is not None else None,
            deployment=found if ours else None,
            foreign_deployment=found if found is not None and not ours else None,
            strays=strays,
        )
    return out


def _managed_jobs_by_name(
    snapshot: Snapshot,
) -> tuple[dict[str, list[RemoteJob]], dict[str, int]]:
    """This workspace's jobs grouped by ftctl-name, in id order (jobs without a name are
    ignored), and each one's version number by job id."""
    groups: dict[str, list[RemoteJob]] = {}
    numbers: dict[str, int] = {}  # not a (number, job) pair per job: 20,000 more for the GC
    workspace = snapshot.workspace
    for job in sorted(snapshot.jobs, key=_BY_ID):
        # One dict per job for its three keys: three scans of the pairs cost more at 20,000
        # jobs. dict() keeps the last pair of a repeated key, as RemoteJob.meta does.
        meta = dict(job.metadata)
        name = meta.get(META_NAME)
        if name and meta.get(META_WORKSPACE) == workspace:
            numbers[job.id] = version_of(meta.get(META_VERSION)) or 0
            groups.setdefault(name, []).append(job)
    return groups, numbers


_BY_ID = attrgetter("id")


def _recorded_verdicts(snapshot: Snapshot) -> dict[str, list[RecordedVerdict]]:
    """job id -> its recorded verdicts, oldest file first (the first one recorded wins)."""
    out: dict[str, list[RecordedVerdict]] = {}
    # Named first, ordered after: verdict files are few among 20,000 dataset files.
    named = [(f, recorded) for f in snapshot.files
             if (recorded := parse_verdict_file_name(f.filename)) is not None and f.usable]
    for f, recorded in sorted(named, key=lambda pair: (pair[0].created_at, pair[0].id)):
        out.setdefault(recorded.job_id, []).append(replace(recorded, file_id=f.id))
    return out


def _model_state(
    name: str,
    manifest: Manifest | None,
    jobs: list[RemoteJob],
    numbers: Mapping[str, int],
    verdicts: Mapping[str, list[RecordedVerdict]],
    model_ids: frozenset[str],
) -> ModelState:
    gated = manifest is not None and manifest.spec.gated
    checks = gate_id(manifest.spec.checks, manifest.spec.evaluation) if gated and manifest \
        else None
    ordered = sorted(jobs, key=lambda j: (numbers[j.id], j.created_at, j.id))
    if checks is None and (manifest is not None or not verdicts):
        # Not gated (or an orphan with no verdict anywhere): no job has a verdict to read.
        # The common case at scale, so one constructor call per job and nothing else.
        versions = tuple(
            Version(job=job, number=numbers[job.id], model_exists=job.fine_tuned_model in model_ids)
            for job in ordered
        )
    else:
        versions = tuple(
            _version(job, numbers[job.id], manifest, checks, verdicts.get(job.id, ()), model_ids)
            for job in ordered
        )
    return ModelState(name=name, versions=versions, declared=manifest is not None,
                      checks_id=checks)


def _version(
    job: RemoteJob,
    number: int,
    manifest: Manifest | None,
    checks: str | None,
    recorded: Sequence[RecordedVerdict],
    model_ids: frozenset[str],
) -> Version:
    # One constructor call per job, no dataclasses.replace: this runs 20,000 times at scale.
    exists = job.fine_tuned_model in model_ids  # model ids are text: None is never in them
    if not recorded and (manifest is None or checks is None):
        return Version(job=job, number=number, model_exists=exists)
    if manifest is None:  # an orphan: its checks are unknown, any recorded verdict stands
        passed = [r for r in recorded if r.passed]
        return _decided(job, number, exists, passed[0] if passed else recorded[0])
    if checks is None:
        return Version(job=job, number=number, model_exists=exists)
    mine = [r for r in recorded if r.checks_id == checks]
    if mine:
        return _decided(job, number, exists, mine[0])
    passed = [r for r in recorded if r.passed]
    return Version(job=job, number=number, model_exists=exists, verdict=Verdict.NOT_RUN,
                   verified_before=bool(passed),
                   verdict_file=passed[0].file_id if passed else None)


def _decided(job: RemoteJob, number: int, exists: bool, recorded: RecordedVerdict) -> Version:
    """The version of `job` with the verdict a recorded file gives it."""
    if recorded.passed:
        verdict = Verdict.PASSED
    else:
        verdict = Verdict.REFUSED if recorded.refused else Verdict.FAILED
    return Version(job=job, number=number, model_exists=exists, verdict=verdict,
                   verdict_file=recorded.file_id)
