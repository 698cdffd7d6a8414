"""Saved plans (`plan --out FILE`, `apply FILE`): a lossless JSON round trip of a Plan, plus the
check that refuses to apply a plan the remote has moved away from.

This is not the display JSON (render/jsonplan.py): it is private to ftctl and carries every Step
payload exactly, so apply never re-plans. The layout is the explicit schema of planfile_schema
(never Python class names). The file carries its format version (PLANFILE_VERSION) and the
ftctl version that wrote it; a file of another format is refused with what to do about it.
The API key is never written: save() refuses a plan whose text would contain it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping

from reconciler import __version__, plan
from reconciler.errors import FtctlError, StalePlanError
from reconciler.plan import (
    CancelJob,
    CreateJob,
    DeleteModel,
    NoChange,
    Plan,
    Step,
    VerifyModel,
)
from reconciler.planfile_schema import SchemaError, decode_plan, encode_plan
from reconciler.planner.identity import state_fingerprint
from reconciler.snapshot import JobStatus, RemoteJob, Snapshot

# 1: ftctl 0.1.0 (values tagged with Python class names). 2: the explicit schema.
PLANFILE_VERSION = 2
_MARKER = "ftctl_plan_file"


class PlanFileError(FtctlError):
    """A plan file cannot be written or read (missing, not a plan, from another ftctl)."""


def dumps(value: Plan) -> str:
    """The plan file's text."""
    try:
        body = encode_plan(value)
    except SchemaError as exc:
        raise PlanFileError(str(exc)) from None
    doc = {_MARKER: PLANFILE_VERSION, "ftctl_version": __version__, "plan": body}
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
            f"{source} was saved by ftctl {doc.get('ftctl_version', '(unknown version)')} in "
            f"plan file format {version}; this ftctl ({__version__}) reads format "
            f"{PLANFILE_VERSION} only: run `ftctl plan --out` again with this ftctl"
        )
    raw = doc.get("plan")
    if not isinstance(raw, dict):
        raise PlanFileError(f"{source} does not hold a plan")
    try:
        value = decode_plan(raw)
    except SchemaError as exc:
        raise PlanFileError(f"{source} is not a valid plan file: {exc}") from None
    if value.format_version != plan.FORMAT_VERSION:
        raise PlanFileError(
            f"{source} holds a plan of format {value.format_version}; this ftctl makes "
            f"{plan.FORMAT_VERSION}: run `ftctl plan --out` again"
        )
    return value


def save(value: Plan, path: str, *, secrets: Iterable[str] | None = None) -> None:
    """Write the plan atomically. secrets: strings that must never be written (default: the
    values of SECRET_VARIABLES); a plan containing one is refused, not written."""
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


# Environment variables holding secrets a plan must never contain: OpenAI's key, Azure's data
# plane key and Azure's ARM token.
SECRET_VARIABLES = ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_ACCESS_TOKEN")


def _secrets(given: Iterable[str] | None) -> list[str]:
    if given is None:
        given = [os.environ.get(name, "") for name in SECRET_VARIABLES]
    # Very short strings would match by accident; real keys are long.
    return [s for s in given if len(s) >= 8]


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

