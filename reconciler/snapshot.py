"""The actual side: what the provider holds (files, fine-tuning jobs, models).

L0 core types, stdlib only. `client/api.py` parses raw JSON into these; `observe.py` gathers
them into a Snapshot; the planner reads them as values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

JsonScalar = str | int | float | bool | None


class JobStatus(StrEnum):
    VALIDATING_FILES = "validating_files"
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL


# A set built once: looking members up on the enum class on every call cost the planner
# measurable time at 20,000 jobs.
_TERMINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteFile:
    id: str
    filename: str
    bytes: int
    purpose: str
    created_at: int
    status: str | None = None

    @property
    def usable(self) -> bool:
        """Not failed or deleted: a job may train on it, a verdict in it stands."""
        return self.status not in ("error", "deleted")


def upload_order(file: RemoteFile) -> tuple[int, str]:
    """Files of one content, oldest first (by created_at, then id): racing uploads of one name
    agree on the first."""
    return file.created_at, file.id


def first_usable(files: Iterable[RemoteFile]) -> RemoteFile | None:
    """The oldest usable file in upload_order."""
    usable = [f for f in files if f.usable]
    return min(usable, key=upload_order) if usable else None


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteJob:
    id: str
    status: JobStatus
    model: str
    training_file: str
    validation_file: str | None = None
    method_type: str = "supervised"
    # Resolved hyperparameters as the server reports them (numbers once the job has started).
    hyperparameters: tuple[tuple[str, JsonScalar], ...] = ()
    suffix: str | None = None
    seed: int | None = None
    metadata: tuple[tuple[str, str], ...] = ()
    fine_tuned_model: str | None = None
    created_at: int = 0
    finished_at: int | None = None
    estimated_finish: int | None = None
    trained_tokens: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    error_param: str | None = None  # training_file / validation_file when validation failed
    # W&B integrations and the reinforcement grader as canonical JSON (sorted keys), or None.
    integrations_json: str | None = None
    grader_json: str | None = None

    def meta(self, key: str) -> str | None:
        # A scan of a handful of pairs: building a dict per call cost the planner measurably
        # (about 40,000 calls at 20,000 jobs). Backwards: the last pair of a repeated key wins.
        for name, value in reversed(self.metadata):
            if name == key:
                return value
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteModel:
    id: str
    owned_by: str
    created: int = 0
    shutdown_date: str | None = None  # base models being retired (YYYY-MM-DD), when given

    @property
    def is_fine_tuned(self) -> bool:
        return self.id.startswith("ft:")


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteDeployment:
    """A deployment as ARM shows it (Azure). sku compares case-insensitively (ARM's casing
    varies)."""

    name: str
    model: str
    model_version: str | None
    sku: str
    capacity: int | None
    provisioning_state: str

    @property
    def ready(self) -> bool:
        return self.provisioning_state == "Succeeded"


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """The remote as observed once. Tuples sorted by id.

    jobs: this workspace's managed jobs (metadata ftctl-workspace=W) plus any job named by a
    manifest's `adopt`. models: every model `GET /models` lists (base and fine-tuned).
    deployments: every deployment of the account (Azure); None on a provider without them.
    resource_jobs: every job of the resource, any workspace's (Azure, which lists them all
    anyway): which files any job still names. None where not listed.
    """

    workspace: str
    files: tuple[RemoteFile, ...] = ()
    jobs: tuple[RemoteJob, ...] = ()
    models: tuple[RemoteModel, ...] = ()
    deployments: tuple[RemoteDeployment, ...] | None = None
    resource_jobs: tuple[RemoteJob, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class JobEvent:
    """One `fine_tuning.job.event`. data holds step metrics (step, total_steps, train_loss...)."""

    id: str
    created_at: int
    level: str
    message: str
    type: str | None = None
    data: tuple[tuple[str, JsonScalar], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpoint:
    id: str
    fine_tuned_model_checkpoint: str
    step_number: int
    created_at: int = 0
    metrics: tuple[tuple[str, JsonScalar], ...] = ()  # step, train_loss, valid_loss, ...
