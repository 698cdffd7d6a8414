"""The one HTTP seam to the provider: auth, timeouts, retries, error mapping, pagination.

The only module that imports httpx. Everything it raises belongs to the errors.py tree; httpx
exceptions never leave it, and no message, repr or exception it produces carries the API key.

Retry policy (docs/reliability.md):
- retried: 408, 409, 429, every 5xx, timeouts and connection errors (including a response lost
  after the request was sent); never 400/401/403/404 or any other 4xx.
- wait: `retry-after-ms`, then `Retry-After` (seconds or an HTTP date) when the server gives
  one, capped at `max_retry_after` (60 s); otherwise exponential backoff with full jitter,
  uniform(0, min(backoff_cap, backoff_base * 2**n)). `sleep` is injected so tests run instantly.
- callers that must not replay a write (a create whose response may be lost) pass
  `retry=False` and resolve the ambiguity themselves (RemoteApi looks the operation up).

Platform closed: a refused create is recognised from the error body when the status is 400,
403, 404, 409 or 422 and either `error.code` is one of PLATFORM_CLOSED_CODES or
`error.message` matches PLATFORM_CLOSED_PATTERN ("fine-tuning ... no longer available",
"... is closed/disabled for this organization"). It becomes PlatformClosedError, never retried.
"""

from __future__ import annotations

import ipaddress
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from reconciler.errors import (
    ApiError,
    ConfigError,
    PermanentApiError,
    PlatformClosedError,
    RetryableApiError,
)

RETRYABLE_STATUSES = frozenset({408, 409, 429})
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
# Anything shaped like an OpenAI secret key in text that came from the server.
_KEYLIKE = re.compile(r"\b(sk|sess|org-sk)-[A-Za-z0-9_\-*]{6,}")


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_key(api_key: str) -> None:
    """A key that cannot go into a header is a ConfigError that never quotes the key."""
    if not api_key or not all(33 <= ord(c) <= 126 for c in api_key):
        raise ConfigError(
            "the API key is empty or contains spaces, control or non-ASCII characters; "
            "check OPENAI_API_KEY (a stray newline from a secrets file is a common cause)"
        )


def display_url(url: str) -> str:
    """The URL as messages may show it: any user:password@ part removed."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def check_base_url(base_url: str, *, allow_insecure_http: bool) -> str:
    """The base URL without a trailing slash; ConfigError when it is unusable or insecure."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"base URL {display_url(base_url)!r} is not an http(s) URL such as "
            "https://api.openai.com/v1"
        )
    if parts.scheme == "http" and not allow_insecure_http and not _is_loopback(parts.hostname):
        raise ConfigError(
            f"base URL {display_url(base_url)!r} uses plain http to a host that is not loopback; "
            "the API key would travel unencrypted. Use https, or set "
            "provider.allow_insecure_http: true in ftctl.yaml if you really mean it."
        )
    return base_url.rstrip("/")


class HttpClient:
    """A small synchronous JSON client for an OpenAI-compatible API."""

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
    ) -> None:
        self.base_url = check_base_url(base_url, allow_insecure_http=allow_insecure_http)
        _check_key(api_key)
        self._key = api_key
        self.max_retries = max_retries
        self._sleep = sleep
        self._backoff = (backoff_base, backoff_cap, max_retry_after)
        self._rng = rng or random.Random()
        self.request_count = 0  # HTTP attempts made (benchmarks count these)
        self._count_lock = threading.Lock()
        headers = {"Authorization": f"Bearer {api_key}", "User-Agent": "ftctl"}
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
            verify=True,  # deliberately not configurable: TLS verification cannot be turned off
            trust_env=not _is_loopback(host),  # no proxy detour for the local emulator
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"HttpClient(base_url={self._where!r}, api_key='***')"

    def close(self) -> None:
        self._client.close()

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
        """Send one request (retrying per the policy above) and return the JSON object."""
        response = self._send(method, path, params=params, json=json, files=files, data=data,
                             content=content, retry=retry)
        if not response.content.strip():
            return {}  # e.g. 204 No Content
        try:
            body = response.json()
        except ValueError:
            raise self._scrubbed(PermanentApiError(
                f"{method} {path}: the provider answered with a body that is not JSON",
                status=response.status_code, request_id=response.headers.get("x-request-id"),
            )) from None
        if not isinstance(body, dict):
            raise PermanentApiError(f"{method} {path}: expected a JSON object",
                                    status=response.status_code)
        return body

    def pause_before_retry(self, attempt: int, error: RetryableApiError) -> None:
        """Sleep as the policy says before retry number attempt+1 (for callers' own loops)."""
        self._sleep(self._delay(attempt, error.retry_after))

    def _send(
        self, method: str, path: str, *, retry: bool = True, **kwargs: Any
    ) -> httpx.Response:
        """The retry loop; returns a successful response or raises an ApiError."""
        attempt = 0
        while True:
            error = self._attempt(method, path, kwargs)
            if isinstance(error, httpx.Response):
                return error
            if not isinstance(error, RetryableApiError) or not retry \
                    or attempt >= self.max_retries:
                raise error
            self.pause_before_retry(attempt, error)
            attempt += 1

    def _attempt(
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

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        base, cap, max_after = self._backoff
        if retry_after is not None and retry_after > 0:
            return min(retry_after, max_after)
        return self._rng.uniform(0.0, min(cap, base * 2**attempt))

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
        """Yield every item of a cursor-paginated list (`after` = last id, until not has_more)."""
        query = dict(params or {})
        while True:
            page = self.request("GET", path, params=query)
            items = page.get("data") or []
            yield from items
            if not page.get("has_more") or not items:
                return
            cursor = page.get("last_id") or items[-1]["id"]
            if cursor == query.get("after"):
                return  # a server repeating its cursor would otherwise loop forever
            query["after"] = cursor


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
        "request_id": response.headers.get("x-request-id"),
    }
    if status in RETRYABLE_STATUSES or status >= 500:
        return RetryableApiError(message, retry_after=parse_retry_after(response.headers),
                                 **fields)
    if _is_platform_closed(method, path, status, message, code):
        return PlatformClosedError(f"{PLATFORM_CLOSED_SENTENCE} Provider said: {message}",
                                   **fields)
    return PermanentApiError(message, **fields)


def _error_fields(response: httpx.Response) -> tuple[str, str | None, str | None]:
    default = f"the provider answered HTTP {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        return default, None, None
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return default, None, None
    message = err.get("message") if isinstance(err.get("message"), str) else None
    code, param = err.get("code"), err.get("param")
    return (
        message or default,
        code if isinstance(code, str) else None,
        param if isinstance(param, str) else None,
    )


def _is_platform_closed(
    method: str, path: str, status: int, message: str, code: str | None
) -> bool:
    is_create = method.upper() == "POST" and path.strip("/") == "fine_tuning/jobs"
    if not is_create or status not in PLATFORM_CLOSED_STATUSES:
        return False
    return code in PLATFORM_CLOSED_CODES or bool(PLATFORM_CLOSED_PATTERN.search(message))
