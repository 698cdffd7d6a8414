"""Refresh: read the remote once into a Snapshot (this workspace's jobs, files, models, and
deployments where the provider has them; on Azure also every job of the resource).

The lists are independent, so they are read concurrently (a small bounded pool), and they
need only the settings: a Refresh starts them before the manifests are loaded. Jobs named by
manifests' `spec.adopt` are fetched by id once the manifests are known. No filtering beyond
the workspace: the planner decides which files (content-addressed names) and models matter.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from reconciler.client.api import RemoteApi
from reconciler.errors import PermanentApiError
from reconciler.planner.identity import META_WORKSPACE
from reconciler.snapshot import RemoteDeployment, RemoteJob, Snapshot
from reconciler.spec import Desired, Settings

READ_WORKERS = 4
STOP_WAIT = 10.0  # seconds a stopped refresh waits for the requests already sent


def observe(api: RemoteApi, desired: Desired) -> Snapshot:
    """The remote as it is now, tuples sorted by id."""
    with Refresh(api, desired.settings) as refresh:
        return refresh.snapshot(desired)


class Refresh:
    """The refresh under way: the lists are read from construction on, knowing the settings
    only (which workspace, which provider), so that the manifests can be loaded meanwhile;
    snapshot() adds the jobs the manifests adopt and waits for the rest. Leaving the `with`
    block without a snapshot (the manifests turned out invalid) stops the client: no request
    is sent or retried any more, the requests already sent are waited for (up to STOP_WAIT),
    and every answer is dropped.
    """

    def __init__(self, api: RemoteApi, settings: Settings) -> None:
        self._api = api
        self._workspace = settings.workspace
        # Azure has no metadata filter: its client lists every job and filters them itself,
        # so the whole list is read once here and kept (file cleanup must see every
        # workspace's).
        self._every = settings.provider.speaks_azure
        self._pool = ThreadPoolExecutor(max_workers=READ_WORKERS,
                                        thread_name_prefix="ftctl-refresh")
        metadata = None if self._every else {META_WORKSPACE: self._workspace}
        self._jobs = self._pool.submit(api.list_jobs, metadata=metadata)
        self._files = self._pool.submit(api.list_files, "fine-tune")
        self._models = self._pool.submit(api.list_models)
        self._deployments = self._pool.submit(api.list_deployments)
        self._reads: tuple[Future[Any], ...] = (
            self._jobs, self._files, self._models, self._deployments)
        self._taken = False

    def __enter__(self) -> Refresh:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._taken:
            self._api.stop()
            # Whatever a request in flight uses (an in-process emulator's database) must not
            # be closed under it; the bound keeps a server that never answers from holding up
            # the load's diagnostics.
            wait(self._reads, timeout=STOP_WAIT)
        self._pool.shutdown(wait=self._taken, cancel_futures=True)

    def snapshot(self, desired: Desired) -> Snapshot:
        """The remote as it is now (tuples sorted by id), once every read is in."""
        self._taken = True
        api, workspace = self._api, self._workspace
        adopt_ids = sorted({m.spec.adopt for m in desired.manifests if m.spec.adopt})
        adopted = list(self._pool.map(lambda job_id: _get_adopted(api, job_id), adopt_ids))
        listed = self._jobs.result()
        mine = [j for j in listed if j.meta(META_WORKSPACE) == workspace] if self._every \
            else listed
        return Snapshot(
            workspace=workspace,
            jobs=_by_id([*mine, *(j for j in adopted if j is not None)]),
            files=tuple(sorted(self._files.result(), key=lambda f: f.id)),
            models=tuple(sorted(self._models.result(), key=lambda m: m.id)),
            deployments=sorted_deployments(self._deployments.result()),
            resource_jobs=_by_id(listed) if self._every else None,
        )


def _get_adopted(api: RemoteApi, job_id: str) -> RemoteJob | None:
    """An adopted job, or None when it does not exist (the planner reports that)."""
    try:
        return api.get_job(job_id)
    except PermanentApiError as exc:
        if exc.status == 404:
            return None
        raise


def sorted_deployments(found: list[RemoteDeployment] | None,
                        ) -> tuple[RemoteDeployment, ...] | None:
    return None if found is None else tuple(sorted(found, key=lambda d: d.name))


def _by_id(jobs: Iterable[RemoteJob]) -> tuple[RemoteJob, ...]:
    unique = {job.id: job for job in jobs}
    return tuple(unique[key] for key in sorted(unique))
