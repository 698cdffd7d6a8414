"""Saved plans (`plan --out FILE`, `apply FILE`): a lossless JSON round trip of a Plan, plus the
check that refuses to apply a plan the remote has moved away from.

This is not the display JSON (render/jsonplan.py): it is private to ftctl and carries every Step
payload exactly, so apply never re-plans. Values are tagged so types come back: dataclasses as
{"$type": "plan.Step", "fields": {...}}, enums as {"$enum": ..., "value": ...}, tuples as
arrays, the unknown marker as {"$unknown": true}. Any dataclass or enum defined in the core type
modules is accepted, so new fields and payload types round-trip without changes here.
The API key is never written: save() refuses a plan whose text would contain it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from enum import Enum
from types import ModuleType

from reconciler import __version__, diagnostics, plan, spec
from reconciler.errors import FtctlError, StalePlanError
from reconciler.plan import (
    UNKNOWN,
    CancelJob,
    CreateJob,
    DeleteModel,
    NoChange,
    Plan,
    Step,
    VerifyModel,
)
from reconciler.planner.identity import state_fingerprint
from reconciler.snapshot import JobStatus, RemoteJob, Snapshot

PLANFILE_VERSION = 1
_MARKER = "ftctl_plan_file"


class PlanFileError(FtctlError):
    """A plan file cannot be written or read (missing, not a plan, from a newer ftctl)."""


def _registry(modules: Iterable[ModuleType]) -> dict[str, type]:
    found: dict[str, type] = {}
    for module in modules:
        short = module.__name__.rsplit(".", 1)[1]
        for value in vars(module).values():
            if not isinstance(value, type) or value.__module__ != module.__name__:
                continue
            if dataclasses.is_dataclass(value) or issubclass(value, Enum):
                found[f"{short}.{value.__qualname__}"] = value
    return found


_TYPES = _registry((plan, spec, diagnostics))
_NAMES = {cls: name for name, cls in _TYPES.items()}


def dumps(value: Plan) -> str:
    """The plan file's text."""
    doc = {
        _MARKER: PLANFILE_VERSION,
        "ftctl_version": __version__,
        "plan": _encode(value),
    }
    return json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def loads(text: str, *, source: str = "plan file") -> Plan:
    """A Plan from a plan file's text; PlanFileError when it is not one this ftctl can read."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise PlanFileError(f"{source} is not an ftctl plan file (not JSON: {exc})") from None
    if not isinstance(doc, dict) or _MARKER not in doc:
        raise PlanFileError(f"{source} is not an ftctl plan file")
    version = doc[_MARKER]
    if version != PLANFILE_VERSION:
        raise PlanFileError(
            f"{source} has plan file version {version}; this ftctl reads version "
            f"{PLANFILE_VERSION} (made by ftctl {doc.get('ftctl_version', '?')})"
        )
    value = _decode(doc.get("plan"), source)
    if not isinstance(value, Plan):
        raise PlanFileError(f"{source} does not hold a plan")
    if value.format_version != plan.FORMAT_VERSION:
        raise PlanFileError(
            f"{source} holds a plan of format {value.format_version}; this ftctl makes "
            f"{plan.FORMAT_VERSION}: run `ftctl plan --out` again"
        )
    return value


def save(value: Plan, path: str, *, secrets: Iterable[str] | None = None) -> None:
    """Write the plan atomically. secrets: strings that must never be written (default: the
    API key from OPENAI_API_KEY); a plan containing one is refused, not written."""
    text = dumps(value)
    for secret in _secrets(secrets):
        if secret in text:
            raise PlanFileError("refusing to save the plan: it would contain the API key")
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".ftctl-plan-", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise PlanFileError(f"cannot write plan file {path}: {exc.strerror or exc}") from None


def load(path: str) -> Plan:
    """Read a plan saved by save()."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise PlanFileError(f"cannot read plan file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise PlanFileError(f"{path} is not an ftctl plan file (not UTF-8 text)") from None
    return loads(text, source=path)


def _secrets(given: Iterable[str] | None) -> list[str]:
    if given is None:
        given = [os.environ.get("OPENAI_API_KEY", "")]
    # Very short strings would match by accident; real keys are long.
    return [s for s in given if len(s) >= 8]


