"""The one HTTP seam to the provider: auth, timeouts, retries, error mapping, pagination.

The only module that imports httpx. Everything it raises belongs to the errors.py tree; httpx
exceptions never leave it, and no message, repr or exception it produces carries the API key.

Retries: every request goes through one RetryPolicy (reconciler.client.retry), the only retry
layer: 408, 409, 429, every 5xx, timeouts and connection errors (including a response lost
after the request was sent) are retried; never 400/401/403/404 or any other 4xx. A 409 whose
`error.code` says the resource's state forbids the request (STATE_CONFLICT_CODES, Azure's
`conflict` when a job's model is still deployed) is permanent: waiting would not change it.

Platform closed: a refused create is recognised from the error body when the status is 400,
403, 404, 409 or 422 and either `error.code` is one of PLATFORM_CLOSED_CODES or
`error.message` matches PLATFORM_CLOSED_PATTERN ("fine-tuning ... no longer available",
"... is closed/disabled for this organization"). It becomes PlatformClosedError, never retried.
"""

from __future__ import annotations

import random
import re
import ssl
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import orjson

from reconciler.client.retry import RetryNotice, RetryPolicy
from reconciler.endpoint import base_url_problem, display_url
from reconciler.endpoint import is_loopback as _is_loopback
from reconciler.errors import (
    ApiError,
    ConfigError,
    PermanentApiError,
    PlatformClosedError,
    RetryableApiError,
)

RETRYABLE_STATUSES = frozenset({408, 409, 429})
# 409 codes that mean "conflict with the resource's state" (Azure's dated-API ErrorCode values).
# Other 409s (OpenAI's, ARM's `RequestConflict` while an operation runs) are transient.
STATE_CONFLICT_CODES = frozenset({"conflict", "unexpectedEntityState", "itemDoesAlreadyExist"})
STATE_CONFLICT_HINT = ("The resource's current state forbids this request, so ftctl does not "
                       "retry it; change that state first (the provider's message says how).")
PLATFORM_CLOSED_CODES = frozenset({
    "platform_closed",
    "fine_tuning_closed",
    "fine_tuning_disabled",
    "fine_tuning_unavailable",
    "fine_tuning_not_available",
    "fine_tuning_wind_down",
})
PLATFORM_CLOSED_PATTERN = re.compile(
    r"fine[- ]?tun\w*.{0,80}?\b(no longer (available|supported|accepting|allowed)"
    r"|not available to (your|this) organi[sz]ation|(is |been )?(closed|disabled|shut down)"
    r"|wound down|winding down)",
    re.IGNORECASE | re.DOTALL,
)
PLATFORM_CLOSED_STATUSES = frozenset({400, 403, 404, 409, 422})
PLATFORM_CLOSED_SENTENCE = (
    "Fine-tuning job creation is closed to this organization: the provider refused to create "
    "a job. Existing models can still be managed (plan, drift, delete); training needs "
    "another provider (provider.type / OPENAI_BASE_URL)."
)
T = TypeVar("T")
# Anything shaped like an OpenAI secret key in text that came from the server.
_KEYLIKE = re.compile(r"\b(sk|sess|org-sk)-[A-Za-z0-9_\-*]{6,}")


def _check_key(api_key: str) -> None:
    """A key that cannot go into a header is a ConfigError that never quotes the key."""
    if not api_key or not all(33 <= ord(c) <= 126 for c in api_key):
        raise ConfigError(
            "the API key is empty or contains spaces, control or non-ASCII characters; "
            "check OPENAI_API_KEY (a stray newline from a secrets file is a common cause)"
        )


def check_base_url(base_url: str, *, allow_insecure_http: bool) -> str:
    """The base URL without a trailing slash; ConfigError when it is unusable or insecure."""
    problem = base_url_problem(base_url, allow_insecure_http=allow_insecure_http)
    if problem is not None:
        raise ConfigError(problem)
    return base_url.rstrip("/")


