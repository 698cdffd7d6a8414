"""Serve the emulator on a real threaded WSGI server (werkzeug), in the background or until a
signal. `ConnectionDropped` out of the app closes the socket without an answer.

Connections are kept alive between requests without a body, as real providers do (a refresh of
200 pages is then one TCP connection, not 200). werkzeug itself closes every connection after
one answer, because it cannot drain an unread request body safely; so a request that carries a
body, and an answer of unknown length, still take werkzeug's path and close the connection.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from reconciler.emulator.app import EmulatorApp, make_app
from reconciler.emulator.azure_settings import AzureSettings
from reconciler.emulator.faults import ConnectionDropped


class _Handler(WSGIRequestHandler):
    """Silent per-request logging; a dropped connection is closed without a response."""

    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse one connection across requests

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle's algorithm and
        # delayed ACKs add milliseconds to every small answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None

    def run_wsgi(self) -> None:
        if self._carries_body() or self.close_connection:
            self.close_connection = True
            super().run_wsgi()  # answers with `Connection: close`
            return
        environ = self.make_environ()
        answer: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]],
                           exc_info: Any = None) -> Callable[[bytes], Any]:
            answer[:] = [status, headers]
            return self.wfile.write  # the legacy write(); the app does not use it

        try:
            body = self.server.app(environ, start_response)
            try:
                self._answer(answer[0], answer[1], body)
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()
        except ConnectionDropped as error:
            self.connection_dropped(error, environ)

    def _carries_body(self) -> bool:
        length = self.headers.get("Content-Length", "0").strip()
        return length not in ("", "0") or "Transfer-Encoding" in self.headers

    def _answer(self, status: str, headers: list[tuple[str, str]], body: Iterable[bytes]) -> None:
        """The status line and headers (with Server and Date, as send_response adds them) go
        out with the body's first chunk in one write: a JSON answer is one chunk, and a write
        per part costs a system call and a loopback segment per answer."""
        lines = [f"{self.protocol_version} {status}", f"Server: {self.version_string()}",
                 f"Date: {self.date_time_string()}"]
        lines += [f"{name}: {value}" for name, value in headers if name.lower() != "connection"]
        if not any(name.lower() == "content-length" for name, _ in headers):
            lines.append("Connection: close")  # the end of the body is the end
            self.close_connection = True
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        chunks = iter(body)
        self.wfile.write(head + next(chunks, b""))
        for chunk in chunks:
            self.wfile.write(chunk)
        self.wfile.flush()

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        if isinstance(error, ConnectionDropped):
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)


class _Server(ThreadedWSGIServer):
    """Knows its open connections, so that stopping also closes the kept-alive idle ones: a
    client's pooled connection must not reach a handler of a server that has stopped."""

    def __init__(self, host: str, port: int, app: EmulatorApp) -> None:
        super().__init__(host, port, app, handler=_Handler)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            still_open = list(self._open)
        for sock in still_open:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class RunningServer:
    """A server on a thread; `.endpoint` is http://HOST:PORT, `.base_url` the dialect's API base
    under it (http://HOST:PORT/v1 for OpenAI, the endpoint itself for Azure). Usable as a
    context manager."""

    def __init__(self, server: _Server, app: EmulatorApp) -> None:
        self._server = server
        self.app = app
        self.host = str(server.server_address[0])
        self.port = int(server.server_address[1])
        self.endpoint = f"http://{self.host}:{self.port}"
        self.base_url = self.endpoint + app.dialect.base_path
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"emulator-{self.port}", daemon=True,
        )
        self._stopped = False

    def start(self) -> RunningServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        self._thread.join(timeout=10)
        self.app.close()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def create_server(db_path: str, *, host: str = "127.0.0.1", port: int = 0,
                  api_key: str = "sk-local", speed: float = 1.0, faults: str | None = None,
                  seed: int | None = None, clock: Callable[[], float] | None = None,
                  max_running: int | None = None, retry_after: float = 1.0,
                  closed: bool = False,
                  dialect: str = "openai", azure: AzureSettings | None = None) -> RunningServer:
    """Bind (port 0 picks a free port) without starting to serve."""
    app = make_app(db_path, api_key=api_key, speed=speed, faults=faults, seed=seed,
                   clock=clock, max_running=max_running, retry_after=retry_after,
                   closed=closed, dialect=dialect, azure=azure)
    server = _Server(host, port, app)
    return RunningServer(server, app)


def start_in_background(db_path: str, *, host: str = "127.0.0.1", port: int = 0,
                        api_key: str = "sk-local", speed: float = 1.0,
                        faults: str | None = None, seed: int | None = None,
                        clock: Callable[[], float] | None = None,
                        max_running: int | None = None, retry_after: float = 1.0,
                        closed: bool = False,
                        dialect: str = "openai",
                        azure: AzureSettings | None = None) -> RunningServer:
    """Serve on a daemon thread; returns once the socket accepts connections."""
    return create_server(db_path, host=host, port=port, api_key=api_key, speed=speed,
                         faults=faults, seed=seed, clock=clock, max_running=max_running,
                         retry_after=retry_after, closed=closed, dialect=dialect,
                         azure=azure).start()
