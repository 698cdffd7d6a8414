"""Day-to-day operations shared by follow, jobs, try and models: open the project's workspace,
resolve what the user named (a manifest name, a job id or a model id) and follow a job.

Names resolve through the project's manifests and this workspace's job metadata, read through
the model-state layer (planner.state), so these commands, show and plan agree on which version
serves. Raw ids (ftjob-…, ft:…) reach anything in the organization. Never
prints: values go back to the CLI, progress goes to the injected Reporter.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from reconciler.app import project
from reconciler.app.refreshing import OpenRemote
from reconciler.client.api import RemoteApi
from reconciler.diagnostics import Diagnostics, has_errors
from reconciler.errors import FtctlError, PermanentApiError
from reconciler.events import Reporter
from reconciler.model_names import is_fine_tuned_id
from reconciler.observe import sorted_deployments
from reconciler.planner.identity import META_NAME, META_WORKSPACE
from reconciler.planner.state import ModelState, build_state, version_number
from reconciler.snapshot import JobStatus, RemoteJob, RemoteModel, Snapshot
from reconciler.spec import Desired, Manifest
from reconciler.waiting import DEFAULT_POLL_INTERVAL, follow_jobs

JOB_PREFIX = "ftjob-"


class InvalidProject(FtctlError):
    """The project could not be loaded; the diagnostics say why (the CLI prints them)."""

    def __init__(self, diagnostics: Diagnostics, sources: Mapping[str, str]) -> None:
        super().__init__("the project has errors")
        self.diagnostics = diagnostics
        self.sources = sources


class NotFound(FtctlError):
    """What the user named is not a model of this workspace, nor a job or model id."""


class Refused(FtctlError):
    """The operation is not done as asked (e.g. deleting a managed model without --force)."""


@dataclass(frozen=True, slots=True)
class Workspace:
    """The loaded project and a connected remote: what every operation works on."""

    api: RemoteApi
    desired: Desired
    # Lookups by name and by adopted job id, built once: listings call them for every job.
    _by_name: Mapping[str, Manifest] = field(init=False, repr=False)
    adopted: Mapping[str, str] = field(init=False, repr=False)  # job id -> manifest name

    def __post_init__(self) -> None:
        manifests = self.desired.manifests
        object.__setattr__(self, "_by_name", {m.name: m for m in manifests})
        object.__setattr__(self, "adopted",
                           {m.spec.adopt: m.name for m in manifests if m.spec.adopt})

    @property
    def name(self) -> str:
        return self.desired.settings.workspace

    def manifest(self, name: str) -> Manifest | None:
        return self._by_name.get(name)


@contextlib.contextmanager
def open_workspace(
    directory: str, config: str | None, *, open_remote: OpenRemote
) -> Iterator[Workspace]:
    """Load the project (manifests only, no datasets) and connect to its provider."""
    # Models outlive their manifests: looking at them needs no manifest.
    loaded = project.load(directory, config, with_datasets=False, require_manifests=False)
    if loaded.desired is None or has_errors(loaded.diagnostics):
        raise InvalidProject(loaded.diagnostics, loaded.sources)
    with open_remote(loaded.desired.settings) as api:
        yield Workspace(api=api, desired=loaded.desired)


# -- who owns a job --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Owner:
    """Which ftctl workspace and name a job belongs to (all None: not made by ftctl).

    managed: this workspace's job (metadata, or a manifest's adopt). manifest: a manifest of
    this project names it (False for an orphan: managed jobs whose manifest was removed).
    """

    workspace: str | None = None
    name: str | None = None
    version: int | None = None
    managed: bool = False
    manifest: bool = False

    def to_json(self) -> dict[str, object]:
        return {"workspace": self.workspace, "name": self.name, "version": self.version,
                "managed": self.managed, "manifest": self.manifest}


def owner_of(ws: Workspace, job: RemoteJob) -> Owner:
    if job.id in ws.adopted:
        return Owner(workspace=ws.name, name=ws.adopted[job.id], version=version_number(job),
                     managed=True, manifest=True)
    workspace, name = job.meta(META_WORKSPACE), job.meta(META_NAME)
    if workspace is None:
        return Owner()
    mine = workspace == ws.name and name is not None
    return Owner(workspace=workspace, name=name, version=version_number(job) or None,
                 managed=mine, manifest=mine and ws.manifest(name or "") is not None)


# -- resolving names and ids -----------------------------------------------------------------


def is_job_id(ref: str) -> bool:
    return ref.startswith(JOB_PREFIX)


def is_model_id(ref: str) -> bool:
    return is_fine_tuned_id(ref)  # OpenAI's ft:… or Azure's <base>.ft-…


def get_job(ws: Workspace, job_id: str) -> RemoteJob:
    """A job by id, anywhere in the organization."""
    try:
        return ws.api.get_job(job_id)
    except PermanentApiError as exc:
        if exc.status == 404:
            raise NotFound(f"no fine-tuning job {job_id} in this organization") from None
        raise


def workspace_snapshot(ws: Workspace, *, all_jobs: list[RemoteJob] | None = None,
                       models: list[RemoteModel] | None = None) -> Snapshot:
    """This workspace's jobs (plus adopted ones), files (which hold the checks verdicts),
    every model and every deployment (Azure), as the planner sees them."""
    jobs = all_jobs if all_jobs is not None else ws.api.list_jobs(
        metadata={META_WORKSPACE: ws.name})
    mine = {j.id: j for j in jobs if j.meta(META_WORKSPACE) == ws.name}
    for adopt in sorted(ws.adopted):
        if adopt not in mine:
            found = [j for j in jobs if j.id == adopt] if all_jobs is not None else []
            with contextlib.suppress(NotFound):
                mine[adopt] = found[0] if found else get_job(ws, adopt)
    return Snapshot(
        workspace=ws.name,
        jobs=tuple(mine[k] for k in sorted(mine)),
        files=tuple(sorted(ws.api.list_files("fine-tune"), key=lambda f: f.id)),
        models=tuple(sorted(models if models is not None else ws.api.list_models(),
                            key=lambda m: m.id)),
        deployments=sorted_deployments(ws.api.list_deployments()),
    )


def model_state(ws: Workspace, name: str, snapshot: Snapshot | None = None) -> ModelState:
    """A name's state (versions oldest first, verdicts, serving); NotFound when no manifest or
    job has that name."""
    snapshot = snapshot or workspace_snapshot(ws)
    state = build_state(ws.desired, snapshot)[name]
    if not state.declared and not state.versions:
        raise NotFound(
            f"no model named {name!r} in workspace {ws.name!r}: name a manifest's "
            "metadata.name, or give a job id (ftjob-…) or a model id (ft:…)"
        )
    return state


def job_for(ws: Workspace, ref: str) -> tuple[RemoteJob, str]:
    """The job a reference means, with a label: a job id as is; a name's newest job in flight,
    else its latest job."""
    if is_job_id(ref):
        job = get_job(ws, ref)
        return job, owner_of(ws, job).name or job.id
    state = model_state(ws, ref)
    newest = state.in_flight[0] if state.in_flight else state.latest
    if newest is None:
        raise NotFound(f"{ref} has no fine-tuning job yet; `ftctl apply` starts one")
    return newest.job, ref


# -- follow ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowResult:
    name: str
    job: RemoteJob
    was_running: bool = False  # False: the job had already ended when follow began
    interrupted: bool = False

    @property
    def succeeded(self) -> bool:
        return self.job.status is JobStatus.SUCCEEDED and not self.interrupted


@dataclass(frozen=True, slots=True, kw_only=True)
class Pacing:
    """How often to poll, and the clock and sleep to do it with (injected by tests)."""

    poll_interval: float = DEFAULT_POLL_INTERVAL
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep


def follow(
    ws: Workspace, ref: str, reporter: Reporter, pacing: Pacing | None = None
) -> FollowResult:
    """Re-attach to a job (apply --wait's display and events) until it ends, or Ctrl-C."""
    pacing = pacing or Pacing()
    job, name = job_for(ws, ref)
    running = not job.status.is_terminal
    if running:
        reporter.message(f"Following {name}: {job.id} ({job.status.value}).")
    try:
        ended = follow_jobs(ws.api, {job.id: name}, reporter, clock=pacing.clock,
                            sleep=pacing.sleep, poll_interval=pacing.poll_interval)
    except KeyboardInterrupt:
        return FollowResult(name=name, job=job, was_running=running, interrupted=True)
    return FollowResult(name=name, job=ended.get(job.id, job), was_running=running)
