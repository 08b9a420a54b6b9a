"""A throwaway test PKI: a CA playing a company TLS-inspection proxy's root, and a certificate
for 127.0.0.1 / localhost it signed (valid 2020-2120). The key protects nothing.

``serve_tls(emulator, folder)`` serves the emulator over https on loopback with it.
"""

from __future__ import annotations

import ssl
import threading
from pathlib import Path

from eachlabs_widgets.emulator import Emulator
from eachlabs_widgets.emulator.server import _Server

CA_PEM = """-----BEGIN CERTIFICATE-----
MIIBpzCCAU2gAwIBAgICEAAwCgYIKoZIzj0EAwIwKTEnMCUGA1UEAwweRXhhbXBs
ZSBDb3JwIFRMUyBJbnNwZWN0aW9uIENBMCAXDTIwMDEwMTAwMDAwMFoYDzIxMjAw
MTAxMDAwMDAwWjApMScwJQYDVQQDDB5FeGFtcGxlIENvcnAgVExTIEluc3BlY3Rp
b24gQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATuLad1u12xoiYS/JpWM5M0
EeqjkPf8++IYQD0VCZ+jTdYwOHZ3oNPsJYwXTWoDTQecXzCWCCnCcVoC8/ar1gpe
o2MwYTAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBBjAdBgNVHQ4EFgQU
doTeXUSvynVC0n4qB9+OtcTwWHgwHwYDVR0jBBgwFoAUdoTeXUSvynVC0n4qB9+O
tcTwWHgwCgYIKoZIzj0EAwIDSAAwRQIgAlUatbSjKQCgq+ar5idLk0W21ZUB/k0Q
GIuMYYK3iBUCIQCyyntPKoctewdaPto9fJryDXNmKOuRcp4OLLkPg3V59A==
-----END CERTIFICATE-----
"""

SERVER_PEM = """-----BEGIN CERTIFICATE-----
MIIBwTCCAWigAwIBAgICEAEwCgYIKoZIzj0EAwIwKTEnMCUGA1UEAwweRXhhbXBs
ZSBDb3JwIFRMUyBJbnNwZWN0aW9uIENBMCAXDTIwMDEwMTAwMDAwMFoYDzIxMjAw
MTAxMDAwMDAwWjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggq
hkjOPQMBBwNCAAS64Lwh96MAvYuxC47aYzl7O4cXTn4/7cooZkWl/zJo0L6FExdB
QM1AnBoXw+tqidR01F/MeuK7BdS2sMc0pajOo4GSMIGPMAwGA1UdEwEB/wQCMAAw
DgYDVR0PAQH/BAQDAgWgMBMGA1UdJQQMMAoGCCsGAQUFBwMBMBoGA1UdEQQTMBGH
BH8AAAGCCWxvY2FsaG9zdDAdBgNVHQ4EFgQUxnZpw7Kzfnkf1y/OkcBLY1s6YV8w
HwYDVR0jBBgwFoAUdoTeXUSvynVC0n4qB9+OtcTwWHgwCgYIKoZIzj0EAwIDRwAw
RAIgQRsO5YXvKVT7+rGIgUBpehbvTPF7hPy7hrnIaGMpSGgCIHct/kHW8rsXjedb
4UZT1TJ0O1Mc7zUbkHgJTsxZwBBA
-----END CERTIFICATE-----
"""

SERVER_KEY = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgUx72rS/1CIUtJOqp
5NVZEsB4QzOCDovJ7IzdJhWKsu6hRANCAAS64Lwh96MAvYuxC47aYzl7O4cXTn4/
7cooZkWl/zJo0L6FExdBQM1AnBoXw+tqidR01F/MeuK7BdS2sMc0pajO
-----END PRIVATE KEY-----
"""


def write(folder: Path) -> dict[str, Path]:
    """``ca.pem``, ``server.pem`` and ``server.key`` in ``folder``."""
    paths = {}
    for name, text in (("ca.pem", CA_PEM), ("server.pem", SERVER_PEM), ("server.key", SERVER_KEY)):
        paths[name] = folder / name
        paths[name].write_text(text, encoding="ascii")
    return paths


class TLSServer:
    """The emulator on ``https://127.0.0.1:PORT``; ``handshakes`` counts connections tried."""

    def __init__(self, emulator: Emulator, folder: Path) -> None:
        self.emulator = emulator
        self.pki = write(folder)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.pki["server.pem"], self.pki["server.key"])
        self._httpd = _Server(("127.0.0.1", 0), emulator, False)
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.handshakes = 0
        accept = self._httpd.get_request

        def counted():  # the TLS handshake runs in accept(): count every one tried
            self.handshakes += 1
            return accept()

        self._httpd.get_request = counted  # type: ignore[method-assign]
        self.port = self._httpd.server_address[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
