"""The WSGI application: routing, auth, error bodies, request ids and fault injection around
the endpoint handlers. A dialect decides the paths, auth, error shapes and headers: OpenAI's
(under /v1, bearer auth; files_api, jobs_api, models_api and inference), or Azure's
(`azure_dialect`).
"""

from __future__ import annotations

import hmac
import math
import secrets
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, Protocol

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map
from werkzeug.wrappers import Request, Response

from reconciler.emulator import files_api, inference, jobs_api, models_api
from reconciler.emulator.azure_dialect import AzureDialect
from reconciler.emulator.azure_settings import AzureSettings
from reconciler.emulator.context import Context, json_response
from reconciler.emulator.errors import ApiError
from reconciler.emulator.faults import ConnectionDropped, FaultInjector, parse
from reconciler.emulator.store import Store

StartResponse = Callable[..., Any]
DIALECTS = ("openai", "azure")


class Dialect(Protocol):
    """What differs between the providers the emulator speaks for."""

    base_path: str  # the API's base URL path under the server root
    rules: list[Any]  # werkzeug Rules binding paths to handlers

    def admit(self, request: Request) -> None: ...  # raise ApiError to refuse
    def error(self, request: Request, error: ApiError) -> Response: ...
    def stamp(self, request: Request, response: Response) -> None: ...


class OpenAIDialect:
    """OpenAI's API: /v1 paths, bearer API key, OpenAI error bodies, x-request-id."""

    base_path = "/v1"
    rules = files_api.RULES + jobs_api.RULES + models_api.RULES + inference.RULES

    def __init__(self, api_key: str) -> None:
        self._key = api_key.encode()

    def admit(self, request: Request) -> None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "You didn't provide an API key. You need to provide your API "
                           "key in an Authorization header using Bearer auth.")
        if not hmac.compare_digest(token.strip().encode(), self._key):
            raise ApiError(401, "Incorrect API key provided.", code="invalid_api_key")

    def error(self, request: Request, error: ApiError) -> Response:
        return json_response(error.body(), error.status, error.headers)

    def stamp(self, request: Request, response: Response) -> None:
        response.headers["x-request-id"] = "req_" + secrets.token_hex(16)
        response.headers["openai-organization"] = "org-emulator"


class EmulatorApp:
    """A WSGI app serving the fine-tuning API subset of one dialect from one SQLite database."""

    def __init__(self, db_path: str, *, api_key: str, speed: float, faults: str | None,
                 seed: int | None, clock: Callable[[], float] | None,
                 max_running: int | None, retry_after: float = 1.0,
                 closed: bool = False, fault_scope: str | None = None,
                 dialect: str = "openai", azure: AzureSettings | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        if dialect not in DIALECTS:
            raise ValueError(f"unknown dialect {dialect!r}: expected one of {DIALECTS}")
        self.store = Store(db_path)
        azure = (azure or AzureSettings()) if dialect == "azure" else None
        self.ctx = Context(self.store, clock or time.time, speed, max_running, closed=closed,
                           azure=azure)
        self.faults = FaultInjector(replace(parse(faults), retry_after=retry_after), seed)
        self._fault_scope = fault_scope
        self.dialect: Dialect = (AzureDialect(azure, api_key) if azure is not None
                                 else OpenAIDialect(api_key))
        self._map = Map([r.empty() for r in self.dialect.rules],  # a Rule binds to one Map
                        strict_slashes=False, merge_slashes=False)
        self._request_class = type(
            "EmulatorRequest", (files_api.StreamingRequest,), {"blob_dir": self.store.blob_dir}
        )

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = self._request_class(environ)
        fault = self.faults.draw() if self._in_fault_scope(request) else None
        if fault == "reset":
            raise ConnectionDropped("fault injection: connection reset before handling")
        if fault == "slow":
            time.sleep(self.faults.plan.slow_seconds)
        response = self._respond(request, fault)
        _drain(request)
        if fault == "lost":
            raise ConnectionDropped("fault injection: response lost after the work was done")
        self.dialect.stamp(request, response)
        return response(environ, start_response)

    def _respond(self, request: Request, fault: str | None) -> Response:
        try:
            if fault is not None and fault.isdigit():
                raise _fault_error(int(fault), self.faults.plan.retry_after)
            endpoint, args = self._map.bind_to_environ(request.environ).match()
            self.dialect.admit(request)
            result = endpoint(self.ctx, request, **args)
            return result if isinstance(result, Response) else json_response(result)
        except ApiError as exc:
            return self.dialect.error(request, exc)
        except NotFound:
            err = ApiError(404, f"Invalid URL ({request.method} {request.path})")
            return self.dialect.error(request, err)
        except MethodNotAllowed:
            err = ApiError(405, f"Method {request.method} not allowed for {request.path}")
            return self.dialect.error(request, err)
        except HTTPException as exc:
            err = ApiError(exc.code or 400, exc.description or "Bad request")
            return self.dialect.error(request, err)
        except Exception:  # noqa: BLE001 - a bug must still answer with the API's error shape
            traceback.print_exc(file=sys.stderr)
            err = ApiError(500, "The server had an error while processing your request.",
                           type_="server_error")
            return self.dialect.error(request, err)

    def _in_fault_scope(self, request: Request) -> bool:
        """Faults hit every request, or only those of one `METHOD /path` when a scope is set."""
        if self._fault_scope is None:
            return True
        method, _, path = self._fault_scope.partition(" ")
        return request.method == method and request.path.rstrip("/") == path.rstrip("/")

    def close(self) -> None:
        self.store.close()


def _fault_error(status: int, retry_after: float) -> ApiError:
    if status == 429:
        return ApiError(429, "Rate limit reached for requests (fault injection).",
                        type_="requests", code="rate_limit_exceeded",
                        headers={"Retry-After": str(max(1, math.ceil(retry_after))),
                                 "retry-after-ms": str(int(retry_after * 1000))})
    return ApiError(status, "The server had an error while processing your request "
                    "(fault injection).", type_="server_error")


def _drain(request: Request) -> None:
    """Read what is left of the body, so an early answer does not break the connection."""
    stream = request.stream
    try:
        while stream.read(1 << 20):
            pass
    except (OSError, HTTPException):  # the client went away or sent less than it announced
        pass


def make_app(db_path: str, *, api_key: str = "sk-local", speed: float = 1.0,
             faults: str | None = None, seed: int | None = None,
             clock: Callable[[], float] | None = None,
             max_running: int | None = None, retry_after: float = 1.0,
             closed: bool = False, fault_scope: str | None = None,
             dialect: str = "openai", azure: AzureSettings | None = None) -> EmulatorApp:
    """The emulator as a WSGI app; base URL is http://HOST:PORT/v1.

    `dialect="azure"` speaks Azure OpenAI instead, with `azure` (defaults when None) as the
    emulated resource: the data plane under http://HOST:PORT/openai/ and the ARM control plane
    for deployments under http://HOST:PORT/subscriptions/.

    `closed` answers every job creation as a provider that closed fine-tuning to the
    organization does (403, code fine_tuning_unavailable).

    `max_running` caps concurrently running jobs; `retry_after` is the wait (seconds) that
    injected 429s ask for (Retry-After rounds it up to whole seconds, retry-after-ms is exact).
    """
    return EmulatorApp(db_path, api_key=api_key, speed=speed, faults=faults, seed=seed,
                       clock=clock, max_running=max_running, retry_after=retry_after,
                       closed=closed, fault_scope=fault_scope, dialect=dialect, azure=azure)
