"""Job status, events and checkpoints as pure functions of (job record, now, speed).

No background threads move jobs: every read works out where a job is on its timeline. The
timeline is in simulated seconds since creation (real seconds x speed), shifted by time spent
paused, and ends early when the job was cancelled or its dataset failed validation.

What a read has seen is persisted by the caller (the record's `reached_*` columns), and a view
never goes behind it: a job that reached a terminal status keeps it, its finish time and its
model, and progress never moves back, whatever the speed (another emulator run on the same
database) or the clock does. No I/O here.
"""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass
from typing import Any

VALIDATE_SECONDS = 15.0  # simulated time spent in validating_files
QUEUE_SECONDS = 10.0  # simulated time spent queued (before any concurrency wait)
TRAIN_BASE_SECONDS = 60.0  # fixed simulated start-up cost of training
TOKENS_PER_SECOND = 1000.0  # simulated training throughput
METRIC_EVENTS = 10  # step-metric events per job, spread over training
TERMINAL = ("succeeded", "failed", "cancelled")


@dataclass(frozen=True, slots=True)
class Timeline:
    """Simulated-second offsets from creation at which each phase ends."""

    validated: float
    started: float
    finished: float


@dataclass(frozen=True, slots=True)
class JobView:
    status: str
    sim: float  # simulated seconds of progress so far
    step: int  # training steps done
    finished_at: int | None
    estimated_finish: int | None
    timeline: Timeline
    at: float  # the wall-clock time this view describes

    def stamp(self, job: dict[str, Any], sim: float, speed: float) -> int:
        """When the job reached simulated offset `sim`: never after it finished, never after
        `at`. A job that progressed under another speed (an earlier emulator run on the same
        database) would otherwise show events after its finish or in the future."""
        ceiling = self.at if self.finished_at is None else float(self.finished_at)
        return int(min(real_at(job, sim, speed), ceiling))


def timeline(doc: dict[str, Any], extra_queue: float = 0.0) -> Timeline:
    train = TRAIN_BASE_SECONDS + doc["trained_tokens"] / TOKENS_PER_SECOND
    started = VALIDATE_SECONDS + QUEUE_SECONDS + extra_queue
    return Timeline(VALIDATE_SECONDS, started, started + train)


def real_at(job: dict[str, Any], sim: float, speed: float) -> float:
    """The wall-clock time at which the job reaches simulated offset `sim`."""
    return float(job["created_at"]) + float(job["paused_total"]) + sim / speed


def view(job: dict[str, Any], now: float, speed: float, extra_queue: float = 0.0) -> JobView:
    """Where `job` stands at `now`: never behind what its record says it already reached."""
    doc = job["doc"]
    tl = timeline(doc, extra_queue)
    reached = job.get("reached_status")
    if reached in TERMINAL:
        sim = float(job["reached_sim"])
        return JobView(reached, sim, _step(doc, tl, sim), int(job["finished_at"]), None, tl, now)
    if job["cancelled_at"] is not None:
        # Cancelling is refused once a job is terminal, so a cancelled job stays cancelled.
        sim = _progress(job, job["cancelled_at"], speed)
        return JobView("cancelled", sim, _step(doc, tl, sim), int(job["cancelled_at"]), None, tl,
                       now)
    stop = now if job["paused_at"] is None else min(now, job["paused_at"])
    sim = _progress(job, stop, speed)
    failed = doc.get("error") is not None
    end = tl.validated if failed else tl.finished
    if sim >= end:
        status = "failed" if failed else "succeeded"
        finished = min(int(real_at(job, end, speed)), int(now))  # not after the first sight
        return JobView(status, end, _step(doc, tl, end), finished, None, tl, now)
    step = _step(doc, tl, sim)
    if job["paused_at"] is not None:
        return JobView("paused", sim, step, None, None, tl, now)
    status = "validating_files" if sim < tl.validated else "queued"
    if sim >= tl.started:
        status = "running"
    eta = int(real_at(job, end, speed)) if status == "running" else None
    return JobView(status, sim, step, None, eta, tl, now)


def _progress(job: dict[str, Any], stop: float, speed: float) -> float:
    """Simulated seconds of progress at real time `stop`, never less than already reached."""
    sim = (stop - float(job["created_at"]) - float(job["paused_total"])) * speed
    return max(0.0, sim, float(job.get("reached_sim") or 0.0))


def _step(doc: dict[str, Any], tl: Timeline, sim: float) -> int:
    if sim <= tl.started or doc.get("error") is not None:
        return 0
    frac = min(1.0, (sim - tl.started) / (tl.finished - tl.started))
    return int(doc["total_steps"] * frac)


def loss_at(step: int, total: int) -> float:
    """A smoothly falling training loss."""
    return round(0.15 + 2.2 * math.exp(-4.0 * step / max(total, 1)), 4)


def accuracy_at(step: int, total: int) -> float:
    return round(0.95 - 0.6 * math.exp(-4.0 * step / max(total, 1)), 4)


def _sim_of_step(doc: dict[str, Any], tl: Timeline, step: int) -> float:
    total: int = doc["total_steps"]
    return tl.started + (tl.finished - tl.started) * step / max(total, 1)


