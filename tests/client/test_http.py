"""HttpClient against httpx.MockTransport handler functions: retries, backoff, Retry-After,
error mapping, pagination, URL safety, and that the API key never leaks."""

from __future__ import annotations

import json
import random
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from reconciler.client.http import HttpClient, parse_retry_after
from reconciler.errors import (
    ApiError,
    ConfigError,
    PermanentApiError,
    PlatformClosedError,
    RetryableApiError,
    Stopped,
)

KEY = "sk-test-SECRET-0123456789abcdef"
Handler = Callable[[httpx.Request], httpx.Response]


def make_client(handler: Handler, sleeps: list[float] | None = None, **kw: object) -> HttpClient:
    record = sleeps if sleeps is not None else []
    return HttpClient(
        "https://api.example.test/v1", KEY, transport=httpx.MockTransport(handler),
        sleep=record.append, rng=random.Random(7), **kw,  # type: ignore[arg-type]
    )


def error_body(message: str, code: str | None = None, param: str | None = None) -> bytes:
    return json.dumps(
        {"error": {"message": message, "type": "invalid_request_error", "param": param,
                   "code": code}}
    ).encode()


def sequence(*responses: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return handler, seen


def ok(body: object = None) -> httpx.Response:
    return httpx.Response(200, json=body if body is not None else {"ok": True})


def test_sends_auth_org_project_headers() -> None:
    handler, seen = sequence(ok())
    client = make_client(handler, organization="org-1", project="proj_1")
    assert client.request("GET", "models") == {"ok": True}
    headers = seen[0].headers
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["openai-organization"] == "org-1"
    assert headers["openai-project"] == "proj_1"
    assert str(seen[0].url) == "https://api.example.test/v1/models"


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503])
def test_retries_transient_statuses_then_succeeds(status: int) -> None:
    handler, seen = sequence(httpx.Response(status, content=error_body("busy")), ok())
    sleeps: list[float] = []
    assert make_client(handler, sleeps).request("GET", "models") == {"ok": True}
    assert len(seen) == 2
    assert len(sleeps) == 1 and 0.0 <= sleeps[0] <= 0.5


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_never_retries_permanent_statuses(status: int) -> None:
    handler, seen = sequence(
        httpx.Response(status, content=error_body("nope", code="bad", param="model"),
                       headers={"x-request-id": "req_42"}),
    )
    sleeps: list[float] = []
    with pytest.raises(PermanentApiError) as info:
        make_client(handler, sleeps).request("POST", "fine_tuning/jobs", json={})
    assert len(seen) == 1 and sleeps == []
    err = info.value
    assert (err.status, err.code, err.param, err.request_id) == (status, "bad", "model", "req_42")
    assert err.message == "nope"
    assert "req_42" in str(err) and str(status) in str(err)


def test_connection_errors_and_lost_responses_are_retried() -> None:
    request = httpx.Request("GET", "https://api.example.test/v1/models")
    handler, seen = sequence(
        httpx.ConnectError("refused", request=request),
        httpx.RemoteProtocolError("server disconnected without response", request=request),
        httpx.ReadTimeout("slow", request=request),
        ok(),
    )
    sleeps: list[float] = []
    assert make_client(handler, sleeps).request("GET", "models") == {"ok": True}
    assert len(seen) == 4 and len(sleeps) == 3


def test_gives_up_after_max_retries_with_typed_error() -> None:
    handler, seen = sequence(*[httpx.Response(503, content=error_body("down"))] * 4)
    sleeps: list[float] = []
    with pytest.raises(RetryableApiError) as info:
        make_client(handler, sleeps, max_retries=3).request("GET", "models")
    assert len(seen) == 4 and len(sleeps) == 3
    assert info.value.status == 503


def test_backoff_is_exponential_full_jitter_and_capped() -> None:
    handler, _ = sequence(*[httpx.Response(500)] * 8)
    sleeps: list[float] = []
    with pytest.raises(RetryableApiError):
        make_client(handler, sleeps, max_retries=7).request("GET", "models")
    bounds = [min(8.0, 0.5 * 2**n) for n in range(7)]
    assert all(0.0 <= s <= b for s, b in zip(sleeps, bounds, strict=True))
    assert max(sleeps) > 0.5  # grows beyond the first bound (seeded rng)


def test_honours_retry_after_seconds_and_ms() -> None:
    handler, _ = sequence(
        httpx.Response(429, headers={"retry-after": "3"}),
        httpx.Response(429, headers={"retry-after-ms": "1500", "retry-after": "9"}),
        ok(),
    )
    sleeps: list[float] = []
    make_client(handler, sleeps).request("GET", "models")
    assert sleeps == [3.0, 1.5]


