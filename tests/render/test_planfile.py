"""Saved plans: lossless round trip, the API key never written, and the staleness check."""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler import __version__, planfile, planfile_schema
from reconciler.diagnostics import Diagnostic, Severity, SourceRange
from reconciler.errors import StalePlanError
from reconciler.plan import (
    UNKNOWN,
    Action,
    CancelJob,
    DeleteModel,
    FieldChange,
    NoChange,
    Payload,
    Plan,
    Reason,
    Step,
    VerifyModel,
)
from reconciler.planner.identity import state_fingerprint
from reconciler.snapshot import JobStatus, RemoteFile, RemoteJob, RemoteModel, Snapshot
from reconciler.spec import Check


def test_every_case_round_trips(cases: ModuleType, tmp_path: Path) -> None:
    for name, build in cases.CASES.items():
        original = build()
        path = tmp_path / f"{name}.plan"
        planfile.save(original, str(path))
        assert planfile.load(str(path)) == original, name


def _every_kind_of_value(cases: ModuleType) -> Plan:
    """A plan with every payload type, every free-form value shape and a positioned note."""
    base = cases.ref_child()  # FromStep model, UNKNOWN after, estimate without a price
    extra_steps = (
        Step(key="x/noop", action=Action.NOOP, name="x", reason=Reason.IN_PROGRESS,
             payload=NoChange(job_id="ftjob-1", status="running", version=2)),
        Step(key="y/cancel", action=Action.CANCEL, name="y", reason=Reason.DUPLICATE,
             payload=CancelJob(job_id="ftjob-2"),
             changes=(FieldChange(path="p", before=(1, 2.5, None), after=UNKNOWN),)),
        Step(key="y/delete", action=Action.DELETE, name="y", reason=Reason.ORPHANED,
             payload=DeleteModel(model_id="ft:m", job_id=None), depends_on=("y/cancel",)),
        Step(key="z/verify/ftjob-3", action=Action.VERIFY, name="z", reason=Reason.UNVERIFIED,
             payload=VerifyModel(name="z", job_id="ftjob-3", model_id="ft:z", base_model="b",
                                 version=3, checks_id="0123456789abcdef",
                                 checks=(Check(prompt="ünï", expect_regex="^a+$",
                                               temperature=0.5),))),
    )
    note = Diagnostic(severity=Severity.WARNING, summary="ünïcode ✓", detail="d",
                      subject=SourceRange(file="models/a.yaml", line=3, column=5),
                      address="y.spec", code="c")
    return Plan(
        workspace="w", snapshot_fingerprint="f",
        steps=cases.create_only().steps + base.steps + extra_steps,
        notes=(note,),
        targets=("y",),
    )


def test_every_payload_and_odd_value_round_trips(cases: ModuleType, tmp_path: Path) -> None:
    original = _every_kind_of_value(cases)
    path = tmp_path / "sub" / "plan.json"
    planfile.save(original, str(path))
    loaded = planfile.load(str(path))
    assert loaded == original
    assert loaded.steps[-3].changes[0].after is UNKNOWN
    assert planfile.dumps(loaded) == path.read_text(encoding="utf-8")


def test_the_saved_file_is_the_golden_literal_json(
    cases: ModuleType, planfile_golden: Callable[[str, str], None]
) -> None:
    text = planfile.dumps(_every_kind_of_value(cases))
    doc = json.loads(text)
    assert doc["ftctl_plan_file"] == 2 and doc["ftctl_version"] == __version__
    planfile_golden("planfile/every_value.json", text)


def test_the_schema_writes_out_every_field_of_every_record() -> None:
    for record in planfile_schema.RECORDS:
        written = [name for name, _ in record.fields]
        assert written == list(dict.fromkeys(written)), record.cls
        assert set(written) == {f.name for f in dataclasses.fields(record.cls)}, record.cls
    payloads = {r.cls for r in planfile_schema.PAYLOADS.values()}
    assert payloads == set(typing.get_args(Payload))


