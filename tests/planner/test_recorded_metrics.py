"""Drift and show read what a serving version was measured at from its verdict file on the
provider; a provider that does not hand file contents back costs the comparison, not the
command."""

from __future__ import annotations

from dataclasses import replace

from builders import a_desired, a_job_for, a_manifest, a_snapshot, files_for

from reconciler.app.evaluate import with_eval_drift
from reconciler.app.inspect import inventory
from reconciler.diagnostics import Severity
from reconciler.errors import PermanentApiError
from reconciler.plan import DriftKind, DriftReport
from reconciler.planner.state import build_state
from reconciler.planner.verdicts import gate_id, verdict_file_name
from reconciler.snapshot import RemoteFile, Snapshot
from reconciler.spec import DatasetRef, Desired, Evaluation, Grader, GraderType, Promotion

EVALUATION = Evaluation(
    dataset=DatasetRef(path="../evals/e.jsonl", repo_path="evals/e.jsonl"),
    graders=(Grader(name="exact", type=GraderType.EXACT_MATCH),),
    promote=Promotion(minimum=(("exact", 0.7),)),
    dataset_sha256="7" * 64,
)
CONTENT = {"metrics": {"exact": {"candidate": 0.6, "delta": None, "serving": None}}}


def _world() -> tuple[Desired, Snapshot]:
    manifest = a_manifest("bot")
    desired = a_desired(replace(manifest, spec=replace(manifest.spec, evaluation=EVALUATION)))
    job = a_job_for(desired, "bot", id="ftjob-1", version=1)
    verdict = RemoteFile(id="file-verdict-1", bytes=300, purpose="fine-tune", created_at=2,
                         status="processed", filename=verdict_file_name(
                             job.id, gate_id((), EVALUATION), passed=True))
    return desired, a_snapshot(jobs=[job], files=(*files_for(desired), verdict))


def _refusing(file_id: str) -> object:
    raise PermanentApiError(f"GET files/{file_id}/content: not allowed", status=400)


def test_drift_compares_the_recorded_metrics_with_the_new_min() -> None:
    desired, snapshot = _world()
    state = build_state(desired, snapshot)
    asked: list[str] = []

    def read(file_id: str) -> object:
        asked.append(file_id)
        return CONTENT

    report = with_eval_drift(DriftReport(workspace="w"), desired, state, read)
    assert asked == ["file-verdict-1"]
    [item] = report.items
    assert item.kind is DriftKind.BELOW_EVALUATION_MIN
    assert item.message.endswith("exact 0.6 is below the minimum 0.7")


def test_an_unreadable_verdict_is_a_warning_not_a_failure() -> None:
    desired, snapshot = _world()
    state = build_state(desired, snapshot)
    report = with_eval_drift(DriftReport(workspace="w"), desired, state, _refusing)
    assert report.items == ()
    [note] = report.notes
    assert note.severity is Severity.WARNING and "could not be read" in note.summary


def test_show_lists_recorded_metrics_and_skips_them_when_unreadable() -> None:
    desired, snapshot = _world()
    [model] = inventory(desired, snapshot, read_verdict=lambda _: CONTENT)
    assert model.versions[0].metrics == (("exact", 0.6),)
    [model] = inventory(desired, snapshot, read_verdict=_refusing)
    assert model.versions[0].metrics == () and model.versions[0].verdict == "passed"
