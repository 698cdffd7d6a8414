"""Azure deployments on the emulator's clock: provisioning state, deletion, and Azure's own
removal of idle fine-tuned deployments, as pure functions of (deployment row, now, speed).

Like jobs, nothing moves in the background: every read works out where a deployment stands.
Times are simulated seconds (real seconds x speed) since the row's marks:
- a PUT (created or changed) is `Accepted`, then `Creating`, then `Succeeded`; while a change
  provisions, the model it replaces keeps answering;
- a DELETE is `Deleting`, then the deployment is gone;
- a fine-tuned deployment with no inference for 15 days is gone (the clock starts at its last
  change or its last inference); a `DeveloperTier` one is gone 24 hours after it was created,
  whatever its use. No event or state announces either: the deployment just disappears.
No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ACCEPTED_SECONDS = 5.0  # simulated time in Accepted after a PUT
READY_SECONDS = 60.0  # simulated time from a PUT to Succeeded
DELETE_SECONDS = 20.0  # simulated time in Deleting
IDLE_LIMIT_SECONDS = 15 * 24 * 3600.0  # fine-tuned deployment without inference
DEVELOPER_LIFETIME_SECONDS = 24 * 3600.0  # DeveloperTier deployments, used or not
SKUS = ("GlobalStandard", "Standard", "DeveloperTier", "ProvisionedManaged")


@dataclass(frozen=True, slots=True)
class DeploymentView:
    state: str | None  # provisioningState; None: the deployment no longer exists
    serving: str | None  # the model inference reaches through it now, if any


GONE = DeploymentView(None, None)


def view(row: dict[str, Any], now: float, speed: float) -> DeploymentView:
    """Where deployment `row` stands at `now`."""
    if expires_at(row, speed) <= now:
        return GONE
    if row["deleting_at"] is not None:
        if (now - row["deleting_at"]) * speed >= DELETE_SECONDS:
            return GONE
        return DeploymentView("Deleting", None)
    state = provisioning_state((now - row["changed_at"]) * speed)
    serving = row["doc"]["serving"] if state == "Succeeded" else row["previous_model"]
    return DeploymentView(state, serving)


def provisioning_state(sim_since_put: float) -> str:
    if sim_since_put < ACCEPTED_SECONDS:
        return "Accepted"
    return "Creating" if sim_since_put < READY_SECONDS else "Succeeded"


def expires_at(row: dict[str, Any], speed: float) -> float:
    """The wall-clock time at which Azure removes the deployment on its own (inf: never)."""
    doc = row["doc"]
    if not doc["fine_tuned"]:
        return float("inf")
    if doc["sku"]["name"] == "DeveloperTier":
        return float(row["created_at"]) + DEVELOPER_LIFETIME_SECONDS / speed
    last_activity = max(float(row["changed_at"]), float(row["last_used_at"] or 0.0))
    return last_activity + IDLE_LIMIT_SECONDS / speed


def operation_status(kind: str, started_at: float, now: float, speed: float) -> str:
    """ARM's status of a long-running operation: InProgress until its work is done."""
    needed = READY_SECONDS if kind == "put" else DELETE_SECONDS
    return "Succeeded" if (now - started_at) * speed >= needed else "InProgress"


def canonical_sku(name: Any) -> str | None:
    """The sku name in Azure's documented casing; ARM's case sensitivity is unknown, so any
    casing is accepted and answered in this one."""
    if not isinstance(name, str):
        return None
    for sku in SKUS:
        if sku.lower() == name.lower():
            return sku
    return None
