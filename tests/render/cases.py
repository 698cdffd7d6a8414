"""Plain Plan values for the golden-file scenarios (no planner involved: renderers only read)."""

from __future__ import annotations

import json

from reconciler.diagnostics import Diagnostic, Severity, SourceRange
from reconciler.plan import (
    UNKNOWN,
    Action,
    CancelJob,
    CreateJob,
    DeleteFile,
    DeleteJob,
    DeleteModel,
    DeployModel,
    DriftItem,
    DriftKind,
    DriftReport,
    Estimate,
    FieldChange,
    FromStep,
    NoChange,
    Plan,
    Reason,
    RemoveDeployment,
    Step,
    UploadFile,
    VerifyModel,
)
from reconciler.spec import Check

FP = "3f1c9a7e" * 8
SHA_A = "a" * 64
SHA_B = "b" * 64
SHA_V = "c" * 64
BASE = "gpt-4o-mini-2024-07-18"
METHOD = json.dumps(
    {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}},
    sort_keys=True, separators=(",", ":"),
)


def upload(name: str, path: str, sha: str, size: int) -> Step:
    return Step(
        key=f"upload/{sha[:12]}",
        action=Action.UPLOAD,
        name=name,
        reason=Reason.MISSING_FILE,
        payload=UploadFile(repo_path=path, sha256=sha, bytes=size, filename=f"ftctl-{sha}.jsonl"),
    )


def create(
    name: str,
    *,
    action: Action = Action.CREATE,
    reason: Reason = Reason.NEW,
    model: str | FromStep = BASE,
    training: str | FromStep = "file-train",
    validation: str | FromStep | None = None,
    version: int = 1,
    changes: tuple[FieldChange, ...] = (),
    depends_on: tuple[str, ...] = (),
    estimate: Estimate | None = None,
    checks: tuple[object, ...] = (),
) -> Step:
    return Step(
        key=f"{name}/create-job",
        action=action,
        name=name,
        reason=reason,
        payload=CreateJob(
            name=name,
            model=model,
            training_file=training,
            validation_file=validation,
            method_json=METHOD,
            suffix=name,
            seed=42,
            integrations_json=None,
            metadata=(
                ("ftctl-workspace", "prod"),
                ("ftctl-name", name),
                ("ftctl-version", str(version)),
                ("ftctl-op", f"op-{name}-{version}"),
            ),
            version=version,
            checks=checks,
        ),
        changes=changes,
        depends_on=depends_on,
        estimate=estimate,
    )


def create_only() -> Plan:
    up_t = upload("support-bot", "data/support/train.jsonl", SHA_A, 48_213)
    up_v = upload("support-bot", "data/support/valid.jsonl", SHA_V, 5_120)
    job = create(
        "support-bot",
        training=FromStep(key=up_t.key, field="id"),
        validation=FromStep(key=up_v.key, field="id"),
        depends_on=(up_t.key, up_v.key),
        estimate=Estimate(training_tokens=361_500, epochs=3, cost_usd=1.0845),
        checks=(Check(prompt="Where is my order?", expect_contains="tracking"),),
    )
    return Plan(workspace="prod", snapshot_fingerprint=FP, steps=(up_t, up_v, job))


def retrain_fields() -> Plan:
    up = upload("support-bot", "data/support/train.jsonl", SHA_B, 52_001)
    retrain = create(
        "support-bot",
        action=Action.RETRAIN,
        reason=Reason.SPEC_CHANGED,
        training=FromStep(key=up.key, field="id"),
        version=2,
        depends_on=(up.key,),
        changes=(
            FieldChange(path="training_file", before="data/support/train.jsonl@aaaaaaaaaaaa",
                        after="data/support/train.jsonl@bbbbbbbbbbbb", forces_new=True),
            FieldChange(path="method.hyperparameters.n_epochs", before=3, after=4,
                        forces_new=True),
            FieldChange(path="suffix", before=None, after="support"),
        ),
        estimate=Estimate(training_tokens=520_000, epochs=4, cost_usd=1.56),
    )
    new = create(
        "classifier", training="file-cls",
        estimate=Estimate(training_tokens=12_000, epochs=3, cost_usd=0.036),
    )
    return Plan(workspace="prod", snapshot_fingerprint=FP, steps=(up, new, retrain))


