"""A model's versions as the remote shows them, and how a job compares with its manifest.

Pure, no I/O; part of the planner (split out of planner.py to keep modules small). A model's
versions are its jobs (metadata ftctl-name, or the job a manifest adopts); the current version
is the newest succeeded job whose fine-tuned model still exists in the snapshot's models.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.plan import FieldChange
from reconciler.planner.field_diff import field_changes
from reconciler.planner.identity import (
    META_NAME,
    META_SPEC,
    META_WORKSPACE,
    SPEC_SCHEME,
    job_version,
    known_scheme,
    parse_spec_value,
    sha_from_file_name,
    spec_side_changes,
    spec_value,
)
from reconciler.planner.normalize import (
    SIDE_FIELDS,
    comparable,
    forces_new,
    ft_base,
    hash_essence,
    is_ignored,
    job_essence,
    models_match,
    side_values,
    spec_essence,
)
from reconciler.snapshot import JobStatus, RemoteJob, RemoteModel, Snapshot
from reconciler.spec import DatasetInfo, Desired, Manifest, ParentRef


@dataclass(frozen=True, slots=True, kw_only=True)
class Versions:
    """One name's jobs, oldest first (by ftctl-version, then created_at, then id)."""

    jobs: tuple[RemoteJob, ...] = ()
    model_ids: frozenset[str] = frozenset()

    @property
    def latest(self) -> RemoteJob | None:
        """The newest job, not counting cancelled duplicates of a version another job holds.

        Two racing applies can create the same version twice; the later one is cancelled, and
        that cancellation must not read as "the latest job was cancelled".
        """
        live = [j for j in self.jobs if not self._cancelled_duplicate(j)]
        return live[-1] if live else None

    def _cancelled_duplicate(self, job: RemoteJob) -> bool:
        if job.status is not JobStatus.CANCELLED:
            return False
        version = version_of(job)
        return version > 0 and any(
            other is not job
            and version_of(other) == version
            and other.status is not JobStatus.CANCELLED
            for other in self.jobs
        )

    @property
    def in_flight(self) -> tuple[RemoteJob, ...]:
        """Jobs not finished yet, newest first."""
        return tuple(reversed([j for j in self.jobs if not j.status.is_terminal]))

    @property
    def existing(self) -> tuple[RemoteJob, ...]:
        """Succeeded jobs whose fine-tuned model still exists, newest first."""
        return tuple(
            j
            for j in reversed(self.jobs)
            if j.status is JobStatus.SUCCEEDED and j.fine_tuned_model in self.model_ids
        )

    @property
    def current(self) -> RemoteJob | None:
        existing = self.existing
        return existing[0] if existing else None

    @property
    def max_version(self) -> int:
        return max((version_of(j) for j in self.jobs), default=0)

    def newer_than(self, job: RemoteJob, other: RemoteJob | None) -> bool:
        return other is None or self.jobs.index(job) > self.jobs.index(other)

    def lineage_root(self, job: RemoteJob) -> str:
        """What `job`'s line of versions was first built on: follows `update: continue` jobs
        (trained from this name's own earlier models) back to a base or {ref:} parent model."""
        produced = {j.fine_tuned_model: j for j in self.jobs if j.fine_tuned_model}
        model, seen = job.model, set()
        while model in produced and model not in seen:
            seen.add(model)
            model = produced[model].model
        return model


def version_of(job: RemoteJob) -> int:
    """ftctl-version, 0 for a job without one (an adopted hand-made job)."""
    return job_version(dict(job.metadata)) or 0


def _order(job: RemoteJob) -> tuple[int, int, str]:
    return (version_of(job), job.created_at, job.id)


def managed_jobs_by_name(snapshot: Snapshot) -> dict[str, list[RemoteJob]]:
    """This workspace's jobs grouped by ftctl-name (jobs without a name are ignored)."""
    groups: dict[str, list[RemoteJob]] = {}
    for job in sorted(snapshot.jobs, key=lambda j: j.id):
        meta = dict(job.metadata)
        name = meta.get(META_NAME)
        if name and meta.get(META_WORKSPACE) == snapshot.workspace:
            groups.setdefault(name, []).append(job)
    return groups


def versions_for(
    name: str,
    manifest: Manifest | None,
    groups: Mapping[str, list[RemoteJob]],
    snapshot: Snapshot,
    *,
    model_ids: frozenset[str] | None = None,
) -> Versions:
    """The versions of `name`: its managed jobs plus the job its manifest adopts.

    model_ids: the ids of snapshot.models, when the caller has them (planning thousands of
    models must not rebuild the set for each one).
    """
    jobs = list(groups.get(name, ()))
    adopt = manifest.spec.adopt if manifest is not None else None
    if adopt and all(j.id != adopt for j in jobs):
        jobs.extend(j for j in snapshot.jobs if j.id == adopt)
    if model_ids is None:
        model_ids = frozenset(m.id for m in snapshot.models)
    return Versions(jobs=tuple(sorted(jobs, key=_order)), model_ids=model_ids)


def file_shas(snapshot: Snapshot) -> dict[str, str]:
    """Remote file id -> the sha256 its content-addressed name carries."""
    out: dict[str, str] = {}
    for f in snapshot.files:
        sha = sha_from_file_name(f.filename)
        if sha is not None:
            out[f.id] = sha
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    changes: tuple[FieldChange, ...]
    forced: bool

    @property
    def only_model(self) -> bool:
        """Every forcing change is the base model (a {ref:} parent's new version)."""
        return all(c.path == "model" for c in self.changes if c.forces_new)