# A plain-http base URL (the local emulator on loopback, or an explicit opt-in) never speaks
# TLS, and follows no redirect; loading the CA bundle for it cost ~30 ms per client. Its
# context still requires verified certificates, from an empty trust store: any TLS connection
# through it fails closed.
_NO_TRUST = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


AuthHeader = Callable[[], tuple[str, str]]  # (header name, value), asked for on every request
REQUEST_ID_HEADERS = ("x-request-id", "apim-request-id", "x-ms-request-id")


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful answer with what `request` leaves out: the status and the headers (ARM's
    long-running operations are told by them)."""

    status: int
    headers: Mapping[str, str]
    body: dict[str, Any]


class _HeaderAuth(httpx.Auth):
    """Sets the auth header per request, so a token that expires is asked for afresh."""

    def __init__(self, header: AuthHeader) -> None:
        self._header = header

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        name, value = self._header()
        request.headers[name] = value
        yield request


class HttpClient:
    """A small synchronous JSON client for an OpenAI-compatible API.

    `auth` replaces the default `Authorization: Bearer api_key` header (Azure sends its key as
    `api-key`, or a token that is refreshed); `api_key` is then the secret kept out of messages.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        organization: str | None = None,
        project: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 5,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        allow_insecure_http: bool = False,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        max_retry_after: float = 60.0,
        rng: random.Random | None = None,
        on_retry: Callable[[RetryNotice], None] | None = None,
        auth: AuthHeader | None = None,
    ) -> None:
        self.base_url = check_base_url(base_url, allow_insecure_http=allow_insecure_http)
        _check_key(api_key)
        self._key = api_key
        self.retry = RetryPolicy(
            max_retries=max_retries, sleep=sleep, backoff_base=backoff_base,
            backoff_cap=backoff_cap, max_retry_after=max_retry_after, rng=rng,
            on_retry=on_retry,
        )
        self.request_count = 0  # HTTP attempts made (benchmarks count these)
        self._count_lock = threading.Lock()
        headers = {"User-Agent": "ftctl"}
        if auth is None:
            headers["Authorization"] = f"Bearer {api_key}"
        if organization:
            headers["OpenAI-Organization"] = organization
        if project:
            headers["OpenAI-Project"] = project
        parts = urlsplit(self.base_url)
        host = parts.hostname or ""
        self._where = display_url(f"{parts.scheme}://{parts.netloc}")
        self._client = httpx.Client(
            base_url=self.base_url + "/",
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            auth=_HeaderAuth(auth) if auth is not None else None,
            # Deliberately not configurable: TLS verification cannot be turned off.
            verify=_NO_TRUST if parts.scheme == "http" else True,
            trust_env=not _is_loopback(host),  # no proxy detour for the local emulator
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"HttpClient(base_url={self._where!r}, api_key='***')"

    def close(self) -> None:
        self._client.close()

    def stop(self) -> None:
        """Send no more requests and end retry waits at once (RetryPolicy.stop)."""
        self.retry.stop()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Any = None,
        data: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        retry: bool = True,
    ) -> dict[str, Any]:
        """Send one request (retrying per the policy above) and return the JSON object.

        retry=False: exactly one attempt (a best-effort call whose failure does not matter)."""
        kwargs = {"params": params, "json": json, "files": files, "data": data,
                  "content": content}

        def send() -> httpx.Response:
            return self._attempt(method, path, kwargs)

        label = f"{method} {path.lstrip('/')}"
        response = self.retrying(label, send) if retry else send()
        if not response.content.strip():
            return {}  # e.g. 204 No Content
        try:
            body = json_of(response)
        except ValueError:
            raise self._scrubbed(PermanentApiError(
                f"{method} {path}: the provider answered with a body that is not JSON",
                status=response.status_code, request_id=response.headers.get("x-request-id"),
            )) from None
        if not isinstance(body, dict):
            raise PermanentApiError(f"{method} {path}: expected a JSON object",
                                    status=response.status_code)
        return body

    @property
    def max_retries(self) -> int:
        return self.retry.max_retries

    @max_retries.setter
    def max_retries(self, value: int) -> None:
        self.retry.max_retries = value

    def reply(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Reply:
        """Like `request` (the same retries), plus the answer's status and headers.

        `path` may also be an absolute URL (an operation URL the server gave); the caller
        checks that it points at the same host.
        """
        kwargs = {"params": params, "json": json}
        label = f"{method} {path.lstrip('/')}"
        response = self.retrying(label, lambda: self._attempt(method, path, kwargs))
        body: Any = {}
        if response.content.strip():
            try:
                body = response.json()
            except ValueError:
                body = None
        if not isinstance(body, dict):
            raise PermanentApiError(f"{method} {path}: expected a JSON object",
                                    status=response.status_code)
        return Reply(response.status_code, dict(response.headers), body)

    def retrying(
        self, label: str, send: Callable[[], T], lookup: Callable[[], T | None] | None = None
    ) -> T:
        """Run `send` under the one retry policy (see reconciler.client.retry.RetryPolicy)."""
        return self.retry.run(label, send, lookup)

    def _attempt(self, method: str, path: str, kwargs: dict[str, Any]) -> httpx.Response:
        """One HTTP exchange: a successful response, or the ApiError it maps to, raised."""
        result = self._exchange(method, path, kwargs)
        if isinstance(result, ApiError):
            raise result  # raised here, not in an except block: no httpx error in its context
        return result

    def _exchange(
        self, method: str, path: str, kwargs: dict[str, Any]
    ) -> httpx.Response | ApiError:
        with self._count_lock:
            self.request_count += 1
        try:
            response = self._client.request(method, path.lstrip("/"), **kwargs)
        except httpx.TimeoutException:
            return RetryableApiError(
                f"{method} {path}: the provider at {self._where} did not answer in time"
            )
        except (httpx.TransportError, OSError) as exc:
            # Connection refused/reset, or the response was lost after the request went out.
            # OSError: a custom transport (e.g. in-process WSGI) may surface the raw socket error.
            return RetryableApiError(
                f"{method} {path}: could not reach the provider at {self._where} "
                f"({type(exc).__name__})"
            )
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
            # Anything else httpx raises is a request that cannot be sent as built.
            return PermanentApiError(f"{method} {path}: request failed ({type(exc).__name__})")
        if response.is_success:
            return response
        return self._scrubbed(error_from_response(method, path, response))

    def _scrubbed(self, error: ApiError) -> ApiError:
        """Remove the key (and anything key-shaped the server echoed) from the message."""
        text = error.message.replace(self._key, "***") if self._key else error.message
        text = _KEYLIKE.sub("sk-***", text)
        if text != error.message:
            error.message = text
            error.args = (text,)
        return error

    def paginate(
        self, path: str, params: Mapping[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Yield every item of a cursor-paginated list (`after` = last id, until not has_more).

        One request per page, in order. The next page is asked for as soon as this page's
        cursor is known, so the provider prepares it while the caller works through this
        page's items (at 20,000 jobs parsing and serving would otherwise take turns). Inside
        a send the retry policy runs (a look-up before a re-send) pages are read in turn on
        the caller's thread, whose requests the outer retry loop counts.
        """

        def get(query: dict[str, Any]) -> dict[str, Any]:
            return self.request("GET", path, params=query)

        if self.retry.in_send():
            yield from _pages(get, dict(params or {}), ahead=None)
            return
        ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ftctl-next-page")
        try:
            yield from _pages(get, dict(params or {}), ahead=ahead)
        finally:
            # A caller that stops early does not wait for a page it will not read.
            ahead.shutdown(wait=False, cancel_futures=True)


def _pages(get: Callable[[dict[str, Any]], dict[str, Any]], query: dict[str, Any],
           ahead: ThreadPoolExecutor | None) -> Iterator[dict[str, Any]]:
    """The items of every page; with `ahead`, the next page is fetched there meanwhile."""
    page = get(dict(query))
    while True:
        items = page.get("data") or []
        cursor = _next_cursor(page, items, query.get("after"))
        following: Future[dict[str, Any]] | None = None
        if cursor is not None:
            query["after"] = cursor
            following = ahead.submit(get, dict(query)) if ahead is not None else None
        yield from items
        if cursor is None:
            return
        page = following.result() if following is not None else get(dict(query))


def _next_cursor(page: dict[str, Any], items: list[dict[str, Any]],
                 after: str | None) -> str | None:
    """The `after` of the next page, or None when this page is the last."""
    if not page.get("has_more") or not items:
        return None
    cursor = page.get("last_id") or items[-1]["id"]
    # A server repeating its cursor would otherwise make us loop forever.
    return None if cursor == after else str(cursor)


def json_of(response: httpx.Response) -> Any:
    """The body as JSON: orjson, several times faster on a page of 100 jobs; whatever it
    refuses (an integer beyond 64 bits, NaN) goes to httpx's standard-library decoder, which
    also raises the ValueError for a body that is not JSON."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return response.json()


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms` or `Retry-After` (seconds or HTTP date)."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return float(raw_ms) / 1000.0
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def error_from_response(method: str, path: str, response: httpx.Response) -> ApiError:
    """Map an error response (OpenAI's `{"error": {...}}` body) onto the errors.py tree."""
    status = response.status_code
    message, code, param = _error_fields(response)
    fields: dict[str, Any] = {
        "status": status, "code": code, "param": param,
        "request_id": next((response.headers[h] for h in REQUEST_ID_HEADERS
                            if h in response.headers), None),
    }
    if status == 409 and code in STATE_CONFLICT_CODES:
        return PermanentApiError(f"{message} {STATE_CONFLICT_HINT}", **fields)
    if status in RETRYABLE_STATUSES or status >= 500:
        return RetryableApiError(message, retry_after=parse_retry_after(response.headers),
                                 **fields)
    if _is_platform_closed(method, path, status, message, code):
        return PlatformClosedError(f"{PLATFORM_CLOSED_SENTENCE} Provider said: {message}",
                                   **fields)
    return PermanentApiError(message, **fields)


def _error_fields(response: httpx.Response) -> tuple[str, str | None, str | None]:
    """(message, code, param) of an error answer. OpenAI's `{"error": {...}}` first; otherwise
    whatever detail the body carries (a proxy's problem+json, a plain-text line), so the user
    sees why. The status is not repeated here: ApiError adds `(HTTP n)` once."""
    try:
        body = response.json()
    except ValueError:
        return _text_detail(response) or "the provider answered with no error details", None, None
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        detail = _other_detail(body) if isinstance(body, dict) else None
        return detail or "the provider answered with no error details", None, None
    message = err.get("message") if isinstance(err.get("message"), str) else None
    code, param = err.get("code"), err.get("param")
    return (
        message or "the provider answered with no error message",
        code if isinstance(code, str) else None,
        param if isinstance(param, str) else None,
    )


def _other_detail(body: dict[str, Any]) -> str | None:
    """The detail of a non-OpenAI JSON error: RFC 9457 problem+json (title, detail), or a
    top-level message/detail/error string."""
    parts = [body.get(k) for k in ("title", "detail")]
    words = [p.strip() for p in parts if isinstance(p, str) and p.strip()]
    if words:
        return ": ".join(dict.fromkeys(words))  # a detail equal to its title is said once
    for key in ("message", "error", "error_description"):
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _text_detail(response: httpx.Response) -> str | None:
    """The first line of a short plain-text error body (never HTML pages)."""
    if not response.headers.get("content-type", "").startswith("text/plain"):
        return None
    line = response.text.strip().splitlines()[0] if response.text.strip() else ""
    return line[:200] or None


def _is_platform_closed(
    method: str, path: str, status: int, message: str, code: str | None
) -> bool:
    is_create = method.upper() == "POST" and path.strip("/") == "fine_tuning/jobs"
    if not is_create or status not in PLATFORM_CLOSED_STATUSES:
        return False
    return code in PLATFORM_CLOSED_CODES or bool(PLATFORM_CLOSED_PATTERN.search(message))
