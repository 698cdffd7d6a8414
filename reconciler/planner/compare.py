"""How a remote job compares with its manifest, and which base models are close to retirement.

Pure, no I/O; part of the planner. Versions, verdicts and the serving version are the
model-state layer's (state.py), the {ref:} chain is refs.py's; this module compares one job with
what a manifest asks for now (its `ftctl-spec`, then field by field) and finds base models that
announce a shutdown date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.model_names import ft_base, models_match
from reconciler.plan import FieldChange
from reconciler.planner.field_diff import field_changes
from reconciler.planner.identity import (
    META_SPEC,
    SPEC_SCHEME,
    known_scheme,
    parse_spec_value,
    spec_side_changes,
    spec_value,
)
from reconciler.planner.normalize import (
    SIDE_FIELDS,
    comparable,
    forces_new,
    hash_essence,
    is_ignored,
    job_essence,
    side_values,
    spec_essence,
)
from reconciler.snapshot import RemoteJob, RemoteModel
from reconciler.spec import DatasetInfo, Desired, Manifest, ParentRef


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


def manifest_specs(desired: Desired) -> dict[str, str]:
    """name -> the manifest's `ftctl-spec` value now: manifests and dataset facts only, so it
    can be computed before the remote is read (run_plan does it while the refresh waits)."""
    return {m.name: spec_of(m, desired.datasets) for m in desired.manifests}


def manifest_index(desired: Desired) -> dict[str, Manifest]:
    """name -> manifest (Desired.manifest is a linear search; planning needs many lookups)."""
    return {m.name: m for m in desired.manifests}


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
