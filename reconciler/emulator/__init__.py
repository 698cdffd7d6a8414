"""A local emulator of the OpenAI fine-tuning API (files, uploads, jobs, models, chat), in
OpenAI's dialect or Azure OpenAI's (data plane plus ARM deployments).

It shares no code with the reconciler: it imports nothing from reconciler outside this
package, and only the CLI and tests import it. `make_app(...)` builds the WSGI app;
`server.start_in_background(...)` serves it on a loopback port.
"""

from __future__ import annotations

from reconciler.emulator.app import EmulatorApp, make_app
from reconciler.emulator.faults import ConnectionDropped

__all__ = ["ConnectionDropped", "EmulatorApp", "make_app"]
