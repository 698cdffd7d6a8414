"""Following jobs with an injected clock: progress from events, ETA, terminal states."""

from __future__ import annotations

from reconciler.client.api import RemoteApi
from reconciler.events import JobProgress
from reconciler.executor import ExecOptions, execute
from reconciler.plan import Plan
from reconciler.snapshot import JobEvent, JobStatus, RemoteJob
from reconciler.waiting import JobWatcher, follow_jobs

from .conftest import WORKSPACE, FakeClock, Recorder, Steps


def created_job(api: RemoteApi, steps: Steps, clock: FakeClock, name: str = "alpha") -> str:
    plan = Plan(workspace=WORKSPACE, snapshot_fingerprint="x",
                steps=tuple(steps.model_chain(name)))
    done = execute(plan, api, Recorder(), ExecOptions(root=str(steps.root), wait=False),
                   clock=clock, sleep=clock.advance)
    return done.jobs[0].id


def test_follow_reports_rising_steps_loss_eta_and_every_event_once(
    api: RemoteApi, steps: Steps, clock: FakeClock, recorder: Recorder
) -> None:
    job_id = created_job(api, steps, clock)
    ended = follow_jobs(api, {job_id: "alpha"}, recorder, clock=clock, sleep=clock.advance,
                        poll_interval=0.2)
    assert ended[job_id].status is JobStatus.SUCCEEDED
    progress = recorder.progress
    assert progress[-1].job.status is JobStatus.SUCCEEDED
    steps_seen = [p.step for p in progress if p.step is not None]
    assert len(set(steps_seen)) > 2 and steps_seen == sorted(steps_seen)
    assert progress[-1].step == progress[-1].total_steps
    assert any(p.eta_seconds for p in progress if p.job.status is JobStatus.RUNNING)
    assert progress[-1].eta_seconds is None
    events = [e.id for p in progress for e in p.new_events]
    assert len(events) == len(set(events)) == len(api.list_events(job_id))
    assert [e.message for p in progress for e in p.new_events][0].startswith("Created")


def test_follow_stops_at_the_timeout_with_jobs_still_running(
    api: RemoteApi, steps: Steps, clock: FakeClock, recorder: Recorder
) -> None:
    job_id = created_job(api, steps, clock)
    ended = follow_jobs(api, {job_id: "alpha"}, recorder, clock=clock, sleep=clock.advance,
                        poll_interval=0.01, timeout=0.02)
    assert ended == {}
    assert not recorder.progress[-1].job.status.is_terminal


def test_a_cancelled_job_ends_the_follow(api: RemoteApi, steps: Steps, clock: FakeClock,
                                         recorder: Recorder) -> None:
    job_id = created_job(api, steps, clock)
    api.cancel_job(job_id)
    ended = follow_jobs(api, {job_id: "alpha"}, recorder, clock=clock, sleep=clock.advance)
    assert ended[job_id].status is JobStatus.CANCELLED


class _Scripted:
    """A job source replaying given states (only for the ETA arithmetic, which needs exact
    step timing the emulator does not promise)."""

    def __init__(self, states: list[tuple[RemoteJob, list[JobEvent]]]) -> None:
        self.states = states

    def get_job(self, job_id: str) -> RemoteJob:
        return self.states[0][0]

    def list_events(self, job_id: str, *, after: str | None = None,
                    limit: int = 100) -> list[JobEvent]:
        events = self.states[0][1]
        self.states.pop(0)
        return list(reversed(events))


def _metrics(i: int, step: int) -> JobEvent:
    return JobEvent(id=f"ev{i}", created_at=i, level="info", message="", type="metrics",
                    data=(("step", step), ("total_steps", 100), ("train_loss", 1.0 / step)))


def test_eta_is_extrapolated_from_the_step_rate_without_a_provider_estimate() -> None:
    running = RemoteJob(id="j", status=JobStatus.RUNNING, model="m", training_file="f")
    clock = FakeClock(0.0)
    source = _Scripted([(running, [_metrics(1, 10)]), (running, [_metrics(1, 10),
                                                                  _metrics(2, 30)])])
    seen: list[JobProgress] = []

    class Keep(Recorder):
        def job_progress(self, progress: JobProgress) -> None:
            seen.append(progress)

    watcher = JobWatcher(source, Keep(), clock=clock)
    watcher.watch("j", "alpha")
    watcher.poll()
    clock.advance(10.0)
    watcher.poll()
    # 20 steps in 10 s; 70 to go -> 35 s.
    assert seen[-1].eta_seconds == 35.0
    assert seen[-1].train_loss == 1.0 / 30
    assert [e.id for e in seen[-1].new_events] == ["ev2"]


def test_provider_estimate_wins() -> None:
    job = RemoteJob(id="j", status=JobStatus.RUNNING, model="m", training_file="f",
                    estimated_finish=500)
    clock = FakeClock(380.0)
    seen: list[JobProgress] = []

    class Keep(Recorder):
        def job_progress(self, progress: JobProgress) -> None:
            seen.append(progress)

    watcher = JobWatcher(_Scripted([(job, [])]), Keep(), clock=clock)
    watcher.watch("j", "alpha")
    watcher.poll()
    assert seen[-1].eta_seconds == 120.0
