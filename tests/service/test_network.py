"""The network as companies run it, on loopback: an https emulator whose certificate a private
CA signed (a TLS-inspecting proxy's), and a forwarding HTTP proxy in front of the emulator."""

from __future__ import annotations

import importlib.util
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import eachlabs_widgets as el
from eachlabs_widgets import (
    AsyncEachLabs,
    CertificateError,
    ConfigurationError,
    TransportError,
    _settings,
)
from eachlabs_widgets._doctor import build_report
from eachlabs_widgets._service import proxies
from eachlabs_widgets.emulator import Emulator, serve
from eachlabs_widgets.emulator.catalog import load_catalog

from .tls_pki import TLSServer

MODEL = "flux-2-turbo-text-to-image"
CA_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
PROXY_VARIABLES = [n for name in proxies.VARIABLES for n in (name, name.upper())]


@pytest.fixture(autouse=True)
def _plain_network(monkeypatch):
    for name in [*CA_VARIABLES, *PROXY_VARIABLES, "EACHLABS_TRUSTSTORE"]:
        monkeypatch.delenv(name, raising=False)
    proxies._cache.clear()
    _settings.reset_configuration()


@pytest.fixture
def tls(tmp_path):
    server = TLSServer(Emulator(speed=0.02, seed=3), tmp_path)
    yield server
    server.close()


def client_for(url: str) -> AsyncEachLabs:
    return AsyncEachLabs(api_key="k", base_url=url, journal=False)


async def test_an_untrusted_certificate_is_said_at_once_and_never_retried(tls):
    client = client_for(tls.url)
    started = time.monotonic()
    with pytest.raises(CertificateError) as info:
        await client.get_model(MODEL)
    assert time.monotonic() - started < 1.5
    assert tls.handshakes == 1  # one try: a certificate does not get better by waiting
    error = info.value
    assert isinstance(error, TransportError) and error.sent is False
    assert error.host == "127.0.0.1" and "issuer" in error.reason
    text = str(error)
    for words in ("127.0.0.1", "could not be verified", "proxy", "SSL_CERT_FILE"):
        assert words in text
    assert "REQUESTS_CA_BUNDLE" in text and "EACHLABS_TRUSTSTORE=1" in text
    assert "could not reach" not in text
    with pytest.raises(CertificateError):  # a create is refused the same way: nothing made
        await client.create_prediction(MODEL, {"prompt": "a fox"})
    assert tls.emulator.stats.predictions_created == 0


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
async def test_a_ca_variable_set_in_a_running_process_is_honoured_at_the_next_call(
    tls, monkeypatch, variable
):
    client = client_for(tls.url)
    with pytest.raises(CertificateError):
        await client.list_models()
    monkeypatch.setenv(variable, f'"{tls.pki["ca.pem"]}"')  # as a docker env-file keeps it
    assert len(await client.list_models()) == len(load_catalog())  # the same client, the same loop
    prediction_id = await client.create_prediction(MODEL, {"prompt": "a fox"})
    assert (await client.wait(prediction_id, timeout=30)).status == "success"
    monkeypatch.delenv(variable)
    with pytest.raises(CertificateError, match=r"Trusted now: .*certifi"):
        await client.list_models()