def ref_child() -> Plan:
    parent = create(
        "base-tone", action=Action.RETRAIN, reason=Reason.SPEC_CHANGED, version=3,
        changes=(FieldChange(path="seed", before=42, after=7, forces_new=True),),
        estimate=Estimate(training_tokens=90_000, epochs=3, cost_usd=0.27),
    )
    child = create(
        "support-tone", action=Action.RETRAIN, reason=Reason.PARENT_CHANGED, version=2,
        model=FromStep(key=parent.key, field="fine_tuned_model"),
        depends_on=(parent.key,),
        changes=(
            FieldChange(path="model", before="ft:gpt-4o-mini-2024-07-18:acme:base-tone:v2",
                        after=UNKNOWN, forces_new=True),
        ),
        estimate=Estimate(training_tokens=30_000, epochs=3, cost_usd=None),
    )
    return Plan(workspace="prod", snapshot_fingerprint=FP, steps=(parent, child))


def delete_warning() -> Plan:
    cancel = Step(key="legacy-bot/cancel-ftjob-old9", action=Action.CANCEL, name="legacy-bot",
                  reason=Reason.ORPHANED, payload=CancelJob(job_id="ftjob-old9"))
    delete = Step(key="legacy-bot/delete-1", action=Action.DELETE, name="legacy-bot",
                  reason=Reason.ORPHANED,
                  payload=DeleteModel(model_id="ft:gpt-4o-mini:acme:legacy-bot:x1",
                                      job_id="ftjob-old1"),
                  depends_on=(cancel.key,))
    retire = Step(key="faq/delete-1", action=Action.DELETE, name="faq",
                  reason=Reason.SUPERSEDED,
                  payload=DeleteModel(model_id="ft:gpt-4o-mini:acme:faq:v1", job_id="ftjob-f1"))
    note = Diagnostic(severity=Severity.WARNING, summary="2 managed objects have no manifest",
                      detail="prune is on in ftctl.yaml, so they are deleted.", address=None)
    return Plan(workspace="prod", snapshot_fingerprint=FP, steps=(cancel, delete, retire),
                notes=(note,))


def noop(name: str, reason: Reason, job: str | None, status: str | None, version: int) -> Step:
    return Step(key=name, action=Action.NOOP, name=name, reason=reason,
                payload=NoChange(job_id=job, model_id=f"ft:{BASE}:acme:{name}:v{version}",
                                 status=status, version=version))


def in_progress() -> Plan:
    note = Diagnostic(
        severity=Severity.INFO,
        summary="support-bot: job ftjob-run1 is running (ETA 2026-11-29 03:40 UTC)",
        address="support-bot",
    )
    steps = (noop("support-bot", Reason.IN_PROGRESS, "ftjob-run1", "running", 2),)
    return Plan(workspace="prod", snapshot_fingerprint=FP, steps=steps, notes=(note,))


def failed_job() -> Plan:
    note = Diagnostic(
        severity=Severity.WARNING,
        summary="classifier: latest job ftjob-bad1 failed: invalid_training_file <line 3>",
        detail="Not retried with the same spec (no cost loops): change the spec, or plan/apply "
               "with --retry-failed.",
        address="classifier",
        subject=SourceRange(file="models/classifier.yaml", line=1, column=1),
    )
    cont = create(
        "faq", action=Action.CONTINUE, reason=Reason.SPEC_CHANGED, version=2,
        model="ft:gpt-4o-mini-2024-07-18:acme:faq:v1",
        changes=(FieldChange(path="training_file", before="data/faq.jsonl@111111111111",
                             after="data/faq.jsonl@222222222222", forces_new=True),),
        estimate=Estimate(training_tokens=4_000, epochs=2, cost_usd=0.0012),
    )
    failed = noop("classifier", Reason.FAILED, "ftjob-bad1", "failed", 1)
    return Plan(workspace="prod", snapshot_fingerprint=FP, steps=(failed, cont), notes=(note,))


def cancel_and_recreate() -> Plan:
    diff = (FieldChange(path="method.hyperparameters.learning_rate_multiplier", before=0.1,
                        after=0.05, forces_new=True),
            FieldChange(path="method.grader", before=None,
                        after={"type": "string_check", "name": "exact"}, forces_new=True))
    cancel = Step(key="support-bot/cancel/ftjob-run1", action=Action.CANCEL, name="support-bot",
                  reason=Reason.IN_FLIGHT_SPEC_MISMATCH, payload=CancelJob(job_id="ftjob-run1"),
                  changes=diff)
    job = create("support-bot", action=Action.RETRAIN, reason=Reason.IN_FLIGHT_SPEC_MISMATCH,
                 version=3, changes=diff, depends_on=(cancel.key,),
                 estimate=Estimate(training_tokens=None, epochs=3, cost_usd=None))
    note = Diagnostic(severity=Severity.WARNING, summary="only --target support-bot is planned")
    return Plan(workspace="staging", snapshot_fingerprint=FP, steps=(cancel, job),
                notes=(note,), targets=("support-bot",))


