"""The one retry layer: every request to the provider is tried at most `max_retries + 1` times
(6 by default) in all, with waits from Retry-After or exponential backoff with full jitter, and
each retry announced (the CLI prints it on stderr).

- wait: `retry-after-ms`, then `Retry-After` (seconds or an HTTP date) when the server gives
  one, capped at `max_retry_after` (60 s); otherwise uniform(0, min(backoff_cap,
  backoff_base * 2**n)). `sleep` is injected so tests run instantly.
- a write that must not be replayed blindly (a create whose answer may be lost) passes a
  `lookup`: before every re-send it asks whether the earlier send landed after all, and what it
  finds is returned instead of writing again. The look-up's own reads are retried as any read;
  when they fail for good, so does the write (re-sending without knowing could duplicate it).
- requests made inside `send` on the same thread are tried once each: the outer loop owns the
  budget, so retries never multiply (RemoteApi and the executor never loop around it).
- out of attempts, the last error is raised saying how many attempts were made.
- one outage, one voice: when the provider cannot be reached, requests running at the same
  time (the refresh reads its lists in parallel) all fail alike. Only the first of them
  announces its retries, and once one has spent its budget on a connection failure the
  others give up at their next one instead of each spending a budget of their own. Requests
  started after that get their full budget again.
- stopped: once `stop()` is called (a refresh whose answers are no longer wanted, because the
  manifests it was started beside turned out invalid), no request starts another attempt and
  a wait between attempts ends at once; the request raises Stopped.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from reconciler.errors import RetryableApiError, Stopped

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryNotice:
    """A request failed transiently and will be tried again after `delay` seconds."""

    label: str  # "GET fine_tuning/jobs"
    delay: float
    attempt: int  # the attempt about to be made, 2..attempts
    attempts: int
    reason: str  # "HTTP 503", "no answer in time", "connection failed"

    def __str__(self) -> str:
        return (f"retrying {self.label} in {_seconds(self.delay)} s "
                f"(attempt {self.attempt} of {self.attempts}): {self.reason}")


class RetryPolicy:
    """Budget, waits and announcements of retries, shared by every request of one client."""

    def __init__(
        self,
        *,
        max_retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        max_retry_after: float = 60.0,
        rng: random.Random | None = None,
        on_retry: Callable[[RetryNotice], None] | None = None,
    ) -> None:
        self.max_retries = max_retries
        self._stopped = threading.Event()
        # The real clock's waits are the stop event's, so that stop() cuts them short.
        self._sleep: Callable[[float], object] = (
            self._stopped.wait if sleep is time.sleep else sleep)
        self._backoff = (backoff_base, backoff_cap, max_retry_after)
        self._rng = rng or random.Random()
        self._on_retry = on_retry
        self._inside = threading.local()  # set while a send runs on this thread
        self._outage = _Outage()

    def run(
        self, label: str, send: Callable[[], T], lookup: Callable[[], T | None] | None = None
    ) -> T:
        """send until it succeeds, fails permanently, or the budget is spent (module doc)."""
        if self.in_send():
            return send()
        if self._stopped.is_set():
            raise Stopped(f"{label}: not sent, the client was stopped")
        try:
            return self._attempts(label, send, lookup)
        finally:
            self._outage.release()

    def _attempts(
        self, label: str, send: Callable[[], T], lookup: Callable[[], T | None] | None
    ) -> T:
        attempts, outages_before = self.max_retries + 1, self._outage.given_up
        for attempt in range(1, attempts + 1):
            if attempt > 1 and lookup is not None:
                found = lookup()
                if found is not None:
                    return found
            try:
                answer = self._once(send)
            except RetryableApiError as error:
                unreachable = _reason(error) == "connection failed"
                another_gave_up = self._outage.given_up != outages_before
                if attempt == attempts or (unreachable and another_gave_up):
                    if unreachable:
                        self._outage.gave_up()
                    raise _gave_up(error, attempt) from None
                delay = self.delay(attempt - 1, error.retry_after)
                if self._on_retry is not None and (not unreachable or self._outage.voice()):
                    self._on_retry(RetryNotice(label, delay, attempt + 1, attempts,
                                               _reason(error)))
                self._sleep(delay)
                if self._stopped.is_set():
                    raise Stopped(f"{label}: not retried, the client was stopped") from None
            else:
                return answer
        raise AssertionError("unreachable: the last attempt returns or raises")

    def stop(self) -> None:
        """No request of this client starts another attempt (module doc: stopped)."""
        self._stopped.set()

    def in_send(self) -> bool:
        """Whether the calling thread is inside a send this policy runs (its requests are tried
        once: the outer loop owns the budget)."""
        return bool(getattr(self._inside, "active", False))

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number attempt+1."""
        base, cap, max_after = self._backoff
        if retry_after is not None and retry_after > 0:
            return min(retry_after, max_after)
        return self._rng.uniform(0.0, min(cap, base * 2**attempt))

    def _once(self, send: Callable[[], T]) -> T:
        """Run send with retries switched off for the requests it makes on this thread."""
        self._inside.active = True
        try:
            return send()
        finally:
            self._inside.active = False


class _Outage:
    """The provider unreachable for every thread of one client at once (module doc)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._speaker: int | None = None  # the thread announcing this outage's retries
        # How many requests have spent their whole budget failing to connect. A request that
        # sees this move while it runs was caught in the same outage and stops there; one
        # started later gets its full budget.
        self.given_up = 0

    def voice(self) -> bool:
        """Whether this thread announces connection retries (the first to need one does)."""
        me = threading.get_ident()
        with self._lock:
            if self._speaker is None:
                self._speaker = me
            return self._speaker == me

    def gave_up(self) -> None:
        with self._lock:
            self.given_up += 1

    def release(self) -> None:
        """This thread's request is over: if it was the speaker, the next outage gets one."""
        with self._lock:
            if self._speaker == threading.get_ident():
                self._speaker = None


def _seconds(delay: float) -> str:
    return f"{delay:.0f}" if delay >= 10 or delay == int(delay) else f"{delay:.1f}"


def _reason(error: RetryableApiError) -> str:
    """A few words on why a retry is needed, for the retry notice."""
    if error.status is not None:
        return f"HTTP {error.status}"
    return "no answer in time" if "did not answer" in error.message else "connection failed"


def _gave_up(error: RetryableApiError, attempts: int) -> RetryableApiError:
    """The last error, its message saying the budget is spent (same type, status, request)."""
    if attempts == 1:
        return error
    text = f"{error.message} (gave up after {attempts} attempts)"
    error.message = text
    error.args = (text,)
    return error
