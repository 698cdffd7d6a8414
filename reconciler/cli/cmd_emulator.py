"""`ftctl emulator serve`: the local fine-tuning emulator, in OpenAI's or Azure's dialect."""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType

import click

from reconciler.cli.common import EXIT_ERROR, EXIT_OK, global_options, handled
from reconciler.emulator.app import DIALECTS
from reconciler.emulator.azure_settings import AzureSettings
from reconciler.emulator.faults import FaultSpecError, parse
from reconciler.emulator.server import create_server


@click.group("emulator")
def emulator() -> None:
    """Run the local emulator of the OpenAI (or Azure OpenAI) fine-tuning API."""


@emulator.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=int,
              help="Port to bind (0 picks a free port).")
@click.option("--db", "db", default=os.path.join(".ftctl", "emulator.db"), show_default=True,
              type=click.Path(dir_okay=False),
              help="SQLite database holding the state (relative to -C DIR).")
@click.option("--api-key", default="sk-local", show_default=True,
              help="Bearer token clients must send.")
@click.option("--speed", default=1.0, show_default=True, type=float,
              help="Simulated seconds per real second (higher finishes jobs sooner).")
@click.option("--faults", default=None, metavar="SPEC",
              help="Fault injection, e.g. 429:0.1,500:0.05,reset:0.05,lost:0.05,slow:0.02")
@click.option("--seed", default=None, type=int, help="Seed for reproducible faults.")
@click.option("--max-running", default=None, type=click.IntRange(min=1),
              help="Cap on concurrently running jobs (others stay queued).")
@click.option("--closed", is_flag=True,
              help="Act as a provider that closed fine-tuning to this organization: job "
              "creation is refused (403), everything else works.")
@click.option("--dialect", type=click.Choice(DIALECTS), default="openai", show_default=True,
              help="Which provider to speak for: OpenAI (base URL .../v1) or Azure OpenAI "
              "(endpoint http://HOST:PORT: data plane under /openai, ARM deployments under "
              "/subscriptions).")
@click.option("--access-token", default=AzureSettings().access_token, show_default=True,
              help="Azure dialect: the bearer token ARM requires (and the data plane accepts "
              "as an Entra ID token).")
@click.option("--no-metadata", is_flag=True,
              help="Azure dialect: drop job metadata on create, as a service that does not "
              "keep it.")
@handled
def serve(host: str, port: int, db: str, api_key: str, speed: float, faults: str | None,
          seed: int | None, max_running: int | None, closed: bool, dialect: str,
          access_token: str, no_metadata: bool) -> int:
    """Serve the emulator until interrupted (SIGINT or SIGTERM stop it cleanly)."""
    if no_metadata and dialect != "azure":
        click.echo("Error: --no-metadata needs --dialect azure.", err=True)
        return EXIT_ERROR
    azure = AzureSettings(access_token=access_token, keep_metadata=not no_metadata)
    try:
        parse(faults)
    except FaultSpecError as exc:
        click.echo(f"Error: --faults: {exc}", err=True)
        return EXIT_ERROR
    if speed <= 0:
        click.echo("Error: --speed must be positive.", err=True)
        return EXIT_ERROR
    db = os.path.join(global_options().directory, db)  # relative to -C DIR; absolute stays
    try:
        server = create_server(db, host=host, port=port, api_key=api_key, speed=speed,
                               faults=faults, seed=seed, max_running=max_running,
                               closed=closed, dialect=dialect, azure=azure)
    except OSError as exc:
        click.echo(f"Error: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        return EXIT_ERROR
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.start()
        click.echo(f"listening on {server.base_url}")
        while not stop.wait(0.2):
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("emulator stopped", err=True)
    return EXIT_OK