def _encode(value: object) -> object:
    if value is UNKNOWN:
        return {"$unknown": True}
    if isinstance(value, Enum):  # before str: StrEnum members are strs too
        return {"$enum": _type_name(type(value)), "value": value.value}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$type": _type_name(type(value)), "fields": fields}
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    if isinstance(value, list):
        return {"$list": [_encode(v) for v in value]}
    if isinstance(value, Mapping):
        return {"$map": [[_encode(k), _encode(v)] for k, v in value.items()]}
    raise PlanFileError(f"cannot save a value of type {type(value).__name__} in a plan file")


def _type_name(cls: type) -> str:
    name = _NAMES.get(cls)
    if name is None:
        raise PlanFileError(f"cannot save a value of type {cls.__name__} in a plan file")
    return name


def _decode(value: object, source: str) -> object:
    if isinstance(value, list):
        return tuple(_decode(v, source) for v in value)
    if not isinstance(value, dict):
        return value
    if value.get("$unknown") is True:
        return UNKNOWN
    if "$list" in value:
        return [_decode(v, source) for v in value["$list"]]
    if "$map" in value:
        return {_decode(k, source): _decode(v, source) for k, v in value["$map"]}
    cls = _TYPES.get(str(value.get("$enum") or value.get("$type")))
    if cls is None:
        raise PlanFileError(f"{source} holds an unknown value {_short(value)}")
    try:
        if issubclass(cls, Enum):
            return cls(value["value"])
        fields = {k: _decode(v, source) for k, v in dict(value["fields"]).items()}
        return cls(**fields)
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanFileError(f"{source} holds a malformed {cls.__name__}: {exc}") from None


def _short(value: object) -> str:
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."


def ensure_fresh(saved: Plan, snapshot: Snapshot) -> None:
    """Raise StalePlanError (one sentence of why) when the remote moved since the plan was made.

    Compares identity.state_fingerprint, which ignores job progress (queued -> running), so a
    plan stays applicable while its jobs merely advance.
    """
    if snapshot.workspace != saved.workspace:
        raise StalePlanError(
            f"Saved plan is for workspace {saved.workspace!r}, not {snapshot.workspace!r}."
        )
    if state_fingerprint(snapshot) == saved.snapshot_fingerprint:
        return
    why = _why_stale(saved, snapshot) or (
        "managed jobs, files or models changed since it was made "
        "(another apply, or a change outside ftctl)"
    )
    raise StalePlanError(f"Saved plan is stale: {why}; run `ftctl plan` again and review it.")


def _why_stale(saved: Plan, snapshot: Snapshot) -> str | None:
    """The first remote object the plan relies on that is gone or has ended, in words."""
    jobs = {j.id: j for j in snapshot.jobs}
    models = {m.id for m in snapshot.models}
    files = {f.id for f in snapshot.files}
    for step in saved.steps:
        why = _step_stale(step, jobs, models, files)
        if why:
            return why
    return None


def _step_stale(
    step: Step, jobs: Mapping[str, RemoteJob], models: set[str], files: set[str]
) -> str | None:
    p = step.payload
    if isinstance(p, CancelJob):
        job = jobs.get(p.job_id)
        if job is None:
            return f"job {p.job_id} it would cancel no longer exists"
        if job.status.is_terminal:
            return f"job {p.job_id} it would cancel has since {_ended(job)}"
    if isinstance(p, DeleteModel) and p.model_id not in models:
        return f"model {p.model_id} it would delete no longer exists"
    if isinstance(p, VerifyModel) and p.model_id not in models:
        return f"model {p.model_id} it would check no longer exists"
    if isinstance(p, CreateJob):
        for file_id in (p.training_file, p.validation_file):
            if isinstance(file_id, str) and file_id not in files:
                return f"file {file_id} that {step.name} would train on no longer exists"
        if isinstance(p.model, str) and p.model.startswith("ft:") and p.model not in models:
            return f"model {p.model} that {step.name} would build on no longer exists"
    if isinstance(p, NoChange) and p.job_id:
        return _nochange_stale(step.name, p, jobs.get(p.job_id))
    return None


def _nochange_stale(name: str, p: NoChange, job: RemoteJob | None) -> str | None:
    if job is None:
        return f"job {p.job_id} of {name} no longer exists"
    was_active = p.status is not None and p.status not in ("succeeded", "failed", "cancelled")
    if was_active and job.status.is_terminal:
        return f"job {p.job_id} of {name} has since {_ended(job)}"
    return None


def _ended(job: RemoteJob) -> str:
    return "been cancelled" if job.status is JobStatus.CANCELLED else job.status.value

