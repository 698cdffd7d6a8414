"""AzureApi: RemoteApi for Azure OpenAI (Microsoft Foundry), the provider seam's Azure side.

The same operations as OpenAI's, on the resource's v1 API (`ENDPOINT/openai/v1`), with
Azure's differences handled here:
- job delete exists only in the dated API (`ENDPOINT/openai/...?api-version=`); a fine-tuned
  model has no delete of its own, so deleting a model deletes the job that made it;
- an uploaded file is usable once `processed`: uploads, and the files a new job names, are
  polled until then;
- the job list has no metadata filter: every job is listed and filtered here, by the
  `ftctl-workspace` metadata, or by the fallback identity (fallback_identity) when the service
  does not keep metadata. Whether it does is learnt from the first create (and from any job
  listed with ftctl metadata); until then a create writes the fallback identity as well;
- `trainingType` (provider.training_type) is sent on every create;
- deployments are ARM's (`arm.ArmClient`, `self.arm`); inference addresses them by name.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from typing import Any

from reconciler.client.api import RemoteApi, _seg
from reconciler.client.arm import ArmClient
from reconciler.client.azure_auth import (
    Auth,
    CredentialFactory,
    data_plane_auth,
    default_credential,
    management_auth,
)
from reconciler.client.fallback_identity import (
    IdentityRecords,
    Record,
    op_of,
    orphan_of,
    restored,
)
from reconciler.client.http import HttpClient
from reconciler.errors import ConfigError, PermanentApiError
from reconciler.planner.identity import META_WORKSPACE
from reconciler.snapshot import RemoteDeployment, RemoteFile, RemoteJob
from reconciler.spec import AzureSettings, Settings

DATED_API_VERSION = "2024-10-21"  # the newest GA dated API; it has job delete
MAX_FILE_BYTES = 512 * 1024 * 1024  # Azure's upload limit through POST /files
PROCESSED_POLL = (0.25, 2.0)  # first and longest pause between looks at an uploaded file
PROCESSED_TIMEOUT = 1800.0


class AzureApi(RemoteApi):
    """Files, fine-tuning jobs and models of one Azure OpenAI resource, plus its deployments."""

    arm: ArmClient

    def __init__(
        self,
        http: HttpClient,
        *,
        dated: HttpClient,
        arm: ArmClient,
        workspace: str,
        training_type: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        **options: Any,
    ) -> None:
        options.setdefault("upload_threshold", MAX_FILE_BYTES)
        super().__init__(http, **options)
        self.dated = dated
        self.arm = arm
        self.workspace = workspace
        self.training_type = training_type
        self._sleep = sleep
        self._clock = clock
        self.metadata_kept: bool | None = None  # None: not known yet
        self.records = IdentityRecords(
            http, workspace, list_files=lambda: self.list_files("fine-tune"),
            upload=lambda path, name: self._upload_record(path, name))

    def close(self) -> None:
        super().close()
        self.dated.close()
        self.arm.close()

    def stop(self) -> None:
        super().stop()
        self.dated.stop()
        self.arm.http.stop()

    def list_deployments(self) -> list[RemoteDeployment] | None:
        """Every deployment of the account (ARM)."""
        return self.arm.list_deployments()

    # -- jobs ----------------------------------------------------------------------------------

    def list_jobs(self, *, metadata: Mapping[str, str] | None = None) -> list[RemoteJob]:
        """Every job of the resource, restored and then filtered here (Azure cannot filter)."""
        raw = super().list_jobs()
        if any(j.meta(META_WORKSPACE) for j in raw):
            self.metadata_kept = True
        jobs = self._restore(raw)
        wanted = dict(metadata or {})
        return [j for j in jobs if all(j.meta(k) == v for k, v in wanted.items())]

    def get_job(self, job_id: str) -> RemoteJob:
        return self._restore([super().get_job(job_id)])[0]

    def find_job_by_operation(self, workspace: str, op_id: str) -> RemoteJob | None:
        found = super().find_job_by_operation(workspace, op_id)
        if found is not None or self.metadata_kept is True:
            return found
        return self._recover(op_id)

    def create_job(self, body: dict[str, Any]) -> RemoteJob:
        """Create with metadata; with the fallback identity too unless metadata is known kept."""
        body = dict(body)
        op = op_of(body)
        record = Record.of_create(body) if op and self.metadata_kept is not True else None
        if op and record:
            self.records.write(op, record)  # before the create: a lost answer stays findable
        if self.training_type:
            body["trainingType"] = self.training_type
        self._wait_for_files(body)
        job = super().create_job(body)
        if self.metadata_kept is None and op is not None:
            self.metadata_kept = job.meta(META_WORKSPACE) is not None
        if op and record and not job.metadata:
            self.records.write(op, record, job.id)
            return restored(job, {job.id: record})
        return job

    def _restore(self, jobs: list[RemoteJob]) -> list[RemoteJob]:
        """Jobs without metadata get their identity records' (when this workspace has one)."""
        if all(j.metadata for j in jobs):
            return jobs
        claims = self.records.claims(self.list_files("fine-tune"))
        return [restored(j, claims) for j in jobs]

    def _recover(self, op_id: str) -> RemoteJob | None:
        """The job of a create whose answer was lost, found and claimed (fallback identity)."""
        files = self.list_files("fine-tune")
        record_file = self.records.unclaimed_record(op_id, files)
        record = self.records.read(record_file) if record_file is not None else None
        if record_file is None or record is None:
            return None
        job = orphan_of(record_file, record, super().list_jobs(), files)
        if job is None:
            return None
        self.records.write(op_id, record, job.id)
        return restored(job, {job.id: record})

    def delete_job(self, job_id: str) -> None:
        """DELETE a finished job (dated API only); one already gone counts as done."""
        try:
            self.dated.request("DELETE", f"fine_tuning/jobs/{_seg(job_id)}",
                               params={"api-version": DATED_API_VERSION})
        except PermanentApiError as exc:
            if exc.status != 404:
                raise

    def delete_model(self, model_id: str) -> None:
        """Azure deletes a fine-tuned model with the job that made it (no model delete)."""
        makers = [j for j in super().list_jobs() if j.fine_tuned_model == model_id]
        if not makers:
            raise PermanentApiError(
                f"no fine-tuning job of this resource made {model_id}; Azure deletes a "
                "fine-tuned model only with its job", status=404)
        for job in makers:
            self.delete_job(job.id)

    # -- files ---------------------------------------------------------------------------------

    def upload_file(self, path: str, *, filename: str, purpose: str = "fine-tune",
                    on_progress: Any = None) -> RemoteFile:
        """Upload, then wait until Azure has processed the file (a job may not use it before)."""
        uploaded = super().upload_file(path, filename=filename, purpose=purpose,
                                       on_progress=on_progress)
        return self.wait_processed(uploaded)

    def wait_processed(self, file: RemoteFile) -> RemoteFile:
        deadline = self._clock() + PROCESSED_TIMEOUT
        pause, longest = PROCESSED_POLL
        while file.status not in (None, "processed"):
            if file.status == "error":
                raise PermanentApiError(
                    f"Azure could not process the uploaded file {file.filename} ({file.id}); "
                    "run `ftctl data check` on it")
            if self._clock() >= deadline:
                raise PermanentApiError(
                    f"the uploaded file {file.filename} ({file.id}) was still {file.status} "
                    f"after {PROCESSED_TIMEOUT:.0f} s")
            self._sleep(pause)
            pause = min(pause * 2, longest)  # Azure's own CLI looks every 2 s
            file = self.get_file(file.id)
        return file

    def _wait_for_files(self, body: Mapping[str, Any]) -> None:
        """A job may only name processed files; one found from an earlier run may not be yet."""
        for key in ("training_file", "validation_file"):
            file_id = body.get(key)
            if isinstance(file_id, str):
                self.wait_processed(self.get_file(file_id))

    def _upload_in_parts(self, path: str, size: int, filename: str, purpose: str,
                         on_progress: Any) -> RemoteFile:
        raise PermanentApiError(
            f"{filename} is {size} bytes; Azure's v1 API takes files up to {MAX_FILE_BYTES} "
            "bytes, and ftctl does not yet use the dated Uploads API for larger ones")

    def _upload_record(self, path: str, name: str) -> RemoteFile:
        return RemoteApi.upload_file(self, path, filename=name)  # not polled: no job uses it



