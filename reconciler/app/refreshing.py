"""Load the project while the refresh reads the remote (plan, apply, drift, show).

The refresh needs only the settings (which provider, which workspace), and at thousands of
manifests reading them and reading the remote take about as long each; so the remote is
opened and its lists are read from the moment the settings are known, while the manifests
and datasets are loaded. Nothing is written remotely before the load is known to be clean:
the refresh only reads. When the load has errors, its reads are stopped and dropped (the
user sees the load's diagnostics, as before); a failure to open the remote (no API key) is
reported only when the load had none, as it was when the remote was opened after the load.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

from reconciler.app import project
from reconciler.client.api import RemoteApi
from reconciler.diagnostics import has_errors
from reconciler.errors import FtctlError
from reconciler.loader import LoadResult
from reconciler.observe import Refresh
from reconciler.spec import Desired, Settings

OpenRemote = Callable[[Settings], AbstractContextManager[RemoteApi]]


@dataclass(frozen=True, slots=True)
class Loaded:
    """A load, and when it had no errors, what was loaded with the open remote and the
    refresh under way."""

    result: LoadResult
    remote: tuple[Desired, RemoteApi, Refresh] | None = None


@contextlib.contextmanager
def load_refreshing(directory: str, config: str | None, *, open_remote: OpenRemote,
                    with_datasets: bool, require_manifests: bool = True) -> Iterator[Loaded]:
    """project.load with the refresh started beside it (module doc); the remote stays open
    until the block ends."""
    with contextlib.ExitStack() as stack:
        started: list[tuple[RemoteApi, Refresh]] = []
        failed: list[FtctlError] = []

        def start(settings: Settings) -> None:
            try:
                api = stack.enter_context(open_remote(settings))
            except FtctlError as exc:
                failed.append(exc)
                return
            started.append((api, stack.enter_context(Refresh(api, settings))))

        loaded = project.load(directory, config, with_datasets=with_datasets,
                              require_manifests=require_manifests, on_settings=start)
        if loaded.desired is None or has_errors(loaded.diagnostics):
            yield Loaded(loaded)  # leaving stops the reads and closes the remote
            return
        if failed:
            raise failed[0]
        api, refresh = started[0]
        yield Loaded(loaded, (loaded.desired, api, refresh))
