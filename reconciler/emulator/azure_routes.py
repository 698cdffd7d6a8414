"""The Azure dialect's data-plane routes: the v1 API under `/openai/v1/` and the dated API
under `/openai/` (`?api-version=...`), each path bound to the Azure handler, or to the shared
OpenAI handler where Azure answers the same way.

The dated API alone deletes jobs, takes large uploads in parts and addresses inference as
`/openai/deployments/{name}/...`; neither has model delete.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing import Rule

from reconciler.emulator import azure_files, azure_jobs, azure_models, files_api

_JOB = "/fine_tuning/jobs/<job_id>"
_COMMON: list[tuple[str, str, Callable[..., Any]]] = [
    ("/files", "POST", azure_files.create_file),
    ("/files", "GET", azure_files.list_files),
    ("/files/<file_id>", "GET", azure_files.get_file),
    ("/files/<file_id>", "DELETE", files_api.delete_file),
    ("/files/<file_id>/content", "GET", files_api.file_content),
    ("/fine_tuning/jobs", "POST", azure_jobs.create_job),
    ("/fine_tuning/jobs", "GET", azure_jobs.list_jobs),
    (_JOB, "GET", azure_jobs.get_job),
    (f"{_JOB}/cancel", "POST", azure_jobs.cancel_job),
    (f"{_JOB}/pause", "POST", azure_jobs.pause_job),
    (f"{_JOB}/resume", "POST", azure_jobs.resume_job),
    (f"{_JOB}/events", "GET", azure_jobs.list_events),
    (f"{_JOB}/checkpoints", "GET", azure_jobs.list_checkpoints),
    ("/models", "GET", azure_models.list_models),
    ("/models/<model>", "GET", azure_models.get_model),
]
_V1_ONLY: list[tuple[str, str, Callable[..., Any]]] = [
    ("/chat/completions", "POST", azure_models.chat_v1),
    ("/completions", "POST", azure_models.completions_v1),
]
_DATED_ONLY: list[tuple[str, str, Callable[..., Any]]] = [
    (_JOB, "DELETE", azure_jobs.delete_job),
    ("/uploads", "POST", files_api.create_upload),
    ("/uploads/<upload_id>/parts", "POST", files_api.add_part),
    ("/uploads/<upload_id>/complete", "POST", azure_files.complete_upload),
    ("/uploads/<upload_id>/cancel", "POST", files_api.cancel_upload),
    ("/deployments/<deployment>/chat/completions", "POST", azure_models.chat_dated),
    ("/deployments/<deployment>/completions", "POST", azure_models.completions_dated),
]


def _rules(prefix: str, table: list[tuple[str, str, Callable[..., Any]]]) -> list[Rule]:
    return [Rule(prefix + path, methods=[method], endpoint=endpoint)
            for path, method, endpoint in table]


RULES = _rules("/openai/v1", _COMMON + _V1_ONLY) + _rules("/openai", _COMMON + _DATED_ONLY)