def test_retry_after_is_bounded() -> None:
    handler, _ = sequence(httpx.Response(429, headers={"retry-after": "3600"}), ok())
    sleeps: list[float] = []
    make_client(handler, sleeps).request("GET", "models")
    assert sleeps == [60.0]


def test_retry_after_http_date() -> None:
    headers = {"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}
    assert parse_retry_after(headers, now=1445412480.0) == 10.0
    assert parse_retry_after({"retry-after": "garbage"}) is None
    assert parse_retry_after({}) is None


def test_retry_false_sends_once() -> None:
    handler, seen = sequence(httpx.Response(500), ok())
    with pytest.raises(RetryableApiError):
        make_client(handler).request("POST", "files", retry=False)
    assert len(seen) == 1


def test_error_without_json_body_still_maps() -> None:
    handler, _ = sequence(httpx.Response(404, text="<html>not here</html>"))
    with pytest.raises(PermanentApiError) as info:
        make_client(handler).request("GET", "models/x")
    assert info.value.status == 404 and str(info.value).count("404") == 1


@pytest.mark.parametrize(
    ("status", "message", "code"),
    [
        (403, "Fine-tuning is no longer available to your organization.", None),
        (403, "Sorry.", "fine_tuning_disabled"),
        (400, "Fine-tuning job creation is closed for this organization", "invalid_request"),
    ],
)
def test_platform_closed_on_create(status: int, message: str, code: str | None) -> None:
    handler, seen = sequence(httpx.Response(status, content=error_body(message, code=code)))
    with pytest.raises(PlatformClosedError) as info:
        make_client(handler).request("POST", "fine_tuning/jobs", json={"model": "m"})
    assert len(seen) == 1
    assert "closed to this organization" in str(info.value)
    assert info.value.status == status


def test_platform_closed_only_for_creates() -> None:
    body = error_body("Fine-tuning is no longer available to your organization.")
    handler, _ = sequence(httpx.Response(403, content=body))
    with pytest.raises(PermanentApiError) as info:
        make_client(handler).request("GET", "fine_tuning/jobs")
    assert not isinstance(info.value, PlatformClosedError)


def test_paginate_follows_after_until_has_more_false() -> None:
    pages = {
        None: {"data": [{"id": "a"}, {"id": "b"}], "has_more": True},
        "b": {"data": [{"id": "c"}], "has_more": True, "last_id": "c"},
        "c": {"data": [{"id": "d"}], "has_more": False},
    }
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        seen.append(after)
        assert request.url.params["limit"] == "2"
        return ok(pages[after])

    items = list(make_client(handler).paginate("fine_tuning/jobs", {"limit": 2}))
    assert [i["id"] for i in items] == ["a", "b", "c", "d"]
    assert seen == [None, "b", "c"]


def test_paginate_stops_on_empty_page() -> None:
    handler, seen = sequence(ok({"data": [], "has_more": True}))
    assert list(make_client(handler).paginate("files")) == []
    assert len(seen) == 1


@pytest.mark.parametrize(
    "url", ["http://api.example.com/v1", "http://10.0.0.5:8000/v1", "ftp://x/v1", "nonsense"]
)
def test_insecure_or_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        HttpClient(url, KEY)
    assert KEY not in str(info.value)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/v1", "http://localhost:1/v1", "http://[::1]:9/v1"]
)
def test_plain_http_allowed_for_loopback(url: str) -> None:
    assert HttpClient(url, KEY).base_url == url


def test_plain_http_allowed_when_explicitly_asked() -> None:
    client = HttpClient("http://api.example.com/v1", KEY, allow_insecure_http=True)
    assert client.base_url == "http://api.example.com/v1"


def test_tls_verification_cannot_be_disabled() -> None:
    with pytest.raises(TypeError):
        HttpClient("https://x/v1", KEY, verify=False)  # type: ignore[call-arg]


def _leaky_handler(request: httpx.Request) -> httpx.Response:
    """A server that echoes the key back in every way it can."""
    echoed = f"Incorrect API key provided: {KEY}. Header was {request.headers['authorization']}"
    return httpx.Response(401, content=error_body(echoed, code="invalid_api_key"),
                          headers={"x-request-id": "req_1"})


def _all_texts(exc: BaseException) -> list[str]:
    texts = [str(exc), repr(exc), *(str(a) for a in exc.args)]
    texts += [str(v) for v in vars(exc).values()]
    return texts


