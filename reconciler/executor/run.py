"""Run a Plan's steps: a ready queue over the dependency graph, a bounded worker pool for the
remote calls (actions.py), and a job watcher; all bookkeeping stays on the calling thread.

A step starts as soon as what it depends on is done (a topological walk without fixed waves, so
fast chains do not wait on slow ones). What needs a dependency's trained model (a {ref:} child,
a DeleteModel retiring an older version, a DeployModel moving a deployment to the new version:
create-before-destroy) waits until that job succeeded and its checks passed
(the gate records the verdict on the provider); a verify step runs the gate on a version trained
earlier. A failure skips only what depends on it, and deleting is skipped for a model with any
failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import FtctlError
from reconciler.events import CheckResult, Reporter, StepResult, StepStatus
from reconciler.executor.actions import Actions, Outputs, Remote, StepFailed
from reconciler.plan import (
    Action,
    CreateJob,
    DeleteModel,
    DeployModel,
    FromStep,
    Plan,
    Step,
    VerifyModel,
)
from reconciler.snapshot import JobStatus, RemoteJob
from reconciler.spec import Check
from reconciler.waiting import DEFAULT_POLL_INTERVAL, JobWatcher, poll_delays

_ID_FIELDS = ("id", "job_id", "file_id")


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecOptions:
    """root: project directory (dataset repo paths are relative to it). wait: follow jobs to
    the end, run checks, then retire; without it apply returns once jobs are created."""

    root: str
    concurrency: int = 4
    wait: bool = True
    poll_interval: float = DEFAULT_POLL_INTERVAL


@dataclass(frozen=True, slots=True, kw_only=True)
class Execution:
    results: tuple[StepResult, ...]
    checks: tuple[CheckResult, ...] = ()
    jobs: tuple[RemoteJob, ...] = ()  # last state seen of every job this apply created or found
    interrupted: bool = False


@dataclass(slots=True)
class _State:
    results: dict[str, StepResult] = field(default_factory=dict)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    verified: set[str] = field(default_factory=set)  # create keys: trained and checks passed
    jobs: dict[str, RemoteJob] = field(default_factory=dict)  # create key -> job
    checks: list[CheckResult] = field(default_factory=list)


Verify = Callable[[VerifyModel], tuple[CheckResult, ...]]
"""The gate: run a trained version's checks, then its evaluation, and record the verdict on the
provider; one result per check, plus the evaluation's. Called for every trained version, gated
or not (the callback knows): the app passes checks.gate bound to the remote and to the model
state the plan rests on (executor and checks are sibling layers)."""


def execute(
    plan: Plan,
    api: Remote,
    reporter: Reporter,
    options: ExecOptions,
    *,
    verify: Verify | None = None,
    follow: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> Execution:
    """Run the plan. Never raises for remote errors: they become failed StepResults.
    KeyboardInterrupt stops the run (training continues remotely) and returns interrupted.
    Without `verify`, a trained version counts as checked (library use with no checks).
    follow: jobs an earlier apply left training ({job id: name}), followed alongside the plan's
    own work; their final states are in `jobs` (the next plan verifies what they trained)."""
    run = _Run(plan, api, reporter, options, verify=verify, clock=clock, sleep=sleep)
    for job_id, name in (follow or {}).items():
        run.follow(job_id, name)
    interrupted = run.loop()
    state = run.state
    results = tuple(
        state.results.get(s.key)
        or StepResult(key=s.key, status=StepStatus.SKIPPED, message=_why_not_run(interrupted))
        for s in plan.changes
    )
    return Execution(
        results=results,
        checks=tuple(state.checks),
        jobs=tuple(state.jobs.values()),
        interrupted=interrupted,
    )


def _why_not_run(interrupted: bool) -> str:
    if interrupted:
        return "not run: apply was interrupted"
    return "not run: what it waits for has not finished; run `ftctl apply` again later"


class _Run:
    """One execution: a ready queue over the steps, a worker pool, and a job watcher."""

    def __init__(
        self,
        plan: Plan,
        api: Remote,
        reporter: Reporter,
        options: ExecOptions,
        *,
        verify: Verify | None,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self.plan, self.api, self.reporter, self.options = plan, api, reporter, options
        self.verify, self.clock, self.sleep = verify, clock, sleep
        self.steps = {s.key: s for s in plan.steps if s.action is not Action.NOOP}
        self.pending = [s.key for s in plan.steps if s.key in self.steps]
        self.state = _State()
        self.watcher = JobWatcher(api, reporter, clock=clock)
        self.watched: dict[str, str] = {}  # job id -> create step key
        self.running: dict[Future[Any], tuple[str, str]] = {}  # future -> (kind, step key)
        self.checking: set[str] = set()  # create keys whose checks are running
        self.followed: dict[str, str] = {}  # job id -> name: what an earlier apply left running
        self.actions = Actions(api, reporter, workspace=plan.workspace, root=options.root,
                               outputs=self.state.outputs)

    # -- the loop ---------------------------------------------------------------------------

    def loop(self) -> bool:
        pool = ThreadPoolExecutor(max_workers=max(1, self.options.concurrency))
        try:
            self._drive(pool)
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            return True
        pool.shutdown(wait=True)
        return False

    def _drive(self, pool: ThreadPoolExecutor) -> None:
        last_poll = self.clock()
        delays = poll_delays(self.options.poll_interval)
        delay = next(delays)
        while True:
            self._schedule(pool)
            if not self.running and not self.watcher.pending:
                return
            if self.running:
                timeout = delay if self.watcher.pending else None
                finished, _ = wait_futures(self.running, timeout=timeout,
                                           return_when=FIRST_COMPLETED)
                for future in finished:
                    self._finish(future)
            elif self.watcher.pending:
                self.sleep(delay)
            if self.watcher.pending and (not self.running or self.clock() - last_poll >= delay):
                last_poll = self.clock()
                for job in self.watcher.poll():
                    self._job_ended(pool, job)
                delay = next(delays)

    def _schedule(self, pool: ThreadPoolExecutor) -> None:
        for key in list(self.pending):
            if len(self.running) >= max(1, self.options.concurrency):
                return
            verdict = self._readiness(self.steps[key])
            if verdict is None:
                continue
            self.pending.remove(key)
            step = self.steps[key]
            if verdict:
                self._record(step, StepResult(key=key, status=StepStatus.SKIPPED, message=verdict))
                continue
            self.reporter.step_started(step)
            if isinstance(step.payload, VerifyModel):
                self.running[pool.submit(self._gate, step.payload)] = ("verify", key)
            else:
                self.running[pool.submit(self.actions.perform, step)] = ("step", key)

    def _readiness(self, step: Step) -> str | None:
        """None: not yet. "": ready. Otherwise: why the step will not run (skip)."""
        for dep in step.depends_on:
            if dep not in self.steps:
                continue  # done by an earlier apply
            result = self.state.results.get(dep)
            if result is None:
                return None
            if result.status is not StepStatus.DONE:
                return _not_run(step, dep, result)
            if self._needs_trained(step, dep) and dep not in self.state.verified:
                return self._trained_wait(dep)
        if isinstance(step.payload, DeleteModel) and self._name_failed(step.name):
            return "not run: another step for this model failed, so deleting is not safe"
        return ""

    def _trained_wait(self, dep: str) -> str | None:
        """For a dependency whose trained model is needed: None (wait) or why not to run."""
        job = self.state.jobs.get(dep)
        if dep in self.checking or (job is not None and job.id in self.watched):
            return None
        if job is not None and not job.status.is_terminal:
            return f"waits for {dep} to finish training; run `ftctl apply` again once it has"
        return f"not run: {dep} has no trained and checked model"

    def _needs_trained(self, step: Step, dep: str) -> bool:
        if not isinstance(self.steps[dep].payload, CreateJob):
            return False
        if isinstance(step.payload, DeleteModel):
            return True
        refs = _refs(step.payload)
        return any(r.key == dep and r.field not in _ID_FIELDS for r in refs)

    def _name_failed(self, name: str) -> bool:
        return any(
            r.status is StepStatus.FAILED and self.steps[k].name == name
            for k, r in self.state.results.items()
        )

    # -- results ----------------------------------------------------------------------------

    def _finish(self, future: Future[Any]) -> None:
        kind, key = self.running.pop(future)
        self.checking.discard(key)
        step = self.steps[key]
        try:
            value = future.result()
        except (StepFailed, FtctlError, OSError) as exc:
            self._record(step, _failed(key, str(exc)))
            return
        if kind == "checks":
            self._checks_done(step, value)
        elif kind == "verify":
            self._verified(step, value)
        else:
            self._step_done(step, value)

    def _step_done(self, step: Step, value: Outputs) -> None:
        outputs, note, job = value
        self.state.outputs[step.key] = outputs
        self._record(step, StepResult(key=step.key, status=StepStatus.DONE,
                                      remote_id=outputs.get("id"), message=note))
        if job is None:
            return
        self.state.jobs[step.key] = job
        if job.status is JobStatus.SUCCEEDED and job.fine_tuned_model:
            # Found already trained (an earlier run created it): verify it here and now.
            self.state.outputs[step.key]["fine_tuned_model"] = job.fine_tuned_model
            self._checks_done(step, self._run_checks(step, job))
        elif job.status.is_terminal:
            self._training_failed(step, job)
        elif self.options.wait:
            self.watched[job.id] = step.key
            self.watcher.watch(job.id, step.name)

    def follow(self, job_id: str, name: str) -> None:
        self.followed[job_id] = name
        self.watcher.watch(job_id, name)

    def _followed_ended(self, job: RemoteJob) -> None:
        name = self.followed.pop(job.id)
        self.state.jobs[f"{name}/followed/{job.id}"] = job

    def _job_ended(self, pool: ThreadPoolExecutor, job: RemoteJob) -> None:
        if job.id in self.followed:
            self._followed_ended(job)
            return
        key = self.watched.pop(job.id)
        self.state.jobs[key] = job
        step = self.steps[key]
        if job.status is JobStatus.SUCCEEDED and job.fine_tuned_model:
            self.state.outputs[key]["fine_tuned_model"] = job.fine_tuned_model
            self.checking.add(key)
            self.running[pool.submit(self._run_checks, step, job)] = ("checks", key)
        else:
            self._training_failed(step, job)

    def _training_failed(self, step: Step, job: RemoteJob) -> None:
        why = job.error_message or job.error_code or "no reason given"
        message = f"job {job.id} {job.status.value}: {why}"
        self._record(step, _failed(step.key, message, remote_id=job.id))

    def _checks_done(self, step: Step, results: tuple[CheckResult, ...]) -> None:
        self.state.checks.extend(results)
        failed = [r for r in results if not r.passed]
        job = self.state.jobs.get(step.key)
        if not failed:
            self.state.verified.add(step.key)
            return
        self._record(step, _failed(step.key, _check_failure(results),
                                   remote_id=job.id if job else None))

    def _verified(self, step: Step, results: tuple[CheckResult, ...]) -> None:
        """A verify step's gate ran: its model is what {ref:} children and retiring wait for."""
        payload = step.payload
        assert isinstance(payload, VerifyModel)
        self.state.checks.extend(results)
        failed = [r for r in results if not r.passed]
        if failed:
            self._record(step, _failed(step.key, _check_failure(results),
                                       remote_id=payload.job_id))
            return
        self.state.outputs[step.key] = {"fine_tuned_model": payload.model_id,
                                        "job_id": payload.job_id}
        self._record(step, StepResult(key=step.key, status=StepStatus.DONE,
                                      remote_id=payload.model_id))

    def _record(self, step: Step, result: StepResult) -> None:
        self.state.results[step.key] = result
        self.reporter.step_finished(step, result)

    # -- work done in the pool ----------------------------------------------------------------

    def _run_checks(self, step: Step, job: RemoteJob) -> tuple[CheckResult, ...]:
        """The gate on the version a create step just trained."""
        payload = step.payload
        assert isinstance(payload, CreateJob) and job.fine_tuned_model
        checks = tuple(c for c in payload.checks if isinstance(c, Check))
        # checks_id empty: the gate's identity (checks and evaluation) is the model-state
        # layer's to say; the verify callback binds it, and whether there is a gate at all.
        return self._gate(VerifyModel(
            name=step.name, job_id=job.id, model_id=job.fine_tuned_model, base_model=job.model,
            version=payload.version, checks=checks, checks_id="",
        ))

    def _gate(self, request: VerifyModel) -> tuple[CheckResult, ...]:
        if self.verify is None:
            return ()
        return self.verify(request)