def prevent_destroy_error() -> Plan:
    retrain = create(
        "faq", action=Action.RETRAIN, reason=Reason.SPEC_CHANGED, version=3,
        changes=(FieldChange(path="suffix", before="faq", after="faq-v2", forces_new=True),),
        estimate=Estimate(training_tokens=8_000, epochs=2, cost_usd=0.024),
    )
    retire = Step(key="faq/delete/ft:old", action=Action.DELETE, name="faq",
                  reason=Reason.SUPERSEDED, depends_on=(retrain.key,),
                  payload=DeleteModel(model_id="ft:gpt-4o-mini:acme:faq:v2", job_id="ftjob-f2"))
    err = Diagnostic(
        severity=Severity.ERROR,
        summary="faq: plan would delete ft:gpt-4o-mini:acme:faq:v2, but "
                "lifecycle.prevent_destroy is set",
        detail="Raise lifecycle.keep_versions, or set prevent_destroy: false to allow it.",
        address="faq", subject=SourceRange(file="models/faq.yaml", line=1, column=1),
    )
    return Plan(workspace="prod", snapshot_fingerprint=FP, steps=(retrain, retire), notes=(err,))


def no_changes() -> Plan:
    steps = (
        noop("classifier", Reason.UNCHANGED, "ftjob-c1", "succeeded", 1),
        noop("support-bot", Reason.ADOPTED, "ftjob-hand", "succeeded", 0),
    )
    return Plan(workspace="prod", snapshot_fingerprint=FP, steps=steps)


def verify_and_retire() -> Plan:
    """A version trained by an apply that did not wait (its checks never ran), one whose
    checks changed, and one that failed its checks (nothing to do: a note, no retrain)."""
    bot_model = "ft:gpt-4o-mini-2024-07-18:acme:support-bot:v3"
    verify = Step(
        key="support-bot/verify/ftjob-v3", action=Action.VERIFY, name="support-bot",
        reason=Reason.UNVERIFIED,
        payload=VerifyModel(name="support-bot", job_id="ftjob-v3", model_id=bot_model,
                            base_model=BASE, version=3, checks_id="0f1e2d3c4b5a6978",
                            checks=(Check(prompt="Hi", expect_contains="Hello"),
                                    Check(prompt="Refund?", expect_regex="policy"))),
    )
    old = "ft:gpt-4o-mini-2024-07-18:acme:support-bot:v1"
    delete = Step(key=f"support-bot/delete/{old}", action=Action.DELETE, name="support-bot",
                  reason=Reason.SUPERSEDED, payload=DeleteModel(model_id=old, job_id="ftjob-v1"),
                  depends_on=(verify.key,))
    faq_model = "ft:gpt-4o-mini-2024-07-18:acme:faq:v2"
    again = Step(
        key="faq/verify/ftjob-f2", action=Action.VERIFY, name="faq",
        reason=Reason.CHECKS_CHANGED,
        payload=VerifyModel(name="faq", job_id="ftjob-f2", model_id=faq_model, base_model=BASE,
                            version=2, checks_id="8899aabbccddeeff",
                            checks=(Check(prompt="Opening hours?", expect_contains="9"),)),
    )
    note = Diagnostic(
        severity=Severity.WARNING,
        summary="classifier: version 4 (ft:gpt-4o-mini-2024-07-18:acme:classifier:v4) failed "
                "its checks; version 3 (ft:gpt-4o-mini-2024-07-18:acme:classifier:v3) keeps "
                "serving",
        detail="Not retrained with the same spec (no cost loops): change the spec or the "
               "checks, or plan/apply with --retry-failed. `ftctl show` lists the versions.",
        address="classifier",
    )
    failed = noop("classifier", Reason.CHECKS_FAILED, "ftjob-c4", "succeeded", 4)
    return Plan(workspace="prod", snapshot_fingerprint=FP, steps=(failed, again, verify, delete),
                notes=(note,))


AZ_BASE = "gpt-4o-mini-2024-07-18"


