"""What the gate calls to ask a model: the model id itself, or on Azure (which answers only
through deployments) a deployment that serves it.

A version the manifest's deployment already serves is asked through that deployment. Any other
(the candidate a new job just trained, or a serving version whose deployment is missing) gets
a temporary deployment, `<deployment>-ftctl-verify`, created on first use with sku
`DeveloperTier` and capacity 1 (Azure's tier for evaluating fine-tuned models: the cheapest,
and Azure deletes it after 24 hours on its own, so an apply that crashes leaves no lasting
hosting bill) and deleted when the gate is done, passed or not. The one home for this: apply's
gate and verify steps both come through `asking`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from reconciler.checks import GateApi
from reconciler.client.api import RemoteApi
from reconciler.client.arm import ArmClient
from reconciler.planner.state import ModelState
from reconciler.snapshot import RemoteFile

VERIFY_SUFFIX = "-ftctl-verify"
VERIFY_SKU = "DeveloperTier"
VERIFY_CAPACITY = 1
MAX_NAME = 64  # ARM's longest deployment name


def deployment_of(model: ModelState) -> str:
    """The deployment name a model is served under (its manifest's, else its own name)."""
    return model.deployment_name or model.name


def verify_deployment_name(model: ModelState) -> str:
    """`<deployment>-ftctl-verify`, the deployment's name cut so the whole fits ARM's limit
    (with room for a `-2` when an evaluation needs a second one)."""
    room = MAX_NAME - len(VERIFY_SUFFIX) - 2
    return f"{deployment_of(model)[:room]}{VERIFY_SUFFIX}"


def known_deployments(model: ModelState) -> dict[str, str]:
    """model id -> the ready deployment of `model` that serves it (none, or one)."""
    current = model.deployment
    return {current.model: current.name} if current is not None and current.ready else {}


@contextlib.contextmanager
def asking(api: RemoteApi, model: ModelState) -> Iterator[GateApi]:
    """What the gate of `model` asks its versions through; temporary deployments made on the
    way are deleted on exit, whatever happened."""
    if api.arm is None:
        yield api
        return
    caller = _DeploymentCaller(api, api.arm, verify_deployment_name(model),
                               known_deployments(model))
    try:
        yield caller
    finally:
        caller.remove_temporary()


class _DeploymentCaller:
    """A GateApi whose chat and completions address deployments; the rest goes to `api`."""

    def __init__(self, api: RemoteApi, arm: ArmClient, temporary_name: str,
                 known: Mapping[str, str]) -> None:
        self.api, self.arm, self.temporary_name = api, arm, temporary_name
        self.names = dict(known)  # model id -> deployment name
        self.temporary: list[str] = []
        self.lock = threading.Lock()  # an evaluation asks from several threads

    def chat(self, model: str, messages: list[dict[str, Any]], *,
             max_tokens: int | None = None, temperature: float | None = None) -> str:
        return self.api.chat(model, messages, max_tokens=max_tokens, temperature=temperature,
                             deployment=self._deployment(model))

    def complete(self, model: str, prompt: str, *, max_tokens: int | None = None,
                 temperature: float | None = None) -> str:
        return self.api.complete(model, prompt, max_tokens=max_tokens,
                                 temperature=temperature, deployment=self._deployment(model))

    def find_file(self, filename: str, size: int, purpose: str = "fine-tune"
                  ) -> RemoteFile | None:
        return self.api.find_file(filename, size, purpose)

    def upload_file(self, path: str, *, filename: str, purpose: str = "fine-tune") -> RemoteFile:
        return self.api.upload_file(path, filename=filename, purpose=purpose)

    def _deployment(self, model: str) -> str:
        with self.lock:
            name = self.names.get(model)
            if name is None:
                name = self.temporary_name
                if self.temporary:  # a second model to ask (an evaluation's serving one)
                    name = f"{name}-{len(self.temporary) + 1}"
                self.arm.put_deployment(name, model=model, sku=VERIFY_SKU,
                                        capacity=VERIFY_CAPACITY)
                self.temporary.append(name)
                self.names[model] = name
            return name

    def remove_temporary(self) -> None:
        """Delete every temporary deployment; the first failure is raised after trying all."""
        failure: Exception | None = None
        for name in self.temporary:
            try:
                self.arm.delete_deployment(name)
            except Exception as exc:  # noqa: BLE001 - try the others, then report it
                failure = failure or exc
        self.temporary.clear()
        if failure is not None:
            raise failure
