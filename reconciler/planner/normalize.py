"""Normal forms ("essences"): a manifest and a remote job in the same manifest vocabulary.

L1 pure logic, no I/O. The planner compares essences, never raw objects (kopf's diff-base
essence): both sides are reduced to the fields that force a retrain, and the loose rules are
applied before anything is diffed:

- "auto" (or an unset hyperparameter) in the manifest matches whatever the server resolved;
- a seed the server chose is not drift when the manifest has none;
- a dated snapshot id (gpt-4o-mini-2024-07-18) matches its alias (gpt-4o-mini);
- a remote value that cannot be known (a deleted file, a field the job does not report) is
  not evidence of a change.

The `ftctl-spec` value (identity.spec_value) is a hash of `hash_essence` (exactly the
retrain-forcing fields, minus `lifecycle.ignore_changes`) plus one short chunk per SIDE_FIELDS
entry, so a later plan can tell whether a field the job cannot show back has changed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.model_names import ft_base, model_alias, models_match
from reconciler.snapshot import RemoteJob
from reconciler.spec import DatasetInfo, DatasetRef, Manifest, ParentRef, UpdatePolicy

# Spec fields (manifest vocabulary) whose change forces a new job.
FORCING_FIELDS = (
    "model",
    "suffix",
    "training_file",
    "validation_file",
    "method.type",
    "method.hyperparameters",
    "method.grader",
    "seed",
    "integrations",
)
# The API does not echo these back on a job at all.
UNOBSERVABLE_FIELDS = ("method.grader", "integrations")
# Fields with their own chunk in the `ftctl-spec` value (identity.spec_value): a job cannot
# always show them back. The remote file may be deleted; grader and integrations are not
# echoed; the suffix shows only inside a finished job's ft: id, maybe normalised, so it is
# never compared literally.
SIDE_FIELDS = ("training_file", "validation_file", "method.grader", "integrations", "suffix")

def is_ignored(path: str, ignore_changes: tuple[str, ...]) -> bool:
    """True when path is, or is inside, a field listed in lifecycle.ignore_changes."""
    for entry in ignore_changes:
        entry = entry.removeprefix("spec.")
        if path == entry or path.startswith(entry + "."):
            return True
    return False


def forces_new(path: str, ignore_changes: tuple[str, ...] = ()) -> bool:
    """Whether a change at `path` forces a retrain (and is not ignored)."""
    if is_ignored(path, ignore_changes):
        return False
    return any(path == f or path.startswith(f + ".") for f in FORCING_FIELDS)


def _dataset_value(ref: DatasetRef | None, datasets: Mapping[str, DatasetInfo]) -> str | None:
    if ref is None:
        return None
    info = datasets.get(ref.repo_path)
    # Without dataset facts the path stands in; the planner reports the missing facts.
    return info.sha256 if info is not None else f"path:{ref.repo_path}"


def spec_essence(
    manifest: Manifest, datasets: Mapping[str, DatasetInfo], *, model: object = None
) -> dict[str, object]:
    """The manifest's retrain-forcing fields. `model` overrides spec.model (for {ref:})."""
    spec = manifest.spec
    if model is None:
        model = f"ref:{spec.model.name}" if isinstance(spec.model, ParentRef) else spec.model
    grader = json.loads(spec.method.grader_json) if spec.method.grader_json else None
    integrations = json.loads(spec.integrations_json) if spec.integrations_json else None
    return {
        "model": model,
        "suffix": spec.suffix,
        "training_file": _dataset_value(spec.training_file, datasets),
        "validation_file": _dataset_value(spec.validation_file, datasets),
        "method": {
            "type": spec.method.type.value,
            "hyperparameters": dict(spec.method.hyperparameters),
            "grader": grader,
        },
        "seed": spec.seed,
        "integrations": integrations,
    }


def hash_essence(manifest: Manifest, datasets: Mapping[str, DatasetInfo]) -> dict[str, object]:
    """What `ftctl-spec` hashes: spec_essence with the model as its alias and the ignored
    fields left out (so editing an ignored field never changes the hash)."""
    essence = spec_essence(manifest, datasets)
    if isinstance(essence["model"], str):
        essence["model"] = model_alias(essence["model"])
    return _drop_paths(essence, manifest.spec.lifecycle.ignore_changes)