def test_a_plan_file_of_ftctl_0_1_0_is_refused_with_what_to_do() -> None:
    old = Path(__file__).parent / "golden" / "planfile" / "format1-from-0.1.0.json"
    with pytest.raises(planfile.PlanFileError) as info:
        planfile.load(str(old))
    message = str(info.value)
    assert "saved by ftctl 0.1.0 in plan file format 1" in message
    assert "reads format 2" in message and "run `ftctl plan --out` again" in message


@pytest.mark.parametrize("variable",
                         ["OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_ACCESS_TOKEN"])
def test_the_api_key_is_never_written(
    cases: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str,
) -> None:
    key = "sk-proj-secret-0123456789"
    monkeypatch.setenv(variable, key)
    leaky = Plan(workspace="w", snapshot_fingerprint="f",
                 notes=(Diagnostic(severity=Severity.INFO, summary=f"auth {key}"),))
    path = tmp_path / "plan.json"
    with pytest.raises(planfile.PlanFileError) as info:
        planfile.save(leaky, str(path))
    assert key not in str(info.value)
    assert not path.exists()
    planfile.save(cases.create_only(), str(path))
    assert key not in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("not json", "not JSON"),
        ('{"plan": {}}', "not an ftctl plan file"),
        ('{"ftctl_plan_file": 99, "plan": null}', "in plan file format 99; this ftctl"),
        ('{"ftctl_plan_file": 2, "plan": 3}', "does not hold a plan"),
        ('{"ftctl_plan_file": 2, "plan": {"workspace": "w"}}',
         r"plan: missing key\(s\) format_version, snapshot_fingerprint"),
    ],
)
def test_bad_plan_files_are_clear_errors(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(planfile.PlanFileError, match=expected):
        planfile.load(str(path))


def test_missing_plan_file(tmp_path: Path) -> None:
    with pytest.raises(planfile.PlanFileError, match="cannot read plan file"):
        planfile.load(str(tmp_path / "nope.json"))


def test_a_plan_of_another_format_version_is_refused(cases: ModuleType) -> None:
    doc = json.loads(planfile.dumps(cases.no_changes()))
    doc["plan"]["format_version"] = "0.1"
    with pytest.raises(planfile.PlanFileError, match="format 0.1"):
        planfile.loads(json.dumps(doc))


# --- staleness -----------------------------------------------------------------------------

def _job(job_id: str, status: JobStatus, model: str | None = None) -> RemoteJob:
    return RemoteJob(id=job_id, status=status, model="gpt-4o-mini", training_file="file-1",
                     fine_tuned_model=model,
                     metadata=(("ftctl-workspace", "w"), ("ftctl-name", "a")))


def _snapshot(*jobs: RemoteJob, models: tuple[str, ...] = ("ft:a:1",)) -> Snapshot:
    return Snapshot(
        workspace="w",
        files=(RemoteFile(id="file-1", filename="ftctl-x.jsonl", bytes=1, purpose="fine-tune",
                          created_at=1),),
        jobs=jobs,
        models=tuple(RemoteModel(id=m, owned_by="org") for m in models),
    )


def _plan_for(snapshot: Snapshot, *steps: Step) -> Plan:
    return Plan(workspace="w", snapshot_fingerprint=state_fingerprint(snapshot), steps=steps)


_CANCEL = Step(key="a/cancel", action=Action.CANCEL, name="a",
               reason=Reason.IN_FLIGHT_SPEC_MISMATCH, payload=CancelJob(job_id="ftjob-2"))
_DELETE = Step(key="a/delete", action=Action.DELETE, name="a", reason=Reason.SUPERSEDED,
               payload=DeleteModel(model_id="ft:a:1"))


def test_job_progress_does_not_make_a_plan_stale() -> None:
    before = _snapshot(_job("ftjob-1", JobStatus.SUCCEEDED, "ft:a:1"),
                       _job("ftjob-2", JobStatus.QUEUED))
    plan = _plan_for(before, _CANCEL)
    after = _snapshot(_job("ftjob-1", JobStatus.SUCCEEDED, "ft:a:1"),
                      _job("ftjob-2", JobStatus.RUNNING))
    planfile.ensure_fresh(plan, after)


def test_a_job_to_cancel_that_ended_makes_it_stale_with_the_reason() -> None:
    before = _snapshot(_job("ftjob-2", JobStatus.RUNNING))
    plan = _plan_for(before, _CANCEL)
    with pytest.raises(StalePlanError, match="job ftjob-2 it would cancel has since succeeded"):
        planfile.ensure_fresh(plan, _snapshot(_job("ftjob-2", JobStatus.SUCCEEDED)))


def test_a_model_to_delete_that_is_gone_makes_it_stale() -> None:
    done = _job("ftjob-1", JobStatus.SUCCEEDED, "ft:a:1")
    plan = _plan_for(_snapshot(done), _DELETE)
    with pytest.raises(StalePlanError, match="model ft:a:1 it would delete no longer exists"):
        planfile.ensure_fresh(plan, _snapshot(done, models=()))


def test_a_model_to_verify_that_is_gone_or_a_verdict_recorded_since_makes_it_stale() -> None:
    done = _job("ftjob-1", JobStatus.SUCCEEDED, "ft:a:1")
    verify = Step(key="a/verify/ftjob-1", action=Action.VERIFY, name="a",
                  reason=Reason.UNVERIFIED,
                  payload=VerifyModel(name="a", job_id="ftjob-1", model_id="ft:a:1",
                                      base_model="gpt-4o-mini", version=1,
                                      checks=(Check(prompt="p", expect_contains="x"),),
                                      checks_id="0" * 16))
    plan = _plan_for(_snapshot(done), verify)
    with pytest.raises(StalePlanError, match="model ft:a:1 it would check no longer exists"):
        planfile.ensure_fresh(plan, _snapshot(done, models=()))
    verdict = RemoteFile(id="file-v", filename=f"ftctl-verdict-ftjob-1-{'0' * 16}-passed.jsonl",
                         bytes=10, purpose="fine-tune", created_at=2)
    recorded = _snapshot(done)
    recorded = Snapshot(workspace="w", files=(*recorded.files, verdict), jobs=recorded.jobs,
                        models=recorded.models)
    with pytest.raises(StalePlanError, match="managed jobs, files or models changed"):
        planfile.ensure_fresh(plan, recorded)


def test_another_change_is_stale_in_general_words() -> None:
    before = _snapshot()
    plan = _plan_for(before, _DELETE)
    with pytest.raises(StalePlanError, match="^Saved plan is stale: managed jobs") as info:
        planfile.ensure_fresh(plan, _snapshot(_job("ftjob-9", JobStatus.RUNNING)))
    assert str(info.value).count(".") <= 2  # one sentence (the dot in "ftctl plan" aside)


def test_a_plan_for_another_workspace_is_refused() -> None:
    plan = _plan_for(_snapshot())
    other = Snapshot(workspace="elsewhere")
    with pytest.raises(StalePlanError, match="workspace 'w'"):
        planfile.ensure_fresh(plan, other)


# --- property: any JSON-like field value survives the round trip ---------------------------

_scalars = (st.none() | st.booleans() | st.integers() | st.text(max_size=20)
            | st.floats(allow_nan=False, allow_infinity=False))
_values = st.recursive(
    _scalars | st.just(UNKNOWN),
    lambda inner: (st.tuples(inner, inner) | st.lists(inner, max_size=3)
                   | st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=10,
)


@settings(max_examples=60, deadline=None)
@given(before=_values, after=_values, path=st.text(min_size=1, max_size=30))
def test_any_field_value_round_trips(before: object, after: object, path: str) -> None:
    step = Step(key="k", action=Action.RETRAIN, name="n", reason=Reason.SPEC_CHANGED,
                payload=CancelJob(job_id="j"),
                changes=(FieldChange(path=path, before=before, after=after),))
    original = Plan(workspace="w", snapshot_fingerprint="f", steps=(step,))
    assert planfile.loads(planfile.dumps(original)) == original
