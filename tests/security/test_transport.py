"""Transport security: TLS verification cannot be turned off, and plain http is refused for
non-loopback base URLs unless provider.allow_insecure_http says so, from the settings file and
from OPENAI_BASE_URL alike, without sending a byte and without showing the key.
"""

from __future__ import annotations

import http.server
import inspect
import json
import os
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.client import connect
from reconciler.client.http import HttpClient
from reconciler.errors import ApiError, ConfigError
from reconciler.loader import load_project
from reconciler.spec import ProviderSettings, ProviderType, Settings

KEY = "sk-transport-secret-0123456789"


# --- TLS ------------------------------------------------------------------------------------


class _Counting(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        type(self).hits += 1
        body = b'{"object": "list", "data": [], "has_more": false}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1: (cert path, key path)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a self-signed certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return str(cert), str(key)


@pytest.fixture
def self_signed(certificate: tuple[str, str]) -> Iterator[tuple[str, str]]:
    """An https server on 127.0.0.1 with that certificate: (base URL, cert path)."""
    cert, key = certificate
    _Counting.hits = 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}/v1", cert
    server.shutdown()
    server.server_close()


def test_a_self_signed_certificate_is_refused(self_signed: tuple[str, str]) -> None:
    base_url, cert = self_signed
    # Control: the server works for a client that trusts its certificate.
    assert httpx.get(base_url + "/models", verify=ssl.create_default_context(cafile=cert))
    assert _Counting.hits == 1
    client = HttpClient(base_url, KEY, sleep=lambda s: None, max_retries=1)
    with pytest.raises(ApiError) as caught:
        client.request("GET", "models")
    assert _Counting.hits == 1, "a request got through an unverified TLS connection"
    assert KEY not in str(caught.value) and KEY not in repr(caught.value)


@pytest.mark.parametrize("name", ["PYTHONHTTPSVERIFY", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE",
                                  "SSL_CERT_FILE", "HTTPX_SSL_VERIFY"])
def test_no_environment_variable_turns_verification_off(
    self_signed: tuple[str, str], monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    base_url, _ = self_signed
    monkeypatch.setenv(name, "0" if name in ("PYTHONHTTPSVERIFY", "HTTPX_SSL_VERIFY") else "")
    client = HttpClient(base_url, KEY, sleep=lambda s: None, max_retries=0)
    with pytest.raises(ApiError):
        client.request("GET", "models")
    assert _Counting.hits == 0


def test_there_is_no_switch_to_turn_verification_off(tmp_path: Path) -> None:
    params = inspect.signature(HttpClient.__init__).parameters
    assert not {"verify", "ssl_verify", "insecure", "cert", "ssl_context"} & set(params)
    with pytest.raises(TypeError):
        HttpClient("https://api.example.com/v1", KEY, verify=False)  # type: ignore[call-arg]
    settings = Settings(workspace="w", root=str(tmp_path),
                        provider=ProviderSettings(type=ProviderType.OPENAI))
    with pytest.raises(TypeError):
        connect(settings, {"OPENAI_API_KEY": KEY}, verify=False)


@pytest.mark.parametrize("key", ["verify", "tls_verify", "ssl_verify", "insecure",
                                 "insecure_skip_verify", "verify_ssl", "ca_bundle"])
def test_settings_cannot_hold_a_tls_switch(tmp_path: Path, key: str) -> None:
    (tmp_path / "ftctl.yaml").write_text(
        "apiVersion: ftctl/v1\nkind: Project\nworkspace: w\n"
        f"provider:\n  type: openai\n  {key}: false\n")
    result = load_project(str(tmp_path))
    errors = [d for d in result.diagnostics if d.severity.value == "error"]
    assert errors and all(d.subject and d.subject.file == "ftctl.yaml" for d in errors)
    assert any(d.subject is not None and d.subject.line == 6 for d in errors), errors


# --- plain http -----------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "http://api.example.com/v1", "http://10.0.0.8/v1", "http://0.0.0.0:8000/v1",
    "http://127.0.0.1.nip.io/v1", "http://localhost.example.com/v1",
    "http://127.0.0.1@evil.example.com/v1", "http://[::ffff:a00:1]/v1",
    "HTTP://API.EXAMPLE.COM/v1",
])
def test_plain_http_to_a_remote_host_is_refused(url: str) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    transport = httpx.MockTransport(handler)
    with pytest.raises(ConfigError) as caught:
        HttpClient(url, KEY, transport=transport).request("GET", "models")
    assert "http" in str(caught.value) and KEY not in str(caught.value)
    assert sent == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/v1", "http://127.8.9.10/v1",
                                 "http://[::1]:9/v1", "http://localhost:9/v1"])
def test_plain_http_to_loopback_is_allowed(url: str) -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"ok": True}))
    assert HttpClient(url, KEY, transport=transport).request("GET", "models") == {"ok": True}


def test_plain_http_to_a_remote_host_only_when_explicitly_allowed() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"ok": True})

    client = HttpClient("http://10.0.0.8/v1", KEY, allow_insecure_http=True,
                        transport=httpx.MockTransport(handler))
    assert client.request("GET", "models") == {"ok": True}
    assert seen == ["http://10.0.0.8/v1/models"]


def _project(root: Path, provider: str) -> Path:
    (root / "models").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "ftctl.yaml").write_text(
        f"apiVersion: ftctl/v1\nkind: Project\nworkspace: w\nprovider: {provider}\n")
    rows = "".join(json.dumps({"messages": [{"role": "user", "content": f"q{i}"},
                                            {"role": "assistant", "content": f"a{i}"}]}) + "\n"
                   for i in range(12))
    (root / "data" / "train.jsonl").write_text(rows)
    (root / "models" / "m.yaml").write_text(
        "apiVersion: ftctl/v1\nkind: FineTunedModel\nmetadata: {name: m}\n"
        "spec: {model: gpt-4o-mini-2024-07-18, training_file: ../data/train.jsonl}\n")
    return root


@pytest.mark.parametrize(("provider", "env_url"), [
    ("{type: openai, base_url: 'http://api.example.com/v1'}", None),
    ("{type: openai}", "http://api.example.com/v1"),
    ("{type: local}", "http://10.1.2.3:8000/v1"),
])
def test_plan_refuses_plain_http_before_sending_anything(
    tmp_path: Path, provider: str, env_url: str | None
) -> None:
    root = _project(tmp_path / "repo", provider)
    env = {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": env_url or ""}
    result = CliRunner().invoke(main, ["-C", str(root), "plan"], env=env)
    assert result.exit_code == 1, result.output
    assert "plain http" in result.stderr and "allow_insecure_http" in result.stderr
    assert KEY not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr and result.exception is None or isinstance(
        result.exception, SystemExit)
    assert not os.path.exists(root / ".ftctl" / "emulator.db")