def azure_deployments() -> Plan:
    """Azure: a retrain whose deployment moves once the new version passed (then the old one
    is retired), a deployment deleted out of band, a sku and capacity change, and a pruned
    orphan whose deployment goes before its model."""
    old = f"{AZ_BASE}.ft-0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    fields = (FieldChange(path="method.hyperparameters.n_epochs", before=3, after=2,
                          forces_new=True),)
    retrain = create("support-bot", action=Action.RETRAIN, reason=Reason.SPEC_CHANGED,
                     version=2, changes=fields,
                     estimate=Estimate(training_tokens=3552, epochs=2, cost_usd=0.0107))
    move = Step(
        key="support-bot/deploy/support-bot", action=Action.DEPLOY, name="support-bot",
        reason=Reason.NEW_VERSION,
        payload=DeployModel(name="support-bot", deployment="support-bot",
                            model_id=FromStep(key=retrain.key, field="fine_tuned_model"),
                            sku="GlobalStandard", capacity=1, current_model=old,
                            job_id=FromStep(key=retrain.key, field="job_id")),
        changes=(FieldChange(path="deployment.model", before=old, after=UNKNOWN),),
        depends_on=(retrain.key,),
    )
    retire = Step(key=f"support-bot/delete/{old}", action=Action.DELETE, name="support-bot",
                  reason=Reason.SUPERSEDED, payload=DeleteModel(model_id=old, job_id="ftjob-s1"),
                  depends_on=(retrain.key, move.key))
    faq_model = f"{AZ_BASE}.ft-11112222333344445555666677778888"
    restore = Step(
        key="faq/deploy/faq", action=Action.DEPLOY, name="faq",
        reason=Reason.DEPLOYMENT_MISSING,
        payload=DeployModel(name="faq", deployment="faq", model_id=faq_model,
                            sku="Standard", capacity=1, job_id="ftjob-f1"),
        changes=(FieldChange(path="deployment.model", before=None, after=faq_model),),
    )
    triage_model = f"{AZ_BASE}.ft-99990000aaaabbbbccccddddeeeeffff"
    resize = Step(
        key="triage/deploy/triage-prod", action=Action.DEPLOY, name="triage",
        reason=Reason.DEPLOYMENT_CHANGED,
        payload=DeployModel(name="triage", deployment="triage-prod", model_id=triage_model,
                            sku="GlobalStandard", capacity=5, current_model=triage_model,
                            job_id="ftjob-t3"),
        changes=(FieldChange(path="deployment.sku", before="Standard", after="GlobalStandard"),
                 FieldChange(path="deployment.capacity", before=1, after=5)),
    )
    kept = noop("triage", Reason.UNCHANGED, "ftjob-t3", "succeeded", 3)
    legacy = f"{AZ_BASE}.ft-feedfacefeedfacefeedfacefeedface"
    undeploy = Step(
        key="legacy-bot/undeploy/legacy-bot", action=Action.UNDEPLOY, name="legacy-bot",
        reason=Reason.ORPHANED,
        payload=RemoveDeployment(deployment="legacy-bot", model_id=legacy),
        changes=(FieldChange(path="deployment.name", before="legacy-bot", after=None),),
    )
    prune = Step(key=f"legacy-bot/delete/{legacy}", action=Action.DELETE, name="legacy-bot",
                 reason=Reason.ORPHANED, payload=DeleteModel(model_id=legacy, job_id="ftjob-l1"),
                 depends_on=(undeploy.key,))
    return Plan(workspace="prod", snapshot_fingerprint=FP,
                steps=(retrain, retire, move, restore, kept, resize, prune, undeploy))
def azure_cleanup() -> Plan:
    """Azure: a retrain retires version 1 (its model, with its job), prune deletes an older
    cancelled job, and the old dataset file goes after the job naming it."""
    old_model = f"{BASE}.ft-0e208cf33a6a466994aff31a08aba678"
    retrain = create("support-bot", action=Action.RETRAIN, reason=Reason.SPEC_CHANGED,
                     version=3, training=FromStep(key=f"upload/{SHA_B[:12]}", field="id"),
                     changes=(FieldChange(path="training_file",
                                          before=f"data/support/train.jsonl@{SHA_A[:12]}",
                                          after=f"data/support/train.jsonl@{SHA_B[:12]}",
                                          forces_new=True),),
                     depends_on=(f"upload/{SHA_B[:12]}",))
    retire = Step(key=f"support-bot/delete/{old_model}", action=Action.DELETE,
                  name="support-bot", reason=Reason.SUPERSEDED,
                  payload=DeleteModel(model_id=old_model, job_id="ftjob-v1"),
                  depends_on=(retrain.key,))
    prune = Step(key="support-bot/delete-job/ftjob-v2", action=Action.DELETE,
                 name="support-bot", reason=Reason.UNNEEDED, payload=DeleteJob(job_id="ftjob-v2"))
    old_file = Step(key="delete-file/file-old", action=Action.DELETE,
                    name=f"ftctl-{SHA_A}.jsonl", reason=Reason.UNNEEDED,
                    payload=DeleteFile(file_id="file-old", filename=f"ftctl-{SHA_A}.jsonl",
                                       bytes=48_213),
                    depends_on=(retire.key,))
    return Plan(workspace="prod", snapshot_fingerprint=FP, steps=(
        upload("support-bot", "data/support/train.jsonl", SHA_B, 52_001), retrain, retire,
        prune, old_file))


