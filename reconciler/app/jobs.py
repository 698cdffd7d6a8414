"""`jobs list|get|events|cancel`: fine-tuning jobs by manifest name or job id.

Listing marks which jobs this workspace manages; cancelling resolves a name to its jobs in
flight and leaves confirmation to the caller. Never prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reconciler.app.operate import (
    NotFound,
    Owner,
    Pacing,
    Refused,
    Workspace,
    get_job,
    is_job_id,
    job_for,
    model_state,
    owner_of,
    workspace_snapshot,
)
from reconciler.snapshot import JobEvent, RemoteJob

EVENTS_PAGE = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class JobRow:
    job: RemoteJob
    owner: Owner

    def to_json(self) -> dict[str, object]:
        return {**job_json(self.job), "managed_by": self.owner.to_json()}


def job_json(job: RemoteJob) -> dict[str, object]:
    """A job as `--format json` shows it (the API's own field names)."""
    error = None
    if job.error_code or job.error_message:
        error = {"code": job.error_code, "message": job.error_message, "param": job.error_param}
    return {
        "id": job.id, "status": job.status.value, "model": job.model,
        "fine_tuned_model": job.fine_tuned_model, "training_file": job.training_file,
        "validation_file": job.validation_file, "method": job.method_type,
        "hyperparameters": dict(job.hyperparameters), "suffix": job.suffix, "seed": job.seed,
        "metadata": dict(job.metadata), "created_at": job.created_at,
        "finished_at": job.finished_at, "estimated_finish": job.estimated_finish,
        "trained_tokens": job.trained_tokens, "error": error,
    }


def event_json(event: JobEvent) -> dict[str, object]:
    return {"id": event.id, "created_at": event.created_at, "level": event.level,
            "message": event.message, "type": event.type, "data": dict(event.data)}


def _newest_first(jobs: list[RemoteJob]) -> list[RemoteJob]:
    return sorted(jobs, key=lambda j: (j.created_at, j.id), reverse=True)


def list_jobs(ws: Workspace, *, all_jobs: bool = False) -> tuple[JobRow, ...]:
    """This workspace's jobs (every version of every name, adopted ones too), newest first;
    with all_jobs, every job in the organization."""
    jobs = ws.api.list_jobs() if all_jobs else list(workspace_snapshot(ws, models=[]).jobs)
    return tuple(JobRow(job=j, owner=owner_of(ws, j)) for j in _newest_first(jobs))


def get(ws: Workspace, ref: str) -> JobRow:
    """A job by id, or a name's newest job in flight (else its latest job)."""
    job, _ = job_for(ws, ref)
    return JobRow(job=job, owner=owner_of(ws, job))


def events(ws: Workspace, ref: str) -> tuple[RemoteJob, tuple[JobEvent, ...]]:
    """Every event of a job so far, oldest first (paging back through the API's newest-first
    pages with `after`)."""
    job, _ = job_for(ws, ref)
    return job, tuple(reversed(_all_events(ws, job.id)))


def _all_events(ws: Workspace, job_id: str, *, stop_at: set[str] | None = None
                ) -> list[JobEvent]:
    """Events newest first, paging back to the beginning, or to the first id in stop_at."""
    out: list[JobEvent] = []
    after: str | None = None
    while True:
        page = ws.api.list_events(job_id, after=after, limit=EVENTS_PAGE)
        if stop_at:
            known = next((i for i, e in enumerate(page) if e.id in stop_at), None)
            if known is not None:
                return out + page[:known]
        out.extend(page)
        if len(page) < EVENTS_PAGE:
            return out
        after = page[-1].id


def stream_events(
    ws: Workspace, job_id: str, on_event: Callable[[JobEvent], None], pacing: Pacing | None = None
) -> RemoteJob:
    """Emit a job's events, oldest first, as they come, until the job ends. Returns the job as
    it ended. KeyboardInterrupt propagates (the job keeps running)."""
    pacing = pacing or Pacing()
    seen: set[str] = set()

    def emit(batch: list[JobEvent]) -> None:
        for event in batch:
            if event.id not in seen:
                seen.add(event.id)
                on_event(event)

    emit(list(reversed(_all_events(ws, job_id))))
    while True:
        # Status first, then events: the events of a job seen ending are all emitted.
        job = ws.api.get_job(job_id)
        emit(list(reversed(_all_events(ws, job_id, stop_at=seen))))
        if job.status.is_terminal:
            return job
        pacing.sleep(pacing.poll_interval)


# -- cancel ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelTarget:
    """The jobs a cancel would stop, and whose they are."""

    jobs: tuple[RemoteJob, ...]
    owner: Owner

    @property
    def restarts_with_manifest(self) -> bool:
        """A manifest still asks for this model: the next plan has something to say about it."""
        return self.owner.manifest


def cancel_target(ws: Workspace, ref: str) -> CancelTarget:
    """A job id (must still be running), or every job of a name that is still in flight."""
    if is_job_id(ref):
        job = get_job(ws, ref)
        if job.status.is_terminal:
            raise Refused(f"job {job.id} has already {job.status.value}; nothing to cancel")
        return CancelTarget(jobs=(job,), owner=owner_of(ws, job))
    state = model_state(ws, ref)
    if not state.in_flight:
        latest = state.latest
        last = f" (latest: {latest.job.id} {latest.status.value})" if latest else ""
        raise NotFound(f"{ref} has no job in progress{last}; nothing to cancel")
    jobs = tuple(v.job for v in state.in_flight)
    return CancelTarget(jobs=jobs, owner=owner_of(ws, jobs[0]))


def cancel(ws: Workspace, target: CancelTarget) -> tuple[RemoteJob, ...]:
    """Cancel the target's jobs; returns them as the API answered."""
    return tuple(ws.api.cancel_job(job.id) for job in target.jobs)