def _refs(payload: object) -> list[FromStep]:
    values: tuple[object, ...] = ()
    if isinstance(payload, CreateJob):
        values = (payload.model, payload.training_file, payload.validation_file)
    elif isinstance(payload, DeployModel):
        values = (payload.model_id, payload.job_id)
    return [v for v in values if isinstance(v, FromStep)]


def _not_run(step: Step, dep: str, result: StepResult) -> str:
    """Why `step` is skipped when `dep` did not complete; a deployment says what it keeps."""
    why = f"not run: {dep} did not complete ({result.message})"
    p = step.payload
    if not isinstance(p, DeployModel):
        return why
    kept = (f"deployment {p.deployment} stays on {p.current_model}" if p.current_model
            else f"deployment {p.deployment} is not created")
    return f"{why}; {kept}"



def _check_failure(results: tuple[CheckResult, ...]) -> str:
    """Why a gate failed, in one line. Each failed check's reason is listed once, under Checks
    in the summary; the evaluation runs only after every check passed."""
    failed = [r for r in results if not r.passed]
    first = failed[0]
    if not first.index:  # the evaluation's result
        return f"evaluation refused {first.model}: {first.reason}"
    checks = [r for r in results if r.index]
    return f"{len(failed)} of {len(checks)} check(s) failed on {first.model}"


def _failed(key: str, message: str, *, remote_id: str | None = None) -> StepResult:
    return StepResult(key=key, status=StepStatus.FAILED, remote_id=remote_id, message=message)

