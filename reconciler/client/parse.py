"""Raw API JSON -> snapshot types. Tolerant of missing optional fields and unknown extras.

No I/O. Pairs are sorted tuples so the results are hashable, comparable values.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.snapshot import (
    Checkpoint,
    JobEvent,
    JobStatus,
    JsonScalar,
    RemoteFile,
    RemoteJob,
    RemoteModel,
)

_SCALARS = (str, int, float, bool, type(None))


def _scalars(obj: object) -> tuple[tuple[str, JsonScalar], ...]:
    if not isinstance(obj, dict) or not obj:
        return ()
    return tuple(sorted([(str(k), v) for k, v in obj.items() if isinstance(v, _SCALARS)]))


def _text_pairs(obj: object) -> tuple[tuple[str, str], ...]:
    """A JSON object's entries as sorted (key, text) pairs: how metadata is held."""
    if not isinstance(obj, dict) or not obj:
        return ()
    if all(type(value) is str for value in obj.values()):  # as the API sends them
        return tuple(sorted(obj.items()))
    return tuple(sorted((str(k), str(v)) for k, v in obj.items()))


def _opt_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _canonical(value: object) -> str | None:
    if value in (None, [], {}):
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


# Azure OpenAI's statuses beyond OpenAI's: `pending` is its validating_files, and a job
# pausing or resuming is still on its way (not paused yet, or running again).
AZURE_STATUSES = {
    "pending": JobStatus.VALIDATING_FILES,
    "pausing": JobStatus.RUNNING,
    "resuming": JobStatus.RUNNING,
}


# Every status text we know, looked up in one dict (calling the enum costs more, 20,000 times).
_STATUSES = {**{s.value: s for s in JobStatus}, **AZURE_STATUSES}


def job_status(raw: object) -> JobStatus:
    """Unknown statuses count as running: never terminal, so nothing acts on them as finished."""
    return _STATUSES.get(str(raw), JobStatus.RUNNING)


def suffix_of(fine_tuned_model: str | None) -> str | None:
    """`ft:{base}:{org}:{suffix}:{id}` -> suffix (the API does not return it as a field)."""
    if not fine_tuned_model or not fine_tuned_model.startswith("ft:"):
        return None
    parts = fine_tuned_model.split(":")
    return parts[3] or None if len(parts) >= 5 else None


def _hyperparameters(raw: dict[str, Any], method: dict[str, Any],
                     method_type: str) -> tuple[tuple[str, JsonScalar], ...]:
    found = _scalars(_obj(method.get(method_type)).get("hyperparameters"))
    return found or _scalars(raw.get("hyperparameters"))


def _grader_json(method: dict[str, Any]) -> str | None:
    reinforcement = method.get("reinforcement")
    return _canonical(reinforcement.get("grader")) if isinstance(reinforcement, dict) else None


def parse_job(raw: dict[str, Any]) -> RemoteJob:
    # Runs once per job of a refresh (20,000 at scale): plain lookups, no helper per field.
    get = raw.get
    method = _obj(get("method"))
    method_type = str(method.get("type") or "supervised")
    error = get("error")
    error = error if isinstance(error, dict) else {}
    fine_tuned = _opt_str(get("fine_tuned_model"))
    integrations = get("integrations")
    return RemoteJob(
        id=str(raw["id"]),
        status=job_status(get("status")),
        model=str(get("model") or ""),
        training_file=str(get("training_file") or ""),
        validation_file=_opt_str(get("validation_file")),
        method_type=method_type,
        hyperparameters=_hyperparameters(raw, method, method_type),
        suffix=_opt_str(get("suffix")) or suffix_of(fine_tuned),
        seed=_opt_int(get("seed")),
        metadata=_text_pairs(get("metadata")),
        fine_tuned_model=fine_tuned,
        created_at=_opt_int(get("created_at")) or 0,
        finished_at=_opt_int(get("finished_at")),
        estimated_finish=_opt_int(get("estimated_finish")),
        trained_tokens=_opt_int(get("trained_tokens")),
        error_code=_opt_str(error.get("code")) if error else None,
        error_message=_opt_str(error.get("message")) if error else None,
        error_param=_opt_str(error.get("param")) if error else None,
        integrations_json=None if integrations is None else _canonical(integrations),
        grader_json=_grader_json(method) if method else None,
    )


def parse_file(raw: dict[str, Any]) -> RemoteFile:
    return RemoteFile(
        id=str(raw["id"]),
        filename=str(raw.get("filename") or ""),
        bytes=_opt_int(raw.get("bytes")) or 0,
        purpose=str(raw.get("purpose") or ""),
        created_at=_opt_int(raw.get("created_at")) or 0,
        status=_opt_str(raw.get("status")),
    )


def parse_model(raw: dict[str, Any]) -> RemoteModel:
    return RemoteModel(
        id=str(raw["id"]),
        owned_by=str(raw.get("owned_by") or ""),
        created=_opt_int(raw.get("created")) or 0,
        shutdown_date=_opt_str(raw.get("shutdown_date")),
    )


def parse_event(raw: dict[str, Any]) -> JobEvent:
    return JobEvent(
        id=str(raw["id"]),
        created_at=_opt_int(raw.get("created_at")) or 0,
        level=str(raw.get("level") or "info"),
        message=str(raw.get("message") or ""),
        type=_opt_str(raw.get("type")),
        data=_scalars(raw.get("data")),
    )


def parse_checkpoint(raw: dict[str, Any]) -> Checkpoint:
    return Checkpoint(
        id=str(raw["id"]),
        fine_tuned_model_checkpoint=str(raw.get("fine_tuned_model_checkpoint") or ""),
        step_number=_opt_int(raw.get("step_number")) or 0,
        created_at=_opt_int(raw.get("created_at")) or 0,
        metrics=_scalars(raw.get("metrics")),
    )