def spec_of(
    manifest: Manifest, datasets: Mapping[str, DatasetInfo], *, scheme: int = SPEC_SCHEME
) -> str:
    """The `ftctl-spec` value of a manifest as it is now (in the current scheme by default)."""
    return spec_value(hash_essence(manifest, datasets), side_values(manifest, datasets),
                      scheme=scheme)


def _spec_as_stamped(
    manifest: Manifest, datasets: Mapping[str, DatasetInfo], spec: str, stamped: str | None
) -> str | None:
    """The manifest's value in the scheme `stamped` was written by, so the two compare; None
    when that scheme is unknown (a newer ftctl's, or not an ftctl value): fields decide then."""
    if stamped == spec:
        return spec  # the common case: unchanged since this ftctl stamped it
    stamp = parse_spec_value(stamped)
    if stamp is None or not known_scheme(stamp.scheme):
        return None
    current = parse_spec_value(spec)
    if current is not None and current.scheme == stamp.scheme:
        return spec
    return spec_of(manifest, datasets, scheme=stamp.scheme)


def compare(
    manifest: Manifest,
    job: RemoteJob,
    *,
    spec: str,
    datasets: Mapping[str, DatasetInfo],
    file_sha: Mapping[str, str],
    parent_model: object = None,
) -> Comparison:
    """How `job` differs from what `manifest` asks for now (spec: its current ftctl-spec).

    parent_model: for a {ref:} manifest, the parent's model the child should be built on (a
    model id, or plan.UNKNOWN when the parent is about to change).
    """
    ignore = manifest.spec.lifecycle.ignore_changes
    is_ref = isinstance(manifest.spec.model, ParentRef)
    stamped = job.meta(META_SPEC)
    # A job stamped by an older ftctl compares with the manifest's value in that job's scheme:
    # upgrading ftctl alone never reads as a change.
    spec_then = _spec_as_stamped(manifest, datasets, spec, stamped)
    if stamped is not None and stamped == spec_then and not is_ref:
        # The manifest has not changed since this job was made (the common case: no diff).
        return Comparison(changes=(), forced=False)
    wanted = spec_essence(manifest, datasets, model=parent_model)
    seen = job_essence(job, file_sha)
    pair = comparable(seen, wanted, update=manifest.spec.update)
    if stamped is not None and stamped == spec_then:
        # Unchanged manifest: only a {ref:} parent's new model can force a retrain.
        changes = field_changes({"model": pair.before.get("model")},
                                {"model": pair.after.get("model")},
                                forces_new=lambda p: forces_new(p, ignore))
        return Comparison(changes=changes, forced=any(c.forces_new for c in changes))
    changes = field_changes(pair.before, pair.after, forces_new=lambda p: forces_new(p, ignore))
    # Fields the job cannot show back are told apart by their chunk of the spec value.
    known = {c.path for c in changes}
    hidden = tuple(
        FieldChange(path=path, before=_lookup(seen, path), after=_lookup(wanted, path),
                    forces_new=True)
        for path in spec_side_changes(stamped, spec_then or "", SIDE_FIELDS)
        if path not in known and not is_ignored(path, ignore)
    )
    changes = tuple(sorted(changes + hidden, key=lambda c: c.path))
    return Comparison(changes=changes, forced=any(c.forces_new for c in changes))


def _lookup(essence: Mapping[str, object], path: str) -> object:
    value: object = essence
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def manifest_index(desired: Desired) -> dict[str, Manifest]:
    """name -> manifest (Desired.manifest is a linear search; planning needs many lookups)."""
    return {m.name: m for m in desired.manifests}


def parent_chain(
    desired: Desired, name: str, index: Mapping[str, Manifest] | None = None
) -> list[str]:
    """name's {ref:} ancestors, nearest first; stops at a cycle or a missing manifest."""
    index = manifest_index(desired) if index is None else index
    chain: list[str] = []
    manifest = index.get(name)
    while manifest is not None and isinstance(manifest.spec.model, ParentRef):
        parent = manifest.spec.model.name
        if parent in chain or parent == name:
            break
        chain.append(parent)
        manifest = index.get(parent)
    return chain


def root_base_model(
    desired: Desired, name: str, index: Mapping[str, Manifest] | None = None
) -> str | None:
    """The base model at the root of name's {ref:} chain, None when it cannot be resolved."""
    index = manifest_index(desired) if index is None else index
    chain = parent_chain(desired, name, index)
    manifest = index.get(chain[-1] if chain else name)
    if manifest is None or isinstance(manifest.spec.model, ParentRef):
        return None
    return manifest.spec.model


RETIREMENT_WINDOW_DAYS = 90


def dated_base_models(models: tuple[RemoteModel, ...]) -> tuple[RemoteModel, ...]:
    """Base models that announce a shutdown_date, by id (a handful among thousands)."""
    return tuple(sorted((m for m in models if m.shutdown_date and not m.is_fine_tuned),
                        key=lambda m: m.id))


def retiring_base(
    model: str, models: tuple[RemoteModel, ...], today: str
) -> tuple[RemoteModel, int] | None:
    """The listed base model `model` resolves to when its shutdown_date is within 90 days of
    today (or past), with the days left; None otherwise."""
    base = ft_base(model) or model
    for candidate in dated_base_models(models):
        if not models_match(candidate.id, base):
            continue
        try:
            left = (dt.date.fromisoformat((candidate.shutdown_date or "")[:10])
                    - dt.date.fromisoformat(today)).days
        except ValueError:
            continue
        if left <= RETIREMENT_WINDOW_DAYS:
            return candidate, left
    return None
