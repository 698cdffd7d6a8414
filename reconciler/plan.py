"""The plan: what apply would do, step by step, with reasons and field diffs.

L0/L1 core types, no I/O. The planner produces a Plan; renderers read it; planfile saves it;
the executor carries out its Steps (their payloads hold everything apply needs, so apply never
re-plans).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from reconciler.diagnostics import Diagnostics

FORMAT_VERSION = "1.0"


class _Unknown:
    """A value known only after apply (a `{ref:}` child's base model)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "(known after apply)"


UNKNOWN = _Unknown()


class Action(StrEnum):
    UPLOAD = "upload"
    CREATE = "create"
    RETRAIN = "retrain"
    CONTINUE = "continue"
    CANCEL = "cancel"
    DELETE = "delete"
    VERIFY = "verify"
    DEPLOY = "deploy"  # create a deployment, or point it at another version / sku / capacity
    UNDEPLOY = "undeploy"  # remove a deployment
    NOOP = "noop"

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self]


_SYMBOLS = {
    Action.UPLOAD: "↑",
    Action.CREATE: "+",
    Action.RETRAIN: "-/+",
    Action.CONTINUE: "~",
    Action.CANCEL: "x",
    Action.DELETE: "-",
    Action.VERIFY: "?",
    Action.DEPLOY: "»",
    Action.UNDEPLOY: "«",
    Action.NOOP: " ",
}


class Reason(StrEnum):
    NEW = "new"
    SPEC_CHANGED = "spec_changed"
    PARENT_CHANGED = "parent_changed"
    DELETED_OUT_OF_BAND = "deleted_out_of_band"
    IN_FLIGHT_SPEC_MISMATCH = "in_flight_spec_mismatch"
    RETRY_FAILED = "retry_failed"
    CANCELLED = "cancelled"  # the latest job was cancelled: started again
    SUPERSEDED = "superseded"
    ORPHANED = "orphaned"
    DUPLICATE = "duplicate"
    MISSING_FILE = "missing_file"
    UNVERIFIED = "unverified"  # a trained version whose gate has not run (verify)
    CHECKS_CHANGED = "checks_changed"  # the serving version, verified again under a new gate
    NEW_VERSION = "new_version"  # a deployment moves to the version that now serves
    DEPLOYMENT_CHANGED = "deployment_changed"  # spec.deployment's sku or capacity changed
    DEPLOYMENT_MISSING = "deployment_missing"  # deleted out of band (Azure's inactivity rule)
    UNNEEDED = "unneeded"  # a dataset file no manifest, job in flight or kept version needs;
    # with prune, a finished job of a retired version (Azure)
    # Reasons carried by NOOP steps (reporting only; apply skips them).
    UNCHANGED = "unchanged"
    IN_PROGRESS = "in_progress"
    FAILED = "failed"  # latest job failed with this spec; no retry without a flag
    CHECKS_FAILED = "checks_failed"  # the newest version failed its checks with this spec
    ADOPTED = "adopted"  # a hand-made job taken over through spec.adopt
    BLOCKED = "blocked"  # cannot be planned (e.g. its {ref:} parent has no version)


# NOOP reasons that leave a model short of its manifest: a plan with one is not "No changes".
UNSETTLED_REASONS = frozenset({Reason.IN_PROGRESS, Reason.FAILED, Reason.CHECKS_FAILED,
                               Reason.BLOCKED})


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldChange:
    """One field-level difference in manifest vocabulary, e.g. `method.hyperparameters.n_epochs`."""

    path: str
    before: object
    after: object
    forces_new: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class FromStep:
    """A value produced by an earlier step, resolved by the executor (e.g. a parent's new model)."""

    key: str
    field: str


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadFile:
    repo_path: str
    sha256: str
    bytes: int
    filename: str  # content-addressed name (identity.file_name)
    purpose: str = "fine-tune"


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateJob:
    """Everything needed for POST /fine_tuning/jobs. File ids may come from upload steps."""

    name: str
    model: str | FromStep
    training_file: str | FromStep
    validation_file: str | FromStep | None
    method_json: str  # the `method` body as canonical JSON
    suffix: str | None
    seed: int | None
    integrations_json: str | None
    metadata: tuple[tuple[str, str], ...]  # includes ftctl-op, ftctl-version, ftctl-spec ...
    version: int
    checks: tuple[object, ...] = ()  # spec.Check values, run after the job succeeds


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelJob:
    job_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteModel:
    model_id: str
    job_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyModel:
    """Run a manifest's gate (checks, then its evaluation) against a trained version and
    record the verdict on the provider. checks_id: the gate's identity the verdict is recorded
    under (planner.verdicts.gate_id; empty when the executor gates a version it just trained:
    the app binds it from the model state)."""

    name: str
    job_id: str
    model_id: str
    base_model: str  # what the job trained from: decides chat or completions for the checks
    version: int
    checks: tuple[object, ...]  # spec.Check values
    checks_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeployModel:
    """Make deployment `deployment` serve `model_id` with `sku` and `capacity` (ARM PUT):
    create it (current_model None), or move it from current_model to a new version. job_id:
    the version's job; when it comes from an earlier step, the executor deploys only after that
    version's gate has passed (create-before-destroy)."""

    name: str  # the manifest
    deployment: str
    model_id: str | FromStep
    sku: str
    capacity: int
    current_model: str | None = None
    job_id: str | FromStep | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveDeployment:
    """Delete deployment `deployment` (ARM DELETE); model_id: what it served, for reporting."""

    deployment: str
    model_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteJob:
    """Delete a finished job of a retired version (Azure's dated API; prune only)."""

    job_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteFile:
    """Delete an uploaded dataset file nothing needs any more (Azure's 100-file / 1 GB limit)."""

    file_id: str
    filename: str
    bytes: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class NoChange:
    """Payload of a NOOP step: what the model currently is, for reporting. Apply skips it."""

    job_id: str | None = None
    model_id: str | None = None
    status: str | None = None
    version: int | None = None