def _ident(prefix: str, job_id: str, n: int) -> str:
    digest = hashlib.sha256(f"{job_id}/{prefix}/{n}".encode()).hexdigest()[:24]
    return f"{prefix}{digest}"


def checkpoint_steps(doc: dict[str, Any]) -> list[int]:
    """Steps at which checkpoints are kept: the end of each of the last three epochs."""
    per_epoch = max(1, doc["total_steps"] // max(doc["n_epochs"], 1))
    epochs = doc["n_epochs"]
    return [e * per_epoch for e in range(max(1, epochs - 2), epochs + 1)]


def checkpoints(job: dict[str, Any], v: JobView, speed: float) -> list[dict[str, Any]]:
    """Checkpoints reached so far, newest first."""
    doc = job["doc"]
    if v.status == "failed":
        return []
    out = []
    for step in checkpoint_steps(doc):
        if step > v.step:
            continue
        total = doc["total_steps"]
        out.append(
            {
                "id": _ident("ftckpt_", job["id"], step),
                "object": "fine_tuning.job.checkpoint",
                "created_at": v.stamp(job, _sim_of_step(doc, v.timeline, step), speed),
                "fine_tuned_model_checkpoint": f"{doc['fine_tuned_model']}:ckpt-step-{step}",
                "fine_tuning_job_id": job["id"],
                "step_number": step,
                "metrics": {
                    "step": float(step),
                    "train_loss": loss_at(step, total),
                    "train_mean_token_accuracy": accuracy_at(step, total),
                    "valid_loss": round(loss_at(step, total) * 1.05, 4),
                    "valid_mean_token_accuracy": round(accuracy_at(step, total) * 0.98, 4),
                    "full_valid_loss": round(loss_at(step, total) * 1.06, 4),
                    "full_valid_mean_token_accuracy": round(accuracy_at(step, total) * 0.97, 4),
                },
            }
        )
    return out[::-1]


def events(job: dict[str, Any], v: JobView, speed: float) -> list[dict[str, Any]]:
    """Events that have happened so far, newest first."""
    raw = [e for e in _script(job, v) if e[0] <= v.sim]
    if v.status == "cancelled":
        raw.append((v.sim, "info", "Fine-tuning job cancelled", None))
    elif v.status == "paused":
        raw.append((v.sim, "info", "Fine-tuning job paused", None))
    out = []
    for n, (sim, level, message, data) in enumerate(raw):
        event: dict[str, Any] = {
            "id": _ident("ftevent-", job["id"], n),
            "object": "fine_tuning.job.event",
            "created_at": v.stamp(job, sim, speed),
            "level": level,
            "message": message,
            "type": "metrics" if data else "message",
        }
        if data:
            event["data"] = data
        out.append(event)
    return out[::-1]


Scripted = tuple[float, str, str, dict[str, Any] | None]


def _script(job: dict[str, Any], v: JobView) -> list[Scripted]:
    doc, tl = job["doc"], v.timeline
    script: list[Scripted] = [
        (0.0, "info", f"Created fine-tuning job: {job['id']}", None),
        (0.0, "info", f"Validating training file: {doc['training_file']}", None),
    ]
    if doc.get("error") is not None:
        return [*script, (tl.validated, "error", doc["error"]["message"], None)]
    script.append((tl.validated, "info", "Files validated, moving job to queued state", None))
    script.append((tl.started, "info", "Fine-tuning job started", None))
    total = doc["total_steps"]
    marks = sorted({max(1, round(k * total / METRIC_EVENTS)) for k in range(1, METRIC_EVENTS + 1)})
    ckpts = set(checkpoint_steps(doc))
    for step in sorted(set(marks) | ckpts):
        sim = _sim_of_step(doc, tl, step)
        if step in marks:
            data = {
                "step": step,
                "train_loss": loss_at(step, total),
                "train_mean_token_accuracy": accuracy_at(step, total),
                "total_steps": total,
            }
            message = f"Step {step}/{total}: training loss={loss_at(step, total):.2f}"
            script.append((sim, "info", message, data))
        if step in ckpts:
            script.append((sim, "info", f"Checkpoint created at step {step}", None))
    script.append((tl.finished, "info", f"New fine-tuned model created: {doc['fine_tuned_model']}",
                   None))
    script.append((tl.finished, "info", "The job has successfully completed", None))
    return script


def result_csv(doc: dict[str, Any]) -> bytes:
    """The result file of a succeeded job: one CSV row of metrics per step."""
    return _result_csv(doc["total_steps"])


@functools.lru_cache(maxsize=64)
def _result_csv(total: int) -> bytes:
    # A function of the step count alone, and a file listing asks for every result file's size.
    lines = ["step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"]
    for step in range(1, total + 1):
        loss, acc = loss_at(step, total), accuracy_at(step, total)
        lines.append(f"{step},{loss},{acc},{round(loss * 1.05, 4)},{round(acc * 0.98, 4)}")
    return ("\n".join(lines) + "\n").encode()
