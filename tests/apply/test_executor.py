"""The executor against the in-process emulator: order, FromStep values, idempotent creates,
failures that stop one chain only, checks gating deletes, --no-wait, and interruption."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from reconciler.checks import gate
from reconciler.client.api import RemoteApi
from reconciler.events import StepStatus
from reconciler.executor import ExecOptions, Execution, execute
from reconciler.plan import FromStep, Plan, Step, VerifyModel
from reconciler.planner.identity import META_OP, META_WORKSPACE
from reconciler.snapshot import JobStatus
from reconciler.spec import Check

from .conftest import WORKSPACE, FakeClock, Recorder, Steps, api_for


def run(plan_steps: list[Step], api: RemoteApi, steps: Steps, clock: FakeClock,
        reporter: Recorder | None = None, **options: Any) -> Execution:
    plan = Plan(workspace=WORKSPACE, snapshot_fingerprint="x", steps=tuple(plan_steps))

    def verify(request: VerifyModel) -> Any:
        return gate(api, request)

    return execute(plan, api, reporter or Recorder(),
                   ExecOptions(root=str(steps.root), **options),
                   verify=verify, clock=clock, sleep=clock.advance)


def by_key(execution: Execution) -> dict[str, Any]:
    return {r.key: r for r in execution.results}


def live_jobs(api: RemoteApi) -> list[Any]:
    return [j for j in api.list_jobs(metadata={META_WORKSPACE: WORKSPACE})
            if j.status not in (JobStatus.CANCELLED, JobStatus.FAILED)]


def test_upload_then_create_then_wait_to_success(api: RemoteApi, steps: Steps,
                                                  clock: FakeClock, recorder: Recorder) -> None:
    up, create = steps.model_chain("alpha")
    done = run([create, up], api, steps, clock, recorder)  # listed out of order on purpose
    results = by_key(done)
    assert results[up.key].status is StepStatus.DONE
    assert results[create.key].status is StepStatus.DONE
    assert recorder.started == [up.key, create.key]
    job = api.get_job(results[create.key].remote_id)
    assert job.status is JobStatus.SUCCEEDED
    assert job.training_file == results[up.key].remote_id
    assert [j.status for j in done.jobs] == [JobStatus.SUCCEEDED]
    # Progress came from the job's events: steps rise to the total, loss is reported.
    steps_seen = [p.step for p in recorder.progress if p.step is not None]
    assert steps_seen == sorted(steps_seen) and steps_seen[-1] == recorder.progress[-1].total_steps
    assert any(p.train_loss is not None for p in recorder.progress)


def test_running_the_same_plan_twice_creates_nothing_new(api: RemoteApi, steps: Steps,
                                                         clock: FakeClock) -> None:
    chain = list(steps.model_chain("alpha"))
    first = run(chain, api, steps, clock, wait=False)
    second = run(chain, api, steps, clock, wait=False)
    assert by_key(second)[chain[0].key].message == "already present"
    assert "operation id" in by_key(second)[chain[1].key].message
    assert by_key(first)[chain[1].key].remote_id == by_key(second)[chain[1].key].remote_id
    assert len(api.list_files()) == 1
    assert len(api.list_jobs(metadata={META_WORKSPACE: WORKSPACE})) == 1


def test_parent_model_id_flows_into_the_child(api: RemoteApi, steps: Steps,
                                              clock: FakeClock) -> None:
    up, parent = steps.model_chain("parent")
    child = steps.create("child", training=FromStep(key=up.key, field="id"),
                         model=FromStep(key=parent.key, field="fine_tuned_model"),
                         depends_on=(up.key, parent.key))
    done = run([up, parent, child], api, steps, clock)
    results = by_key(done)
    assert results[child.key].status is StepStatus.DONE
    parent_job = api.get_job(results[parent.key].remote_id)
    child_job = api.get_job(results[child.key].remote_id)
    assert child_job.model == parent_job.fine_tuned_model
    assert child_job.status is JobStatus.SUCCEEDED


def test_no_wait_returns_after_create_and_skips_what_needs_the_trained_model(
    api: RemoteApi, steps: Steps, clock: FakeClock
) -> None:
    up, parent = steps.model_chain("parent")
    child = steps.create("child", training=FromStep(key=up.key, field="id"),
                         model=FromStep(key=parent.key, field="fine_tuned_model"),
                         depends_on=(up.key, parent.key))
    done = run([up, parent, child], api, steps, clock, wait=False)
    results = by_key(done)
    assert results[parent.key].status is StepStatus.DONE
    assert results[child.key].status is StepStatus.SKIPPED
    assert "run `ftctl apply` again" in results[child.key].message
    assert api.get_job(results[parent.key].remote_id).status is not JobStatus.SUCCEEDED
    assert done.jobs and not done.jobs[0].status.is_terminal


def test_permanent_error_stops_that_chain_only(api: RemoteApi, steps: Steps,
                                               clock: FakeClock) -> None:
    good_up, good = steps.model_chain("good")
    bad_up, bad = steps.model_chain("bad", model="no-such-base-model")
    # An older version of "bad" exists elsewhere; its retirement must not run.
    retire = steps.delete("bad", "ft:gpt-4o-mini-2024-07-18:org:bad:old", depends_on=(bad.key,))
    done = run([good_up, good, bad_up, bad, retire], api, steps, clock)
    results = by_key(done)
    assert results[good.key].status is StepStatus.DONE
    assert results[bad.key].status is StepStatus.FAILED
    assert "not available" in results[bad.key].message
    assert results[retire.key].status is StepStatus.SKIPPED
    assert [j.meta("ftctl-name") for j in live_jobs(api)] == ["good"]


def test_checks_gate_retiring_the_old_version(api: RemoteApi, steps: Steps,
                                             clock: FakeClock) -> None:
    old_chain = list(steps.model_chain("bot"))
    old = run(old_chain, api, steps, clock)
    old_model = old.jobs[0].fine_tuned_model
    assert old_model
    passing = (Check(prompt="bot question 3", expect_contains="bot answer 3"),)
    up = old_chain[0]
    new = steps.create("bot", training=FromStep(key=up.key, field="id"), version=2,
                       spec="spec2", depends_on=(up.key,), checks=passing)
    retire = steps.delete("bot", old_model, depends_on=(new.key,))
    done = run([up, new, retire], api, steps, clock)
    results = by_key(done)
    assert results[retire.key].status is StepStatus.DONE
    assert [c.passed for c in done.checks] == [True]
    assert old_model not in {m.id for m in api.list_models()}


def test_failing_check_keeps_the_old_version(api: RemoteApi, steps: Steps,
                                             clock: FakeClock) -> None:
    old_chain = list(steps.model_chain("bot"))
    old_model = run(old_chain, api, steps, clock).jobs[0].fine_tuned_model
    failing = (Check(prompt="bot question 3", expect_contains="tracking number"),)
    up = old_chain[0]
    new = steps.create("bot", training=FromStep(key=up.key, field="id"), version=2,
                       spec="spec2", depends_on=(up.key,), checks=failing)
    retire = steps.delete("bot", str(old_model), depends_on=(new.key,))
    done = run([up, new, retire], api, steps, clock)
    results = by_key(done)
    assert results[new.key].status is StepStatus.FAILED
    assert "1 of 1 check(s) failed" in results[new.key].message
    [check] = done.checks  # the reason is carried by the check result, listed once
    assert not check.passed and "tracking number" in check.reason
    assert results[retire.key].status is StepStatus.SKIPPED
    assert old_model in {m.id for m in api.list_models()}


def test_lost_create_responses_never_duplicate_a_job(make_emulator: Any, steps: Steps,
                                                     clock: FakeClock) -> None:
    app = make_emulator(faults="lost:0.25,500:0.05", seed=3)
    api = api_for(app, max_retries=8)
    chains = [s for n in ("a", "b", "c", "d") for s in steps.model_chain(n)]
    done = run(chains, api, steps, clock, wait=False)
    assert all(r.status is StepStatus.DONE for r in done.results), done.results
    clean = api_for(make_emulator())
    jobs = clean.list_jobs(metadata={META_WORKSPACE: WORKSPACE})
    ops = [j.meta(META_OP) for j in jobs]
    assert len(ops) == len(set(ops)) == 4
    names = [f.filename for f in clean.list_files()]
    assert len(names) == len(set(names)) == 4


def test_racing_applies_leave_one_live_job_per_operation(api: RemoteApi, steps: Steps,
                                                        clock: FakeClock) -> None:
    chains = [s for n in ("a", "b", "c") for s in steps.model_chain(n)]
    outcomes: list[Execution] = []
    barrier = threading.Barrier(2)

    def racer() -> None:
        barrier.wait()
        outcomes.append(run(chains, api, steps, clock, wait=False))

    threads = [threading.Thread(target=racer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    live = live_jobs(api)
    assert sorted(j.meta("ftctl-name") for j in live) == ["a", "b", "c"]
    # Both applies report the same surviving job for each model.
    first, second = (by_key(o) for o in outcomes)
    for step in chains[1::2]:
        assert first[step.key].remote_id == second[step.key].remote_id


def test_ctrl_c_while_waiting_stops_following_without_cancelling(
    api: RemoteApi, steps: Steps, clock: FakeClock
) -> None:
    chain = list(steps.model_chain("alpha"))

    def interrupting_sleep(seconds: float) -> None:
        raise KeyboardInterrupt

    plan = Plan(workspace=WORKSPACE, snapshot_fingerprint="x", steps=tuple(chain))
    done = execute(plan, api, Recorder(), ExecOptions(root=str(steps.root)),
                   clock=clock, sleep=interrupting_sleep)
    assert done.interrupted
    job = live_jobs(api)[0]
    assert job.status is not JobStatus.CANCELLED
    assert by_key(done)[chain[1].key].status is StepStatus.DONE


def test_a_dataset_changed_since_the_plan_is_not_uploaded(api: RemoteApi, steps: Steps,
                                                          clock: FakeClock) -> None:
    up, create = steps.model_chain("alpha")
    (steps.root / "data" / "alpha.jsonl").write_text("changed\n")
    done = run([up, create], api, steps, clock)
    results = by_key(done)
    assert results[up.key].status is StepStatus.FAILED
    assert "changed since the plan" in results[up.key].message
    assert results[create.key].status is StepStatus.SKIPPED
    assert api.list_files() == []


def test_cancel_of_a_finished_job_counts_as_done(api: RemoteApi, steps: Steps,
                                                 clock: FakeClock) -> None:
    from reconciler.plan import Action, CancelJob, Reason

    done = run(list(steps.model_chain("alpha")), api, steps, clock)
    job_id = done.jobs[0].id
    cancel = Step(key="alpha/cancel", action=Action.CANCEL, name="alpha",
                  reason=Reason.SUPERSEDED, payload=CancelJob(job_id=job_id))
    result = by_key(run([cancel], api, steps, clock))["alpha/cancel"]
    assert result.status is StepStatus.DONE, result
    assert dataclasses.asdict(result)["remote_id"] == job_id


def test_noop_steps_are_reports_not_results(api: RemoteApi, steps: Steps,
                                            clock: FakeClock) -> None:
    from reconciler.plan import Action, NoChange, Reason

    noop = Step(key="beta", action=Action.NOOP, name="beta", reason=Reason.UNCHANGED,
                payload=NoChange(job_id="ftjob-x"))
    chain = list(steps.model_chain("alpha"))
    done = run([noop, *chain], api, steps, clock, wait=False)
    assert [r.key for r in done.results] == [s.key for s in chain]
