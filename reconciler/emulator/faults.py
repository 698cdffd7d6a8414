"""Fault injection: a seeded draw per request decides whether (and how) the answer misbehaves.

Spec (`ftctl emulator serve --faults`): a comma list of `kind:probability`, e.g.
`429:0.1,500:0.05,503:0.05,reset:0.05,lost:0.05,slow:0.02`.
- 429/500/502/503/504: answer that status with OpenAI's error body (429 carries Retry-After)
  and do nothing else.
- reset: drop the connection before doing anything.
- lost: do the work (the write commits), then drop the connection instead of answering.
- slow: sleep, then answer normally.
A dropped connection is `ConnectionDropped`, raised out of the WSGI app; the real server turns it
into a closed socket, and in-process tests map it to their transport's connection error.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

KINDS = ("429", "500", "502", "503", "504", "reset", "lost", "slow")


class ConnectionDropped(ConnectionError):  # noqa: N818 - it is an event, not an error class
    """The emulator chose to drop this connection without answering."""


class FaultSpecError(ValueError):
    """The --faults text is malformed."""


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Parsed fault spec: (kind, probability) pairs in the order given."""

    rules: tuple[tuple[str, float], ...] = ()
    retry_after: float = 1.0  # seconds sent in Retry-After on 429
    slow_seconds: float = 0.5


def parse(spec: str | None) -> FaultPlan:
    if not spec:
        return FaultPlan()
    rules = []
    for item in spec.split(","):
        kind, sep, prob = item.strip().partition(":")
        if not sep or kind not in KINDS:
            raise FaultSpecError(
                f"bad fault {item.strip()!r}: expected KIND:PROBABILITY with KIND one of "
                + ", ".join(KINDS)
            )
        try:
            p = float(prob)
        except ValueError:
            raise FaultSpecError(f"bad probability in {item.strip()!r}") from None
        if not 0.0 <= p <= 1.0:
            raise FaultSpecError(f"probability out of [0, 1] in {item.strip()!r}")
        rules.append((kind, p))
    if sum(p for _, p in rules) > 1.0:
        raise FaultSpecError("fault probabilities add up to more than 1")
    return FaultPlan(tuple(rules))


class FaultInjector:
    """Thread-safe seeded draws; the same seed and request order give the same faults."""

    def __init__(self, plan: FaultPlan, seed: int | None) -> None:
        self.plan = plan
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def draw(self) -> str | None:
        if not self.plan.rules:
            return None
        with self._lock:
            x = self._rng.random()
        for kind, p in self.plan.rules:
            if x < p:
                return kind
            x -= p
        return None
