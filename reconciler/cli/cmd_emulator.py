"""`ftctl emulator serve`: the local OpenAI-compatible fine-tuning emulator."""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType

import click

from reconciler.cli.common import EXIT_ERROR, EXIT_OK, global_options, handled
from reconciler.emulator.faults import FaultSpecError, parse
from reconciler.emulator.server import create_server


@click.group("emulator")
def emulator() -> None:
    """Run the local emulator of the OpenAI fine-tuning API."""


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
@handled
def serve(host: str, port: int, db: str, api_key: str, speed: float, faults: str | None,
          seed: int | None, max_running: int | None, closed: bool) -> int:
    """Serve the emulator until interrupted (SIGINT or SIGTERM stop it cleanly)."""
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
                               closed=closed)
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