async def test_a_folder_of_hashed_certificates_in_ssl_cert_dir_is_honoured(tls, monkeypatch):
    folder = tls.pki["ca.pem"].parent / "hashed"
    folder.mkdir()
    # OpenSSL finds a CA in a folder by the hash of its subject: <hash>.0
    done = subprocess.run(
        ["openssl", "x509", "-hash", "-noout", "-in", str(tls.pki["ca.pem"])],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip("no openssl command to name the hashed file")
    (folder / f"{done.stdout.strip()}.0").write_bytes(tls.pki["ca.pem"].read_bytes())
    monkeypatch.setenv("SSL_CERT_DIR", str(folder))
    assert len(await client_for(tls.url).list_models()) == len(load_catalog())


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"])
async def test_a_ca_variable_naming_nothing_is_a_configuration_error(tls, monkeypatch, variable):
    monkeypatch.setenv(variable, "/nonexistent/corp-root.pem")
    with pytest.raises(ConfigurationError, match=f"{variable} names '/nonexistent/corp-root.pem'"):
        await client_for(tls.url).create_prediction(MODEL, {"prompt": "a fox"})
    assert tls.handshakes == 0  # said before anything was sent


async def test_a_ca_file_that_holds_no_certificate_is_a_configuration_error(tls, monkeypatch):
    bogus = tls.pki["ca.pem"].with_name("bogus.pem")
    bogus.write_text("this is not a certificate\n")
    monkeypatch.setenv("SSL_CERT_FILE", str(bogus))
    with pytest.raises(ConfigurationError, match="holds no CA certificate OpenSSL can read"):
        await client_for(tls.url).list_models()


@pytest.mark.skipif(
    importlib.util.find_spec("truststore") is not None, reason="truststore is installed"
)
async def test_truststore_asked_for_and_missing_says_how_to_get_it(tls, monkeypatch):
    monkeypatch.setenv("EACHLABS_TRUSTSTORE", "1")
    with pytest.raises(ConfigurationError, match="pip install truststore"):
        await client_for(tls.url).list_models()


def test_the_doctor_names_the_certificate_failure_and_the_ca_in_use(tls, monkeypatch):
    monkeypatch.setenv("EACHLABS_BASE_URL", tls.url)
    found = {check: (status, detail) for check, status, detail in el.doctor(timeout=2).rows}
    assert found["service reachable"][0] == "PROBLEM"
    assert "certificate of 127.0.0.1 could not be verified" in found["service reachable"][1]
    assert found["CA certificates"][1].startswith("certifi ")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.pki["ca.pem"]))
    found = {check: (status, detail) for check, status, detail in el.doctor(timeout=2).rows}
    assert found["service reachable"][0] == "ok"
    assert found["CA certificates"] == ("", f"{tls.pki['ca.pem']} (from REQUESTS_CA_BUNDLE)")
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent.pem")
    found = {check: (status, detail) for check, status, detail in el.doctor(timeout=2).rows}
    assert (
        found["CA certificates"][0] == "PROBLEM" and "SSL_CERT_FILE" in found["CA certificates"][1]
    )


# -- proxies ---------------------------------------------------------------------------------