LOCAL_ACCESS_TOKEN = "local-arm-token"  # the embedded emulator's ARM token; never a real one
LOCAL_RESOURCE = AzureSettings(
    endpoint="http://127.0.0.1", subscription_id="00000000-0000-0000-0000-000000000000",
    resource_group="local", account="local")


def connect_azure(
    settings: Settings,
    env: Mapping[str, str],
    *,
    transport: Any = None,
    endpoint: str | None = None,
    local_key: str | None = None,
    credential: CredentialFactory = default_credential,
    **http_options: Any,
) -> AzureApi:
    """An AzureApi for the project's resource, or for the local emulator in the Azure dialect.

    endpoint + local_key: the embedded emulator (its own key and ARM token; the user's secrets
    are never sent there).
    """
    provider = settings.provider
    resource = provider.azure or LOCAL_RESOURCE
    if endpoint is not None:
        resource = dataclasses.replace(resource, endpoint=endpoint, management_endpoint=endpoint)
    elif provider.azure is None:
        raise ConfigError("provider local in the Azure dialect has no running emulator to talk "
                          "to; run through the CLI, which starts it")
    if local_key is not None:
        data = Auth(header=lambda: ("api-key", local_key), secret=local_key)
        control = Auth(header=lambda: ("Authorization", f"Bearer {LOCAL_ACCESS_TOKEN}"),
                       secret=LOCAL_ACCESS_TOKEN)
    else:
        data = data_plane_auth(env, credential)
        control = management_auth(env, resource.management_endpoint, credential)
    insecure = provider.allow_insecure_http
    root = resource.endpoint.rstrip("/")

    def client(base: str, auth: Auth) -> HttpClient:
        return HttpClient(base, auth.secret, auth=auth.header, transport=transport,
                          allow_insecure_http=insecure, **http_options)

    sleep = http_options.get("sleep", time.sleep)
    arm = ArmClient(client(resource.management_endpoint, control),
                    subscription_id=resource.subscription_id,
                    resource_group=resource.resource_group, account=resource.account,
                    sleep=sleep)
    return AzureApi(client(root + "/openai/v1", data), dated=client(root + "/openai", data),
                    arm=arm, workspace=settings.workspace,
                    training_type=provider.training_type, sleep=sleep)
