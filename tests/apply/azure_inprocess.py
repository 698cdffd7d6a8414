"""The emulator's Azure dialect in process for apply-level tests: an Azure helper on the fake
clock (its per-resource limits shrinkable), an open_remote giving the AzureApi the CLI would
open on it, and run_plan / run_apply wired to both."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from reconciler.app.apply import ApplyOptions, ApplyReport, run_apply
from reconciler.app.limits import AZURE_LIMITS, ResourceLimits
from reconciler.app.plan import PlanRun, PlanRunOptions, run_plan
from reconciler.client.api import RemoteApi
from reconciler.emulator import make_app
from reconciler.emulator.azure_settings import AzureLimits
from reconciler.events import Reporter
from reconciler.spec import Settings
from tests.client.azure_helpers import azure_api
from tests.conftest import EMULATOR_KEY, EmulatorTransport, FakeClock
from tests.emulator.azure_support import Azure

OpenRemote = Callable[[Settings], AbstractContextManager[RemoteApi]]
LOCAL_AZURE = "provider:\n  type: local\n  dialect: azure\n"


def emulator(tmp_path: Path, clock: FakeClock, **limits: int) -> Azure:
    """The Azure dialect in process (the apply tests' make_emulator builds OpenAI apps only)."""

    def make(**options: Any) -> tuple[Any, EmulatorTransport]:
        app = make_app(str(tmp_path / "azure.db"), api_key=EMULATOR_KEY, clock=clock,
                       **options)
        return app, EmulatorTransport(app=app)

    return Azure(make, clock, limits=AzureLimits(**limits))


def opener(azure: Azure, root: Path) -> OpenRemote:
    @contextlib.contextmanager
    def open_remote(settings: Settings) -> Iterator[RemoteApi]:
        api = azure_api(azure, root, workspace=settings.workspace)
        try:
            yield api
        finally:
            api.close()

    return open_remote


def plan(root: Path, azure: Azure) -> PlanRun:
    return run_plan(str(root), options=PlanRunOptions(), open_remote=opener(azure, root))


def apply(root: Path, azure: Azure, reporter: Reporter, *, wait: bool = True,
          limits: ResourceLimits = AZURE_LIMITS) -> ApplyReport:
    return run_apply(str(root), None, ApplyOptions(auto_approve=True, wait=wait),
                     open_remote=opener(azure, root), reporter=reporter,
                     clock=azure.clock, sleep=azure.clock.advance, limits=limits)
