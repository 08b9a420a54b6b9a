"""``NO_PROXY`` and the proxy variables as people write them: every form is read or skipped with
one warning, never an error that stops the client."""

from __future__ import annotations

import warnings

import pytest

from eachlabs_widgets import ConfigurationError
from eachlabs_widgets._service import proxies

_NAMES = [n for name in proxies.VARIABLES for n in (name, name.upper())]


@pytest.fixture(autouse=True)
def _no_proxy_variables(monkeypatch):
    for name in [*_NAMES, "REQUEST_METHOD"]:
        monkeypatch.delenv(name, raising=False)
    proxies._cache.clear()
    yield
    proxies._cache.clear()


def bypassed(no_proxy: str, url_host: str, port: int = 443, scheme: str = "https") -> bool:
    rules, skipped = proxies.parse_no_proxy(no_proxy)
    assert skipped == ()
    config = proxies.ProxyConfig({"all": ("http://proxy:3128", "ALL_PROXY")}, rules)
    return config.proxy_for(scheme, url_host, port) is None


@pytest.mark.parametrize(
    ("no_proxy", "host", "expected"),
    [
        ("*", "api.eachlabs.ai", True),
        ("example.com", "example.com", True),
        ("example.com", "api.example.com", True),
        ("example.com", "notexample.com", False),
        (".example.com", "api.example.com", True),
        (".example.com", "example.com", True),
        ("*.example.com", "deep.api.example.com", True),
        ("EXAMPLE.com", "api.example.COM.", True),  # case and the root's dot do not matter
        ("::1", "::1", True),
        ("::1", "0:0:0:0:0:0:0:1", True),  # the same address, written out
        ("[::1]", "::1", True),
        ("::1/128", "::1", True),
        ("fd07:b51a:cc66:f0::/64", "fd07:b51a:cc66:f0::5", True),
        ("fd07:b51a:cc66:f0::/64", "fd07:b51a:cc66:f1::5", False),
        ("[fd00::]/8", "fd12::1", True),
        ("10.0.0.0/8", "10.20.30.40", True),
        ("10.0.0.0/8", "11.0.0.1", False),
        ("10.0.0.0/8", "ten.example", False),  # ranges match addresses: no name is looked up
        ("192.168.1.5/24", "192.168.1.200", True),  # host bits set, as people write them
        ("192.168.*", "192.168.7.7", True),
        ("192.168.*", "192.169.0.1", False),
        ("127.0.0.1", "127.0.0.1", True),
        ("<local>", "intranet", True),
        ("<local>", "intranet.corp", False),
        ("http://localhost", "localhost", False),  # only for http
    ],
)
def test_every_form_people_write(no_proxy, host, expected):
    assert bypassed(no_proxy, host) is expected


def test_ports_narrow_an_entry():
    assert bypassed("localhost:8080", "localhost", 8080)
    assert not bypassed("localhost:8080", "localhost", 8081)
    assert bypassed("[::1]:8765", "::1", 8765)
    assert not bypassed("[::1]:8765", "::1", 443)
    assert bypassed("10.0.0.1:443", "10.0.0.1", 443)
    assert bypassed("http://localhost", "localhost", 80, "http")


def test_entries_are_separated_by_commas_semicolons_or_blanks():
    rules, skipped = proxies.parse_no_proxy(" localhost ,  127.0.0.1\t::1,,fd07:b51a::/64 ")
    assert len(rules) == 4 and skipped == ()
    rules, skipped = proxies.parse_no_proxy("*.corp.example;192.168.*;<local>")  # Windows'
    assert len(rules) == 3 and skipped == ()


@pytest.mark.parametrize(
    "bad", ["exa$mple.com", "10.0.0.0/33", "[::1", "[::1]x", "host:port", "ftp://x", "a..b"]
)
def test_an_unreadable_entry_is_skipped_and_the_rest_honoured(bad):
    rules, skipped = proxies.parse_no_proxy(f"localhost,{bad},10.0.0.0/8")
    assert skipped == (bad,)
    config = proxies.ProxyConfig({"https": ("http://proxy:3128", "HTTPS_PROXY")}, rules)
    assert config.proxy_for("https", "10.1.1.1", 443) is None
    assert config.proxy_for("https", "api.eachlabs.ai", 443) is not None


def test_unreadable_entries_are_warned_about_once_per_value(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "localhost,exa$mple,::1/128")
    with pytest.warns(UserWarning, match=r"NO_PROXY: skipped 1 entry .*'exa\$mple'"):
        config = proxies.current()
    assert len(config.rules) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert proxies.current() is config  # read again only when the variable changes


def test_the_lowercase_spelling_wins_and_a_url_without_scheme_means_http(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://upper:1")
    monkeypatch.setenv("https_proxy", "lower.corp:3128")
    monkeypatch.setenv("ALL_PROXY", "http://all:2")
    config = proxies.current()
    assert config.proxy_for("https", "api.eachlabs.ai", 443) == (
        "http://lower.corp:3128",
        "https_proxy",
    )
    assert config.proxy_for("http", "api.eachlabs.ai", 80) == ("http://all:2", "ALL_PROXY")


def test_a_cgi_request_does_not_take_its_proxy_header_for_a_setting(monkeypatch):
    monkeypatch.setenv("REQUEST_METHOD", "GET")
    monkeypatch.setenv("HTTP_PROXY", "http://attacker:1")  # what a Proxy: header becomes
    assert proxies.current().proxy_for("http", "api.eachlabs.ai", 80) is None


def test_a_proxy_change_in_a_running_process_is_read_at_the_next_request(monkeypatch):
    assert proxies.current().proxy_for("https", "api.eachlabs.ai", 443) is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    assert proxies.current().proxy_for("https", "api.eachlabs.ai", 443) is not None


def test_credentials_in_proxy_urls_are_masked():
    assert proxies.mask("http://user:s3cret@proxy:3128/") == "http://***@proxy:3128/"
    assert proxies.mask("http://proxy:3128") == "http://proxy:3128"
    with pytest.raises(ConfigurationError, match=r"HTTPS_PROXY=ftp://\*\*\*@proxy") as info:
        proxies.check_proxy_url("ftp://user:s3cret@proxy:21", "HTTPS_PROXY")
    assert "s3cret" not in str(info.value)
    config = proxies.ProxyConfig({"https": ("http://user:s3cret@proxy:3128", "HTTPS_PROXY")})
    assert "s3cret" not in repr(config) and "***@proxy:3128" in repr(config)


def test_quotes_an_env_file_kept_are_dropped(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", '"http://proxy.corp:3128"')
    monkeypatch.setenv("NO_PROXY", '"localhost,127.0.0.1,::1"')
    config = proxies.current()
    assert config.skipped == () and len(config.rules) == 3
    assert config.proxy_for("https", "api.eachlabs.ai", 443) == (
        "http://proxy.corp:3128",
        "HTTPS_PROXY",
    )
    assert config.proxy_for("https", "::1", 443) is None