def side_values(
    manifest: Manifest, datasets: Mapping[str, DatasetInfo]
) -> tuple[tuple[str, object], ...]:
    """(field, value) for each SIDE_FIELDS entry, in order; an ignored field hashes as such."""
    essence = spec_essence(manifest, datasets)
    method = essence["method"]
    values = {
        "training_file": essence["training_file"],
        "validation_file": essence["validation_file"],
        "method.grader": method.get("grader") if isinstance(method, dict) else None,
        "integrations": essence["integrations"],
        "suffix": essence["suffix"],
    }
    ignore = manifest.spec.lifecycle.ignore_changes
    return tuple(
        (name, "(ignored)" if is_ignored(name, ignore) else values[name]) for name in SIDE_FIELDS
    )


def _drop_paths(essence: dict[str, object], ignore: tuple[str, ...]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in essence.items():
        if is_ignored(key, ignore):
            continue
        if isinstance(value, dict):
            inner = {k: v for k, v in value.items() if not is_ignored(f"{key}.{k}", ignore)}
            if isinstance(inner.get("hyperparameters"), dict):
                inner["hyperparameters"] = {
                    k: v
                    for k, v in inner["hyperparameters"].items()
                    if not is_ignored(f"{key}.hyperparameters.{k}", ignore)
                }
            out[key] = inner
        else:
            out[key] = value
    return out


def job_essence(job: RemoteJob, file_sha: Mapping[str, str]) -> dict[str, object]:
    """A job's fields in manifest vocabulary. file_sha maps a remote file id to the sha256 its
    content-addressed name carries (identity.sha_from_file_name), so files compare by content."""
    return {
        "model": job.model,
        "suffix": job.suffix,
        "training_file": _file_value(job.training_file, file_sha),
        "validation_file": _file_value(job.validation_file, file_sha),
        "method": {"type": job.method_type, "hyperparameters": dict(job.hyperparameters)},
        "seed": job.seed,
    }


def _file_value(file_id: str | None, file_sha: Mapping[str, str]) -> str | None:
    if file_id is None:
        return None
    # An unknown file (deleted, or not content-addressed) is kept as its id: not comparable.
    return file_sha.get(file_id, f"file:{file_id}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparable:
    """Both sides ready to diff, the loose rules applied."""

    before: dict[str, object]
    after: dict[str, object]


def comparable(
    job: Mapping[str, object], desired: Mapping[str, object], *, update: UpdatePolicy
) -> Comparable:
    """Apply the loose-matching rules to (job essence, spec essence) before they are diffed."""
    before = {k: v for k, v in job.items()}
    after = {k: v for k, v in desired.items() if k not in UNOBSERVABLE_FIELDS}
    for key in ("model", "suffix", "training_file", "validation_file", "seed"):
        if _tolerate(key, before.get(key), after.get(key), update):
            before[key] = after.get(key)
    method_b = dict(_as_dict(before.get("method")))
    method_a = {k: v for k, v in _as_dict(after.get("method")).items() if k != "grader"}
    hp_b, hp_a = _hyperparameters(
        _as_dict(method_b.get("hyperparameters")), _as_dict(method_a.get("hyperparameters"))
    )
    method_b["hyperparameters"], method_a["hyperparameters"] = hp_b, hp_a
    before["method"], after["method"] = method_b, method_a
    after.pop("integrations", None)
    return Comparable(before=before, after=after)


def _as_dict(value: object) -> dict[str, object]:
    return dict(value) if isinstance(value, dict) else {}


def _tolerate(key: str, remote: object, wanted: object, update: UpdatePolicy) -> bool:
    if remote == wanted:
        return False
    if key == "seed":
        return wanted is None  # the server chose one
    if key == "suffix":
        return True  # see SIDE_FIELDS: compared through the spec value, not literally
    if key in ("training_file", "validation_file"):
        return isinstance(remote, str) and remote.startswith("file:") and wanted is not None
    if key == "model" and isinstance(remote, str) and isinstance(wanted, str):
        if models_match(remote, wanted):
            return True
        # A continued version was trained from an earlier ft: model of the same base.
        base = ft_base(remote)
        return update is UpdatePolicy.CONTINUE and base is not None and models_match(base, wanted)
    return False


def _hyperparameters(
    remote: dict[str, object], wanted: dict[str, object]
) -> tuple[dict[str, object], dict[str, object]]:
    """Only the hyperparameters both sides pin: "auto" or unset matches what the server chose."""
    before: dict[str, object] = {}
    after: dict[str, object] = {}
    for key in sorted(set(remote) | set(wanted)):
        value = wanted.get(key, "auto")
        if value == "auto" or key not in remote:
            continue
        before[key], after[key] = remote[key], value
    return before, after