CASES = {
    "azure_deployments": azure_deployments,
    "verify_and_retire": verify_and_retire,
    "create_only": create_only,
    "retrain_fields": retrain_fields,
    "ref_child": ref_child,
    "delete_warning": delete_warning,
    "in_progress": in_progress,
    "failed_job": failed_job,
    "cancel_and_recreate": cancel_and_recreate,
    "prevent_destroy_error": prevent_destroy_error,
    "no_changes": no_changes,
    "azure_cleanup": azure_cleanup,
}


def drift_all_kinds() -> DriftReport:
    items = (
        DriftItem(kind=DriftKind.DELETED_OUT_OF_BAND, name="support-bot",
                  subject="ft:gpt-4o-mini-2024-07-18:acme:support-bot:v2",
                  message="support-bot: model ft:gpt-4o-mini-2024-07-18:acme:support-bot:v2 "
                          "(version from ftjob-2) was deleted outside ftctl"),
        DriftItem(kind=DriftKind.FAILED_JOB, name="classifier", subject="ftjob-bad1",
                  message="classifier: latest job ftjob-bad1 failed: <bad line 3>"),
        DriftItem(kind=DriftKind.CANCELLED_JOB, name="faq", subject="ftjob-c9",
                  message="faq: latest job ftjob-c9 cancelled"),
        DriftItem(kind=DriftKind.CHECKS_FAILED, name="classifier",
                  subject="ft:gpt-4o-mini-2024-07-18:acme:classifier:v4",
                  message="classifier: version 4 (ft:gpt-4o-mini-2024-07-18:acme:classifier:v4) "
                          "failed its checks; version 3 keeps serving"),
        DriftItem(kind=DriftKind.DEPLOYMENT_MISSING, name="faq", subject="faq",
                  message="faq: deployment faq is gone (deleted outside ftctl, or by Azure after "
                          "15 days without inference); version 1 (gpt-4o-mini-2024-07-18.ft-1a2b) "
                          "is not served"),
        DriftItem(kind=DriftKind.DEPLOYMENT_MOVED, name="triage", subject="triage-prod",
                  message="triage: deployment triage-prod serves version 2 "
                          "(gpt-4o-mini-2024-07-18.ft-2b3c), not version 3 "
                          "(gpt-4o-mini-2024-07-18.ft-3c4d)"),
        DriftItem(kind=DriftKind.ORPHAN, name="legacy-bot", subject="ft:gpt-4o-mini:acme:x1",
                  message="legacy-bot: no manifest declares it; 1 model(s), 0 job(s) in flight"),
        DriftItem(kind=DriftKind.UNMANAGED_MODEL, subject="ft:gpt-4o-mini:acme:hand-made:z",
                  message="fine-tuned model ft:gpt-4o-mini:acme:hand-made:z is not managed by "
                          "workspace prod"),
        DriftItem(kind=DriftKind.BASE_MODEL_RETIRING, name="faq", subject="gpt-4o-mini-2024-07-18",
                  date="2027-01-15",
                  message="faq: base model gpt-4o-mini-2024-07-18 is retired on 2027-01-15 "
                          "(in 47 days; window 90 days)"),
        DriftItem(kind=DriftKind.BELOW_EVALUATION_MIN, name="support-bot",
                  subject="ft:gpt-4o-mini-2024-07-18:acme:support-bot:v2",
                  message="support-bot: serving version ft:gpt-4o-mini-2024-07-18:acme:"
                          "support-bot:v2 was measured below what the manifest now asks for: "
                          "exact 0.6 is below the minimum 0.7"),
    )
    note = Diagnostic(severity=Severity.WARNING, summary="unmanaged models are listed in full",
                      detail="An org can hold many hand-made models.")
    return DriftReport(workspace="prod", items=items, notes=(note,), today="2026-11-29")


def no_drift() -> DriftReport:
    return DriftReport(workspace="prod", today="2026-11-29")


DRIFT_CASES = {"drift_all_kinds": drift_all_kinds, "no_drift": no_drift}