class ForwardingProxy:
    """An HTTP proxy on loopback: forwards absolute-form requests, and records them."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        proxy = self
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _forward(self):
                proxy.seen.append(f"{self.command} {self.path}")
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                request = urllib.request.Request(
                    self.path, data=body, headers=headers, method=self.command
                )
                try:
                    answer = direct.open(request, timeout=10)
                except urllib.error.HTTPError as error:
                    answer = error
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.headers.items():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _forward

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def proxied():
    emulator_server = serve(Emulator(speed=0.02, seed=4))
    proxy = ForwardingProxy()
    yield emulator_server, proxy
    proxy.close()
    emulator_server.close()


async def test_the_proxy_carries_the_api_uploads_and_downloads(proxied, monkeypatch, tmp_path):
    server, proxy = proxied
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    client = client_for(server.url)
    url = await client.upload(b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png")
    generation = await client.run(MODEL, {"prompt": "a fox"}, save_to=str(tmp_path))
    assert generation.status == "success"
    said = "\n".join(proxy.seen)
    for path in ("/v1/upload/presign", "PUT ", "/v1/model?", "POST ", "/v1/prediction/"):
        assert path in said, path
    assert any(generation.urls[0] in line for line in proxy.seen)  # the output's download
    assert url


@pytest.mark.parametrize(
    "no_proxy",
    [
        "localhost,127.0.0.1,::1,fd07:b51a:cc66:f0::/64",  # OrbStack's
        "[::1], 127.0.0.0/8",
        "127.0.0.1:{port}",
        "*",
        ".example.com , 127.*",
    ],
)
async def test_no_proxy_in_every_form_never_breaks_a_call(proxied, monkeypatch, no_proxy):
    server, proxy = proxied
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", no_proxy.format(port=server.port))
    assert len(await client_for(server.url).list_models()) == len(load_catalog())
    assert proxy.seen == []  # 127.0.0.1 is listed: straight to the service


async def test_entries_that_do_not_match_leave_the_proxy_in_use(proxied, monkeypatch):
    server, proxy = proxied
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("no_proxy", "::1/128,fd07:b51a::/64,10.0.0.0/8,127.0.0.1:1")
    assert len(await client_for(server.url).list_models()) == len(load_catalog())
    assert proxy.seen and "/v1/models" in proxy.seen[0]


async def test_a_proxy_that_cannot_be_reached_is_named(proxied, monkeypatch):
    server, _proxy = proxied
    monkeypatch.setenv("HTTP_PROXY", "http://user:s3cret@127.0.0.1:9")
    with pytest.raises(TransportError) as info:
        await AsyncEachLabs(
            api_key="k", base_url=server.url, journal=False, retry=el_retry_once()
        ).list_models()
    assert "through the proxy http://***@127.0.0.1:9 (HTTP_PROXY)" in str(info.value)
    assert "s3cret" not in str(info.value)


def el_retry_once():
    from eachlabs_widgets._service.retry import RetryPolicy

    return RetryPolicy(max_attempts=1)


def test_the_doctor_shows_the_proxy_in_force_and_skipped_entries(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://user:s3cret@proxy.corp:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,::1,exa$mple")
    with pytest.warns(UserWarning, match="skipped 1 entry"):
        report = build_report(None, timeout=0.2)
    found = {check: (status, detail) for check, status, detail in report.rows}
    assert found["proxy"] == (
        "",
        "api.eachlabs.ai through http://***@proxy.corp:3128 (HTTPS_PROXY)",
    )
    assert found["NO_PROXY"] == (
        "PROBLEM",
        "2 entries honoured; skipped, cannot be read: 'exa$mple'",
    )
    assert "s3cret" not in str(report)


def test_the_doctor_and_a_batch_go_through_the_proxy_too(proxied, monkeypatch, tmp_path):
    server, proxy = proxied
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("EACHLABS_BASE_URL", server.url)
    monkeypatch.setenv("EACHLABS_API_KEY", "k")
    monkeypatch.setenv("EACHLABS_OUTPUT_DIR", str(tmp_path / "out"))
    found = {check: (status, detail) for check, status, detail in el.doctor(timeout=2).rows}
    assert found["service reachable"][0] == "ok"
    assert found["proxy"][1] == f"127.0.0.1 through {proxy.url} (HTTP_PROXY)"
    assert any("/v1/models?limit=1" in line for line in proxy.seen)
    rows = tmp_path / "prompts.csv"
    rows.write_text("prompt\na fox\n", encoding="utf-8")
    summary = el.batch(MODEL, rows, progress=False)
    assert summary.succeeded == 1
    assert any("POST " in line and "/v1/prediction" in line for line in proxy.seen)


async def test_a_folder_in_ssl_cert_file_is_named_as_such(tls, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.pki["ca.pem"].parent))
    with pytest.raises(ConfigurationError, match="a folder; it takes a PEM file"):
        await client_for(tls.url).list_models()


def test_configure_truststore_wins_over_the_environment(monkeypatch):
    from eachlabs_widgets._service import trust

    monkeypatch.setenv("EACHLABS_TRUSTSTORE", "yes")
    assert trust.source().origin == trust.TRUSTSTORE
    _settings.configure(truststore=False)
    try:
        assert trust.source().origin == "certifi"
        _settings.configure(truststore=True)
        monkeypatch.setenv("EACHLABS_TRUSTSTORE", "0")
        assert trust.source() == trust.CASource(trust.TRUSTSTORE, None)
    finally:
        _settings.reset_configuration()


async def test_every_pool_keeps_the_bounded_connection_limits(monkeypatch):
    # A client given a transport ignores its own ``limits``: each pool must get them itself,
    # or every pool opens up to 100 connections and keeps only 20 (httpx's default).
    import httpx

    from eachlabs_widgets._service.aio import AiohttpPool
    from eachlabs_widgets._service.network import LIMITS, NetworkTransport

    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "direct.example")
    transport = NetworkTransport()
    try:
        direct = transport._current().pool(httpx.URL("https://direct.example/v1/models"))
        assert isinstance(direct, AiohttpPool)
        session = direct._open()  # aiohttp's pool: where the limits end up
        try:
            assert session.connector is not None
            assert session.connector.limit == LIMITS.max_connections
            assert session.connector.limit_per_host == 0
        finally:
            await session.close()
        proxied = transport._current().pool(httpx.URL("https://api.example/v1/models"))
        inner = proxied._pool  # type: ignore[attr-defined]  # httpcore's pool
        assert inner._max_connections == LIMITS.max_connections
        assert inner._max_keepalive_connections == LIMITS.max_keepalive_connections
    finally:
        await transport.aclose()
