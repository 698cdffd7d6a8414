"""The optional cap on concurrently running jobs: how long each job waits for a free slot.

Pure: from all job records (in creation order) and the cap, replay who held which slot and
return each job's extra queued time in simulated seconds. Recomputed on read, like status.
"""

from __future__ import annotations

from typing import Any

from reconciler.emulator import lifecycle


def queue_delays(
    jobs: list[dict[str, Any]], cap: int, now: float, speed: float
) -> dict[str, float]:
    slots = [float("-inf")] * max(cap, 1)  # the wall-clock time each slot becomes free
    delays: dict[str, float] = {}
    for job in sorted(jobs, key=lambda j: (j["created_at"], j["seq"])):
        doc = job["doc"]
        if doc.get("error") is not None:
            continue
        base = lifecycle.timeline(doc)
        ready = lifecycle.real_at(job, base.started, speed)
        slot = min(range(len(slots)), key=slots.__getitem__)
        start = max(ready, slots[slot])
        cancelled = job["cancelled_at"]
        if cancelled is not None and cancelled <= start:
            continue  # cancelled while still queued: never held a slot
        delays[job["id"]] = (start - ready) * speed
        end = start + (base.finished - base.started) / speed
        if job["paused_at"] is not None:
            end = float("inf")  # a paused job keeps its slot until resumed or cancelled
        if cancelled is not None:
            end = min(end, cancelled)
        slots[slot] = end
    return delays