Payload = (UploadFile | CreateJob | CancelJob | DeleteModel | VerifyModel | DeployModel
           | RemoveDeployment | DeleteJob | DeleteFile | NoChange)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanOptions:
    """Planning options (the `plan` and `apply` flags). today: YYYY-MM-DD for retirement
    warnings (the planner reads no clock; the caller passes it in, None skips them)."""

    targets: tuple[str, ...] = ()
    retry_failed: bool = False
    commit: str | None = None
    today: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Estimate:
    """cost_usd: training. monthly_hosting_usd: how this step changes the monthly bill of
    hosting deployments (positive: a new one; negative: one removed; None: not priced)."""

    training_tokens: int | None
    epochs: int | None
    cost_usd: float | None
    monthly_hosting_usd: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One unit of work. key is stable and readable, e.g. `support-bot/create-job`."""

    key: str
    action: Action
    name: str
    reason: Reason
    payload: Payload
    changes: tuple[FieldChange, ...] = ()
    depends_on: tuple[str, ...] = ()
    estimate: Estimate | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    workspace: str
    snapshot_fingerprint: str
    steps: tuple[Step, ...] = ()
    notes: Diagnostics = ()
    format_version: str = FORMAT_VERSION
    targets: tuple[str, ...] = ()  # --target names the plan was cut down to (empty: all)
    # Facts the app attaches to a saved plan (the digest of the manifests it was made from).
    extra: tuple[tuple[str, object], ...] = ()

    @property
    def changes(self) -> tuple[Step, ...]:
        """Steps apply would carry out (everything but NOOP reports)."""
        return tuple(s for s in self.steps if s.action is not Action.NOOP)

    @property
    def has_errors(self) -> bool:
        """An error note means the plan must not be applied (e.g. prevent_destroy)."""
        return any(d.is_error for d in self.notes)

    @property
    def has_changes(self) -> bool:
        return any(s.action is not Action.NOOP for s in self.steps)

    @property
    def unsettled(self) -> tuple[Step, ...]:
        """Models with nothing to carry out that still do not match their manifest: a job in
        flight, a failed job or failed checks, or no serving version to build on."""
        return tuple(s for s in self.steps if s.reason in UNSETTLED_REASONS)

    @property
    def converged(self) -> bool:
        """Nothing to do and nothing pending: every model serves what its manifest asks for."""
        return not self.has_changes and not self.unsettled

    def summary(self) -> dict[str, int]:
        counts = {a.value: 0 for a in Action}
        for step in self.steps:
            counts[step.action.value] += 1
        return counts


class DriftKind(StrEnum):
    DELETED_OUT_OF_BAND = "deleted_out_of_band"  # a managed version's model is gone
    FAILED_JOB = "failed_job"  # the latest managed job failed
    CANCELLED_JOB = "cancelled_job"  # the latest managed job was cancelled
    CHECKS_FAILED = "checks_failed"  # the newest trained version failed its checks
    DEPLOYMENT_MISSING = "deployment_missing"  # a declared deployment is gone (Azure)
    DEPLOYMENT_MOVED = "deployment_moved"  # it serves another version than should (Azure)
    ORPHAN = "orphan"  # managed jobs/models whose manifest is gone
    UNMANAGED_MODEL = "unmanaged_model"  # a fine-tuned model no managed job produced
    BASE_MODEL_RETIRING = "base_model_retiring"  # shutdown_date within 90 days
    BELOW_EVALUATION_MIN = "below_evaluation_min"  # serving version under evaluation.promote.min


@dataclass(frozen=True, slots=True, kw_only=True)
class DriftItem:
    """One way the remote has moved away from git. subject: the job or model id concerned."""

    kind: DriftKind
    message: str
    name: str | None = None
    subject: str | None = None
    date: str | None = None  # shutdown_date for BASE_MODEL_RETIRING


@dataclass(frozen=True, slots=True, kw_only=True)
class DriftReport:
    workspace: str
    items: tuple[DriftItem, ...] = ()
    notes: Diagnostics = ()
    today: str | None = None

    @property
    def has_drift(self) -> bool:
        return bool(self.items)

    def summary(self) -> dict[str, int]:
        counts = {k.value: 0 for k in DriftKind}
        for item in self.items:
            counts[item.kind.value] += 1
        return counts
