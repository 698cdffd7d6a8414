"""Refresh: read the remote once into a Snapshot (this workspace's jobs, files, models, and
deployments where the provider has them; on Azure also every job of the resource).

The lists are independent, so they are read concurrently (a small bounded pool); jobs
named by manifests' `spec.adopt` are fetched by id. No filtering beyond the workspace: the
planner decides which files (content-addressed names) and models matter.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from reconciler.client.api import RemoteApi
from reconciler.errors import PermanentApiError
from reconciler.planner.identity import META_WORKSPACE
from reconciler.snapshot import RemoteDeployment, RemoteJob, Snapshot
from reconciler.spec import Desired

READ_WORKERS = 4


def observe(api: RemoteApi, desired: Desired) -> Snapshot:
    """The remote as it is now, tuples sorted by id."""
    workspace = desired.settings.workspace
    adopt_ids = sorted({m.spec.adopt for m in desired.manifests if m.spec.adopt})
    # Azure has no metadata filter: its client lists every job and filters them itself, so
    # the whole list is read once here and kept (file cleanup must see every workspace's).
    every = desired.settings.provider.speaks_azure
    with ThreadPoolExecutor(max_workers=READ_WORKERS) as pool:
        jobs = pool.submit(api.list_jobs, metadata=None if every else {META_WORKSPACE: workspace})
        files = pool.submit(api.list_files, "fine-tune")
        models = pool.submit(api.list_models)
        deployments = pool.submit(api.list_deployments)
        adopted = list(pool.map(lambda job_id: _get_adopted(api, job_id), adopt_ids))
        listed = jobs.result()
        mine = [j for j in listed if j.meta(META_WORKSPACE) == workspace] if every else listed
        return Snapshot(
            workspace=workspace,
            jobs=_by_id([*mine, *(j for j in adopted if j is not None)]),
            files=tuple(sorted(files.result(), key=lambda f: f.id)),
            models=tuple(sorted(models.result(), key=lambda m: m.id)),
            deployments=sorted_deployments(deployments.result()),
            resource_jobs=_by_id(listed) if every else None,
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
