"""Dependency order of plan steps: waves of steps whose dependencies are all in earlier waves.

L1 pure logic, no I/O. A topological sort is enough for tens of models (no DAG walker). Within
a wave steps keep the plan's order, so the waves are deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.plan import Action, Step


class CycleError(ValueError):
    """Steps depend on each other in a circle (a `{ref:}` cycle the loader let through)."""


def waves(steps: Iterable[Step]) -> tuple[tuple[Step, ...], ...]:
    """Group steps into waves: wave N depends only on waves < N.

    Dependencies on keys that are not in `steps` (cut away by --target, or already done) are
    treated as satisfied. NOOP steps are reports, not work, and are left out.
    """
    pending = [s for s in steps if s.action is not Action.NOOP]
    keys = {s.key for s in pending}
    done: set[str] = set()
    result: list[tuple[Step, ...]] = []
    while pending:
        ready = tuple(
            s for s in pending if all(d in done or d not in keys for d in s.depends_on)
        )
        if not ready:
            names = ", ".join(sorted(s.key for s in pending))
            raise CycleError(f"steps depend on each other in a cycle: {names}")
        result.append(ready)
        done.update(s.key for s in ready)
        pending = [s for s in pending if s.key not in done]
    return tuple(result)


def dependents(steps: Iterable[Step], key: str) -> tuple[str, ...]:
    """Keys of every step that depends, directly or not, on `key` (to skip after a failure)."""
    steps = tuple(steps)
    found: set[str] = set()
    frontier = {key}
    while frontier:
        nxt = {s.key for s in steps if frontier & set(s.depends_on)} - found
        found |= nxt
        frontier = nxt
    return tuple(sorted(found))