def test_key_never_leaks_from_errors_or_reprs() -> None:
    client = make_client(_leaky_handler)
    with pytest.raises(ApiError) as info:
        client.request("GET", "models")
    assert info.value.__cause__ is None and info.value.__context__ is None
    for text in [*_all_texts(info.value), repr(client), str(client)]:
        assert KEY not in text
        assert "SECRET" not in text
    request = httpx.Request("GET", "https://x")

    def broken(req: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"failed with {KEY}", request=request)

    with pytest.raises(RetryableApiError) as info2:
        make_client(broken, max_retries=1).request("GET", "models")
    for text in _all_texts(info2.value):
        assert KEY not in text


def test_no_httpx_exception_escapes() -> None:
    request = httpx.Request("GET", "https://x")

    def broken(req: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("boom", request=request)

    with pytest.raises(ApiError) as info:
        make_client(broken, max_retries=0).request("GET", "models")
    assert not isinstance(info.value, httpx.HTTPError)
    assert not isinstance(info.value.__cause__, httpx.HTTPError)
    assert info.value.__context__ is None


def test_non_json_success_is_an_api_error() -> None:
    handler, _ = sequence(*[httpx.Response(200, text="not json")] * 2)
    with pytest.raises(ApiError):
        make_client(handler, max_retries=0).request("GET", "models")


def test_counts_requests() -> None:
    handler, _ = sequence(httpx.Response(500), ok())
    client = make_client(handler)
    client.request("GET", "models")
    assert client.request_count == 2


def test_raw_socket_errors_from_a_transport_are_retried() -> None:
    handler, seen = sequence(ConnectionResetError("peer reset"), ok())
    sleeps: list[float] = []
    assert make_client(handler, sleeps).request("GET", "models") == {"ok": True}
    assert len(seen) == 2 and len(sleeps) == 1


def test_real_transport_verifies_certificates_and_hostnames() -> None:
    client = HttpClient("https://api.example.test/v1", KEY)
    pool = client._client._transport._pool  # type: ignore[attr-defined]
    context = pool._ssl_context
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_a_plain_http_client_loads_no_trust_and_still_requires_verification() -> None:
    """http:// never speaks TLS; its context requires verified certificates from an empty
    trust store (so nothing could pass), while https loads the usual CA bundle."""
    plain = HttpClient("http://127.0.0.1:9/v1", KEY)
    context = plain._client._transport._pool._ssl_context  # type: ignore[attr-defined]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] == 0
    secure = HttpClient("https://api.example.test/v1", KEY)
    trusted = secure._client._transport._pool._ssl_context  # type: ignore[attr-defined]
    assert trusted.cert_store_stats()["x509_ca"] > 0


def test_redirects_are_not_followed_with_the_key() -> None:
    handler, seen = sequence(
        httpx.Response(302, headers={"location": "https://elsewhere.example/steal"}))
    with pytest.raises(PermanentApiError) as info:
        make_client(handler).request("GET", "models")
    assert len(seen) == 1 and info.value.status == 302


@pytest.mark.parametrize("bad", ["", "sk-has space", "sk-new\nline", "sk-ünïcode"])
def test_unusable_keys_are_config_errors_that_do_not_quote_the_key(bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        HttpClient("https://api.example.test/v1", bad)
    assert not bad or bad not in str(info.value)


def test_empty_success_body_is_an_empty_object() -> None:
    handler, _ = sequence(httpx.Response(204))
    assert make_client(handler).request("DELETE", "models/ft:x") == {}


def test_paginate_stops_when_the_cursor_does_not_move() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return ok({"data": [{"id": "same"}], "has_more": True})

    assert [i["id"] for i in make_client(handler).paginate("files")] == ["same", "same"]


def test_other_httpx_failures_become_permanent_api_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.DecodingError("bad gzip")

    with pytest.raises(PermanentApiError) as info:
        make_client(handler).request("GET", "models")
    assert "DecodingError" in str(info.value) and info.value.__context__ is None


def test_connection_errors_name_the_host_but_no_credentials() -> None:
    request = httpx.Request("GET", "https://x")

    def broken(req: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = HttpClient("https://user:hunter2@api.example.test:8443/v1", KEY, max_retries=0,
                        transport=httpx.MockTransport(broken))
    with pytest.raises(RetryableApiError) as info:
        client.request("GET", "models")
    assert "https://api.example.test:8443" in str(info.value)
    assert "hunter2" not in str(info.value) and "hunter2" not in repr(client)


def test_config_errors_do_not_show_url_credentials() -> None:
    with pytest.raises(ConfigError) as info:
        HttpClient("http://user:hunter2@api.example.com/v1", KEY)
    assert "hunter2" not in str(info.value) and "api.example.com" in str(info.value)


def test_every_retry_is_announced_with_its_wait_attempt_and_reason() -> None:
    notices: list[str] = []
    handler, _ = sequence(httpx.Response(503, headers={"retry-after": "4"}),
                          httpx.ConnectError("refused"), ok())
    client = make_client(handler, on_retry=lambda n: notices.append(str(n)))
    assert client.request("GET", "fine_tuning/jobs") == {"ok": True}
    assert notices[0] == "retrying GET fine_tuning/jobs in 4 s (attempt 2 of 6): HTTP 503"
    assert notices[1].startswith("retrying GET fine_tuning/jobs in ")
    assert notices[1].endswith(" s (attempt 3 of 6): connection failed")
    assert len(notices) == 2


def test_giving_up_says_how_many_attempts_were_made() -> None:
    handler, seen = sequence(*[httpx.Response(503) for _ in range(6)])
    with pytest.raises(RetryableApiError) as info:
        make_client(handler).request("POST", "fine_tuning/jobs", json={})
    assert len(seen) == 6
    assert "gave up after 6 attempts" in str(info.value)
    assert str(info.value).count("HTTP 503") == 1


def test_requests_inside_a_send_are_tried_once_so_retries_never_multiply() -> None:
    handler, seen = sequence(*[httpx.Response(503) for _ in range(6)])
    client = make_client(handler)

    def send() -> dict[str, object]:
        return client.request("POST", "fine_tuning/jobs", json={})  # would retry on its own

    with pytest.raises(RetryableApiError):
        client.retrying("POST fine_tuning/jobs", send)
    assert len(seen) == 6  # not 6 x 6


def test_a_lost_write_is_looked_up_before_it_is_sent_again() -> None:
    handler, seen = sequence(httpx.Response(502), httpx.Response(502))
    client = make_client(handler)
    lookups: list[int] = []

    def lookup() -> dict[str, object] | None:
        lookups.append(len(seen))
        return {"id": "found"} if len(lookups) == 2 else None

    def send() -> dict[str, object]:
        return client.request("POST", "files")

    assert client.retrying("POST files", send, lookup) == {"id": "found"}
    # Looked up before each re-send, never before the first send.
    assert lookups == [1, 2] and len(seen) == 2


def test_a_problem_json_error_keeps_its_detail_and_says_the_status_once() -> None:
    problem = {"type": "about:blank", "title": "Unprocessable Entity", "status": 422,
               "detail": "training_file exceeds the gateway's 512 MB limit"}
    handler, _ = sequence(httpx.Response(
        422, content=json.dumps(problem).encode(),
        headers={"content-type": "application/problem+json"}))
    with pytest.raises(PermanentApiError) as info:
        make_client(handler).request("POST", "fine_tuning/jobs", json={})
    text = str(info.value)
    assert text == ("Unprocessable Entity: training_file exceeds the gateway's 512 MB limit "
                    "(HTTP 422)")


def test_a_plain_text_error_keeps_its_first_line() -> None:
    handler, _ = sequence(httpx.Response(403, text="blocked by corporate proxy\nref 12"))
    with pytest.raises(PermanentApiError) as info:
        make_client(handler).request("GET", "models")
    assert str(info.value) == "blocked by corporate proxy (HTTP 403)"


def test_one_outage_is_announced_once_and_ends_every_request_caught_in_it() -> None:
    """Parallel reads of an unreachable provider: one voice announces the retries, and the
    others stop once one has spent its budget; a request made afterwards gets a full one."""
    attempts: dict[str, int] = {}
    lock, first_done, first = threading.Lock(), threading.Event(), []
    all_started = threading.Barrier(3)

    def unreachable(request: httpx.Request) -> httpx.Response:
        with lock:
            attempts[request.url.path] = attempts.get(request.url.path, 0) + 1
            starting = attempts[request.url.path] == 1 and not first_done.is_set()
        if starting:
            all_started.wait(10)  # the three requests run at the same time
        raise httpx.ConnectError("refused")

    def sleep(_: float) -> None:
        """The first request to back off waits not at all; the others until it is over."""
        with lock:
            first[:] = first or [threading.get_ident()]
        if first[0] != threading.get_ident():
            first_done.wait(10)

    def failure(path: str) -> Exception | None:
        try:
            client.request("GET", path)
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            return exc
        finally:
            if first and first[0] == threading.get_ident():
                first_done.set()
        return None

    notices: list[str] = []
    client = HttpClient("https://api.example.test/v1", KEY, sleep=sleep,
                        transport=httpx.MockTransport(unreachable),
                        on_retry=lambda n: notices.append(str(n)))
    with ThreadPoolExecutor(max_workers=3) as pool:
        failures = list(pool.map(failure, ["fine_tuning/jobs", "files", "models"]))
    assert all(isinstance(f, RetryableApiError) for f in failures)
    assert 1 <= len(notices) <= 5
    assert len({n.split(" in ")[0] for n in notices}) == 1  # one voice: one request's label
    *others, longest = sorted(attempts.values())
    assert longest == 6 and others and max(others) <= 2  # caught in it: stop at the next failure
    attempts.clear()
    first[:] = [threading.get_ident()]  # no waiting from here on
    assert isinstance(failure("models"), RetryableApiError)
    assert attempts == {"/v1/models": 6}
def _three_pages(seen: list[str | None], asked: dict[str | None, threading.Event],
                 fail_on: str | None = None) -> Handler:
    pages = {
        None: {"data": [{"id": "a"}, {"id": "b"}], "has_more": True},
        "b": {"data": [{"id": "c"}], "has_more": True},
        "c": {"data": [{"id": "d"}], "has_more": False},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        seen.append(after)
        asked[after].set()
        if fail_on is not None and after == fail_on:
            return httpx.Response(404, content=error_body("gone"))
        return ok(pages[after])

    return handler


def test_paginate_asks_for_the_next_page_while_the_caller_reads_this_one() -> None:
    seen: list[str | None] = []
    asked = {k: threading.Event() for k in (None, "b", "c")}
    items = make_client(_three_pages(seen, asked)).paginate("fine_tuning/jobs", {"limit": 2})
    assert next(items)["id"] == "a"
    # Only the first item of the first page is read, yet the second page is on its way.
    assert asked["b"].wait(timeout=30)
    assert [i["id"] for i in items] == ["b", "c", "d"]
    assert seen == [None, "b", "c"]  # still one request per page, in order


def test_paginate_error_on_a_later_page_comes_after_the_earlier_items() -> None:
    seen: list[str | None] = []
    asked = {k: threading.Event() for k in (None, "b", "c")}
    got: list[str] = []
    with pytest.raises(PermanentApiError, match="gone"):
        for item in make_client(_three_pages(seen, asked, fail_on="b")).paginate("files"):
            got.append(item["id"])
    assert got == ["a", "b"] and seen == [None, "b"]


def test_paginate_inside_a_retried_send_reads_pages_on_the_callers_thread() -> None:
    """A look-up before a re-send lists pages: those requests are tried once, on the thread
    whose retry loop owns the budget, not on a page-ahead thread with budgets of their own."""
    threads: set[int] = set()
    seen: list[str | None] = []
    asked = {k: threading.Event() for k in (None, "b", "c")}
    pages = _three_pages(seen, asked)

    def handler(request: httpx.Request) -> httpx.Response:
        threads.add(threading.get_ident())
        return pages(request)

    client = make_client(handler)
    listed = client.retrying("lookup", lambda: [i["id"] for i in client.paginate("files")])
    assert listed == ["a", "b", "c", "d"]
    assert threads == {threading.get_ident()}


def test_paginate_stopped_early_asks_for_at_most_one_page_more() -> None:
    seen: list[str | None] = []
    asked = {k: threading.Event() for k in (None, "b", "c")}
    items = make_client(_three_pages(seen, asked)).paginate("files")
    assert next(items)["id"] == "a"
    items.close()
    assert asked["b"].wait(timeout=30)
    assert not asked["c"].is_set() and seen == [None, "b"]


def test_a_stopped_client_sends_nothing_more() -> None:
    handler, seen = sequence(ok())
    client = make_client(handler)
    client.stop()
    with pytest.raises(Stopped, match="not sent"):
        client.request("GET", "files")
    assert seen == []


def test_stop_ends_a_wait_between_attempts_at_once() -> None:
    """With the real clock the wait is the stop event's: a refresh whose answers are no
    longer wanted does not sleep out a backoff of minutes."""
    first = threading.Event()

    def unavailable(request: httpx.Request) -> httpx.Response:
        first.set()
        return httpx.Response(503, content=error_body("busy"))

    client = HttpClient("https://api.example.test/v1", KEY,
                        transport=httpx.MockTransport(unavailable), backoff_base=600.0,
                        backoff_cap=600.0, rng=random.Random(7))
    assert random.Random(7).uniform(0, 600) > 60  # the first wait, were it not stopped
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            client.request("GET", "files")
        except ApiError as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    assert first.wait(30)
    client.stop()
    reader.join(30)
    assert not reader.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], Stopped)
    assert "not retried" in str(outcome[0])
