"""The remote side of each step: upload, create, cancel, delete (models; on Azure also jobs
of retired versions and dataset files nothing needs), deploy, undeploy, done idempotently.

Runs in the executor's worker threads. Each action first looks for its own earlier effect
(a file under its content-addressed name, a job under its `ftctl-op` operation id), so a
repeated or resumed apply never duplicates anything; after a create, the cancel-later-duplicate
rule settles races between applies: of the live jobs with one operation id, the earliest (by
created_at, then the API's newest-first list order) survives and later ones are cancelled.
A deployment already serving what a step asks for (or already gone) is left as it is.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from reconciler.errors import PermanentApiError
from reconciler.events import Reporter
from reconciler.paths import inside
from reconciler.plan import (
    CancelJob,
    CreateJob,
    DeleteFile,
    DeleteJob,
    DeleteModel,
    DeployModel,
    FromStep,
    RemoveDeployment,
    Step,
    UploadFile,
)
from reconciler.planner.identity import META_OP, META_WORKSPACE
from reconciler.snapshot import JobStatus, RemoteDeployment, RemoteFile, RemoteJob
from reconciler.waiting import JobReader

_DEAD = (JobStatus.FAILED, JobStatus.CANCELLED)
Outputs = tuple[dict[str, str], str, RemoteJob | None]  # (values for FromStep, note, job)
MODEL_OUTPUT = "fine_tuned_model"


class Deployments(Protocol):
    """The part of ArmClient (reconciler.client.arm) the executor uses."""

    def get_deployment(self, name: str) -> RemoteDeployment | None: ...

    def put_deployment(self, name: str, *, model: str, sku: str, capacity: int,
                       model_version: str = ..., wait: bool = ...) -> RemoteDeployment: ...

    def delete_deployment(self, name: str, *, wait: bool = ...) -> None: ...


class Remote(JobReader, Protocol):
    """The part of RemoteApi (reconciler.client.api) the executor uses."""

    @property
    def arm(self) -> Deployments | None: ...

    def find_file(self, filename: str, size: int, purpose: str = "fine-tune"
                  ) -> RemoteFile | None: ...

    def upload_file(
        self,
        path: str,
        *,
        filename: str,
        purpose: str = "fine-tune",
        on_progress: Callable[[int, int], None] | None = None,
    ) -> RemoteFile: ...

    def create_job(self, body: dict[str, Any]) -> RemoteJob: ...

    def find_job_by_operation(self, workspace: str, op_id: str) -> RemoteJob | None: ...

    def list_jobs(self, *, metadata: Mapping[str, str] | None = None) -> list[RemoteJob]: ...

    def cancel_job(self, job_id: str) -> RemoteJob: ...

    def delete_model(self, model_id: str) -> None: ...

    def delete_job(self, job_id: str) -> None: ...

    def get_file(self, file_id: str) -> RemoteFile: ...

    def delete_file(self, file_id: str) -> None: ...


class StepFailed(Exception):
    """A step cannot be carried out (a FromStep value missing, a dataset changed since the plan)."""




class Actions:
    """Carries out one step's remote work. outputs: earlier steps' values, by step key."""

    def __init__(self, api: Remote, reporter: Reporter, *, workspace: str, root: str,
                 outputs: Mapping[str, Mapping[str, str]]) -> None:
        self.api, self.reporter, self.workspace = api, reporter, workspace
        self.root, self.outputs = root, outputs

    def perform(self, step: Step) -> Outputs:
        payload = step.payload
        if isinstance(payload, UploadFile):
            found, note = self._upload(step, payload)
            return {"id": found.id, "file_id": found.id, "filename": found.filename}, note, None
        if isinstance(payload, CreateJob):
            job, note = self._create(payload)
            return job_outputs(job), note, job
        if isinstance(payload, CancelJob):
            return {"id": payload.job_id}, self._cancel(payload), None
        if isinstance(payload, DeleteModel):
            return {"id": payload.model_id}, self._delete(payload), None
        if isinstance(payload, DeployModel):
            return self._deploy(payload)
        if isinstance(payload, RemoveDeployment):
            return {"id": payload.deployment}, self._undeploy(payload), None
        if isinstance(payload, DeleteJob):
            return {"id": payload.job_id}, self._delete_job(payload), None
        if isinstance(payload, DeleteFile):
            return {"id": payload.file_id}, self._delete_file(payload), None
        return {}, "", None  # NoChange: reporting only (NOOP steps are not scheduled anyway)

    def _upload(self, step: Step, p: UploadFile) -> tuple[RemoteFile, str]:
        present = self._find_file(p)
        if present is not None:
            return present, "already present"
        path = os.path.join(self.root, p.repo_path)
        if not inside(self.root, path):
            # A saved plan is a file anyone could edit: never send bytes from outside the project.
            raise StepFailed(f"{p.repo_path} is outside the project; refusing to upload it")
        if _sha256_of(path) != p.sha256:
            # The name promises these exact bytes: never upload other content under it.
            raise StepFailed(f"{p.repo_path} changed since the plan was made; plan again")

        def progress(sent: int, total: int) -> None:
            self.reporter.upload_progress(step, sent, total)

        # The client retries (looking for the file before each re-send); its answer is the file.
        uploaded = self.api.upload_file(path, filename=p.filename, purpose=p.purpose,
                                        on_progress=progress)
        return uploaded, ""

    def _find_file(self, p: UploadFile) -> RemoteFile | None:
        """The oldest usable file under the content-addressed name (racing uploads agree)."""
        return self.api.find_file(p.filename, p.bytes, p.purpose)

    def _create(self, p: CreateJob) -> tuple[RemoteJob, str]:
        body = self._body(p)
        op = dict(p.metadata).get(META_OP)
        earlier = self._lookup(op)
        if earlier is not None:
            return self._survivor(op, earlier), "found by operation id (an earlier run created it)"
        # The client owns retries and looks the operation up before re-sending a lost create.
        job = self.api.create_job(body)
        return self._survivor(op, job), ""

    def _lookup(self, op: str | None) -> RemoteJob | None:
        if op is None:
            return None
        job = self.api.find_job_by_operation(self.workspace, op)
        return job if job is not None and job.status not in _DEAD else None

    def _survivor(self, op: str | None, mine: RemoteJob) -> RemoteJob:
        """Cancel-later-duplicate: of the live jobs with this operation id, keep the earliest."""
        if op is None:
            return mine
        listed = self.api.list_jobs(metadata={META_WORKSPACE: self.workspace, META_OP: op})
        live = [j for j in listed if j.status not in _DEAD] or [mine]
        # The API lists newest first, which breaks created_at ties (whole seconds) by creation.
        order = {j.id: i for i, j in enumerate(listed)}
        keep = min(live, key=lambda j: (j.created_at, -order.get(j.id, -1)))
        for job in live:
            if job.id != keep.id:
                # Cancel every later duplicate, not only ours: a racer that crashed cannot.
                self._cancel(CancelJob(job_id=job.id))
        return keep

    def _body(self, p: CreateJob) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self._resolve(p.model),
            "training_file": self._resolve(p.training_file),
            "method": json.loads(p.method_json),
            "metadata": dict(p.metadata),
        }
        if p.validation_file is not None:
            body["validation_file"] = self._resolve(p.validation_file)
        if p.suffix:
            body["suffix"] = p.suffix
        if p.seed is not None:
            body["seed"] = p.seed
        if p.integrations_json:
            body["integrations"] = json.loads(p.integrations_json)
        return body

    def _resolve(self, value: str | FromStep) -> str:
        if isinstance(value, str):
            return value
        found = self.outputs.get(value.key, {}).get(value.field)
        if not found:
            raise StepFailed(f"{value.key} did not produce {value.field}")
        return found

    def _cancel(self, p: CancelJob) -> str:
        try:
            self.api.cancel_job(p.job_id)
        except PermanentApiError:
            job = self.api.get_job(p.job_id)
            if not job.status.is_terminal:
                raise
            return f"already {job.status.value}"
        return ""

    def _delete(self, p: DeleteModel) -> str:
        try:
            self.api.delete_model(p.model_id)
        except PermanentApiError as exc:
            if exc.status != 404:
                raise
            return "already gone"
        return ""


    def _deployments(self) -> Deployments:
        arm = self.api.arm
        if arm is None:
            raise StepFailed("this provider has no deployments (only Azure OpenAI has)")
        return arm

    def _deploy(self, p: DeployModel) -> Outputs:
        """Make the deployment serve the model (ARM PUT, waiting until it serves)."""
        arm, model = self._deployments(), self._resolve(p.model_id)
        found = arm.get_deployment(p.deployment)
        outputs = {"id": p.deployment, "deployment": p.deployment, MODEL_OUTPUT: model}
        if found is not None and found.ready and found.model == model \
                and found.sku.lower() == p.sku.lower() and found.capacity == p.capacity:
            return outputs, "already serves it", None
        if found is not None and found.model not in (model, p.current_model):
            # Someone else's since the plan was made (a saved plan is applied later): never
            # take it over.
            raise StepFailed(f"deployment {p.deployment} now serves {found.model}, not what "
                             "the plan was made from; plan again")
        arm.put_deployment(p.deployment, model=model, sku=p.sku, capacity=p.capacity)
        # Said when done: the plan could only name a version trained in this apply by its
        # manifest ("support-bot's new version"), and this is the model id it became.
        return outputs, f"serves {model}", None

    def _undeploy(self, p: RemoveDeployment) -> str:
        arm = self._deployments()
        if arm.get_deployment(p.deployment) is None:
            return "already gone"
        arm.delete_deployment(p.deployment)
        return ""

    def _delete_job(self, p: DeleteJob) -> str:
        """Delete a finished job of a retired version; one already gone counts as done."""
        try:
            job = self.api.get_job(p.job_id)
        except PermanentApiError as exc:
            if exc.status != 404:
                raise
            return "already gone"
        if not job.status.is_terminal:  # never stop training: only finished jobs are retired
            raise StepFailed(f"job {p.job_id} is {job.status.value}, not finished; plan again")
        self.api.delete_job(p.job_id)
        return ""

    def _delete_file(self, p: DeleteFile) -> str:
        """Delete a dataset upload nothing needs, looking again first: a job created since the
        plan (any workspace's: uploads are shared by content) may name it now."""
        try:
            self.api.get_file(p.file_id)
        except PermanentApiError as exc:
            if exc.status != 404:
                raise
            return "already gone"
        users = sorted(j.id for j in self.api.list_jobs()
                       if p.file_id in (j.training_file, j.validation_file))
        if users:
            raise StepFailed(f"{p.filename} ({p.file_id}) is used by job {users[0]} now; "
                             "kept (plan again)")
        self.api.delete_file(p.file_id)
        return ""


def _sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def job_outputs(job: RemoteJob) -> dict[str, str]:
    outputs = {"id": job.id, "job_id": job.id}
    if job.fine_tuned_model:
        outputs["fine_tuned_model"] = job.fine_tuned_model
    return outputs
