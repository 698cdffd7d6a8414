"""What every request handler gets: the store, the clock, the settings, and small helpers.

Helpers here cover what all endpoint modules share: ids with OpenAI's prefixes, JSON bodies,
`limit`/`after` query parsing, list envelopes, and the job view (status on read).
"""

from __future__ import annotations

import json
import random
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

from reconciler.emulator import answers, jsoncodec, lifecycle
from reconciler.emulator.azure_settings import AzureSettings
from reconciler.emulator.errors import invalid, not_found
from reconciler.emulator.scheduling import queue_delays
from reconciler.emulator.store import Row, Store

ORG_ID = "org-emulator"
ORG_SLUG = "emulator"  # the organization segment of ft: model ids
_ALNUM = string.ascii_letters + string.digits
_IDS = random.Random()


@dataclass
class Context:
    store: Store
    clock: Callable[[], float]
    speed: float
    max_running: int | None = None  # concurrently running jobs per organization; None = no cap
    # Fine-tuning closed to the organization (OpenAI's wind-down): job creation is refused,
    # everything else (files, listing, models, chat) keeps working.
    closed: bool = False
    # The Azure dialect's resource (None: the OpenAI dialect). Shared handlers ask it only
    # for what differs in the stored data itself, such as the fine-tuned model id format.
    azure: AzureSettings | None = None
    _delays: tuple[tuple[float, int], dict[str, float]] | None = None
    # List answers that can no longer change: finished jobs' (kept encoded by jobs_api) and
    # listed files' (files_api).
    finished_jobs: answers.Kept[answers.Encoded] = field(default_factory=answers.Kept)
    settled_files: answers.Kept[dict[str, Any]] = field(default_factory=answers.Kept)

    def now(self) -> float:
        return self.clock()

    def view(self, job: Row) -> lifecycle.JobView:
        """Status on read (see views)."""
        return self.views([job])[0]

    def views(self, jobs: list[Row]) -> list[lifecycle.JobView]:
        """Status on read; with a concurrency cap, queued time stretches while slots are full.

        A status not seen before is persisted (with its progress and finish time, one write for
        the whole list), so no later read, at any speed or clock, shows a job behind it."""
        delays = self.queue_delays() if self.max_running is not None else {}
        now = self.now()
        out, reached = [], []
        for job in jobs:
            v = lifecycle.view(job, now, self.speed, delays.get(job["id"], 0.0))
            if v.status != job.get("reached_status"):
                reached.append((job["id"], v.status, v.sim, v.finished_at))
                job.update(reached_status=v.status, reached_sim=max(v.sim, job["reached_sim"]),
                           finished_at=v.finished_at)
            out.append(v)
        if reached:
            self.store.record_reached(reached)
        return out

    def queue_delays(self) -> dict[str, float]:
        """Replayed over all jobs, so cached until the clock moves or the store is written."""
        assert self.max_running is not None
        key = (self.now(), self.store.generation)
        cached = self._delays
        if cached is None or cached[0] != key:
            delays = queue_delays(self.store.all_jobs(), self.max_running, key[0], self.speed)
            cached = self._delays = (key, delays)
        return cached[1]

    def resource(self) -> AzureSettings:
        """The Azure resource; only the Azure dialect's handlers ask for it."""
        assert self.azure is not None, "an Azure handler runs in the Azure dialect only"
        return self.azure

    def fine_tuned_model_name(self, base: str, suffix: str) -> str:
        """The id a succeeded job's model gets: OpenAI's `ft:` form, or Azure's
        `<base>.ft-<32 hex>` (Azure's ids carry no suffix and no organization)."""
        if self.azure is not None:
            return f"{base}.ft-{secrets.token_hex(16)}"
        return f"ft:{base}:{ORG_SLUG}:{suffix}:{new_id('', 8)}"

    def job_or_404(self, job_id: str) -> Row:
        job = self.store.get_job(job_id)
        if job is None:
            raise not_found("fine-tuning job", job_id, "fine_tuning_job_id")
        return job


def json_response(body: dict[str, Any] | bytes, status: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    """A JSON answer; `body` is a value, or one already encoded."""
    raw = body if isinstance(body, bytes) else jsoncodec.dumps(body)
    return Response(raw, status=status, headers=headers, mimetype="application/json")


def new_id(prefix: str, n: int = 24) -> str:
    """An id with OpenAI's prefix; random, not secret (a fast PRNG seeded from the OS)."""
    return prefix + "".join(_IDS.choices(_ALNUM, k=n))


def json_body(request: Request) -> dict[str, Any]:
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise invalid("We could not parse the JSON body of your request.") from None
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    return body


def limit_arg(request: Request, default: int, maximum: int) -> int:
    raw = request.args.get("limit")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(f"Invalid limit '{raw}': expected an integer.", "limit") from None
    if not 1 <= value <= maximum:
        raise invalid(f"Invalid limit {value}: must be between 1 and {maximum}.", "limit")
    return value


def page(items: list[dict[str, Any]], limit: int, *, ids: bool) -> dict[str, Any]:
    """A list envelope from up to limit+1 items (the extra one only says there is more)."""
    data = items[:limit]
    out: dict[str, Any] = {"object": "list", "data": data, "has_more": len(items) > limit}
    if ids:
        out["first_id"] = data[0]["id"] if data else None
        out["last_id"] = data[-1]["id"] if data else None
    return out


def after_slice(items: list[dict[str, Any]], after: str | None) -> list[dict[str, Any]]:
    """Items after the one with id `after` (all of them when absent or unknown)."""
    if after is None:
        return items
    for n, item in enumerate(items):
        if item["id"] == after:
            return items[n + 1 :]
    return items
