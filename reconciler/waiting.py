"""Follow fine-tuning jobs to a terminal state, reporting progress and events as they come.

The clock and sleep are injected, so tests (and the emulator's fake clock) run instantly. This
module only reads the remote (job status and events); it never cancels or changes a job:
stopping to follow (Ctrl-C) leaves training running on the provider.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from reconciler.errors import RetryableApiError
from reconciler.events import JobProgress, Reporter
from reconciler.snapshot import JobEvent, JobStatus, RemoteJob

DEFAULT_POLL_INTERVAL = 2.0
FIRST_POLL_INTERVAL = 0.25


def poll_delays(limit: float) -> Iterator[float]:
    """Waits between polls: quick at first (a short job, or one nearly done, is seen at once),
    doubling up to `limit` so a long job costs one request per `limit` seconds."""
    delay = min(FIRST_POLL_INTERVAL, limit)
    while True:
        yield delay
        delay = min(delay * 2, limit)


class JobReader(Protocol):
    """The part of RemoteApi the waiter needs."""

    def get_job(self, job_id: str) -> RemoteJob: ...

    def list_events(
        self, job_id: str, *, after: str | None = None, limit: int = 100
    ) -> list[JobEvent]: ...


@dataclass(slots=True)
class _Watched:
    name: str
    job: RemoteJob | None = None
    seen_events: set[str] = field(default_factory=set)
    step: int | None = None
    total_steps: int | None = None
    train_loss: float | None = None
    first_step_at: tuple[float, int] | None = None  # (clock, step) when steps were first seen


def _as_int(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _as_float(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


class JobWatcher:
    """Polls a set of jobs; each poll reports progress and returns the jobs that just ended."""

    def __init__(
        self,
        api: JobReader,
        reporter: Reporter,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._api = api
        self._reporter = reporter
        self._clock = clock
        self._watched: dict[str, _Watched] = {}

    def watch(self, job_id: str, name: str) -> None:
        self._watched.setdefault(job_id, _Watched(name=name))

    @property
    def pending(self) -> tuple[str, ...]:
        """Ids of the jobs still being followed (not yet seen in a terminal state)."""
        return tuple(self._watched)

    def poll(self) -> list[RemoteJob]:
        """One round: refresh every watched job. Returns those now terminal (and stops them)."""
        ended: list[RemoteJob] = []
        for job_id in list(self._watched):
            job = self._poll_one(job_id, self._watched[job_id])
            if job is not None and job.status.is_terminal:
                del self._watched[job_id]
                ended.append(job)
        return ended

    def _poll_one(self, job_id: str, w: _Watched) -> RemoteJob | None:
        try:
            job = self._api.get_job(job_id)
            events = self._new_events(job_id, w)
        except RetryableApiError:
            return None  # the client already retried; try again on the next round
        w.job = job
        for event in events:
            self._absorb(w, event)
        self._reporter.job_progress(self._progress(w, job, tuple(events)))
        return job

    def _new_events(self, job_id: str, w: _Watched) -> list[JobEvent]:
        """Events not seen before, oldest first (the API lists newest first)."""
        fresh = [e for e in self._api.list_events(job_id, limit=100) if e.id not in w.seen_events]
        w.seen_events.update(e.id for e in fresh)
        # Reverse the API's order rather than sort: events of one second keep their sequence.
        return fresh[::-1]

    def _absorb(self, w: _Watched, event: JobEvent) -> None:
        data = dict(event.data)
        step = _as_int(data.get("step"))
        if step is not None:
            w.step = step
            if w.first_step_at is None:
                w.first_step_at = (self._clock(), step)
        total = _as_int(data.get("total_steps"))
        if total is not None:
            w.total_steps = total
        loss = _as_float(data.get("train_loss"))
        if loss is not None:
            w.train_loss = loss

    def _progress(self, w: _Watched, job: RemoteJob, events: tuple[JobEvent, ...]) -> JobProgress:
        if job.status is JobStatus.SUCCEEDED and w.total_steps:
            w.step = w.total_steps  # the last metrics event may trail the final status
        return JobProgress(
            name=w.name,
            job=job,
            step=w.step,
            total_steps=w.total_steps,
            train_loss=w.train_loss,
            eta_seconds=self._eta(w, job),
            event=events[-1] if events else None,
            new_events=events,
        )

    def _eta(self, w: _Watched, job: RemoteJob) -> float | None:
        """The provider's estimate when given, else extrapolated from the step rate."""
        now = self._clock()
        if job.status.is_terminal:
            return None
        if job.estimated_finish:
            return max(0.0, job.estimated_finish - now)
        if w.first_step_at and w.step is not None and w.total_steps:
            t0, s0 = w.first_step_at
            done = w.step - s0
            if done > 0 and now > t0:
                return (w.total_steps - w.step) * (now - t0) / done
        return None


def follow_jobs(
    api: JobReader,
    jobs: Mapping[str, str],
    reporter: Reporter,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    timeout: float | None = None,
) -> dict[str, RemoteJob]:
    """Follow jobs ({job id: model name}) until all are terminal (or `timeout` seconds pass).

    Returns the last state seen of each job that ended. KeyboardInterrupt propagates to the
    caller, which says how to resume; the jobs keep training.
    """
    watcher = JobWatcher(api, reporter, clock=clock)
    for job_id, name in jobs.items():
        watcher.watch(job_id, name)
    deadline = None if timeout is None else clock() + timeout
    ended: dict[str, RemoteJob] = {}
    delays = poll_delays(poll_interval)
    while True:
        for job in watcher.poll():
            ended[job.id] = job
        if not watcher.pending or (deadline is not None and clock() >= deadline):
            return ended
        sleep(next(delays))
