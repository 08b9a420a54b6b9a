"""Which CA certificates verify the service's TLS certificate, and what to say when they do not.

Where trust comes from, first that applies:

1. the operating system's store through ``truststore`` (as pip does), when
   ``configure(truststore=True)`` or ``EACHLABS_TRUSTSTORE=1`` asks for it;
2. ``SSL_CERT_FILE`` (OpenSSL's own variable), then ``REQUESTS_CA_BUNDLE`` and
   ``CURL_CA_BUNDLE`` (what requests and curl users already set for a company proxy): a PEM
   file, or for the last two also a folder of hashed certificates;
3. ``SSL_CERT_DIR``: a folder of hashed certificates;
4. certifi's bundle.

The variables are read at every request (:func:`fingerprint`), so one set in a running kernel
takes effect at the next call. A variable naming a path that does not exist, or a file that
holds no certificate, is a :class:`ConfigurationError` that names the variable: silently
falling back to certifi would only move the failure to a confusing certificate error.
"""

from __future__ import annotations

import importlib
import os
import ssl
from dataclasses import dataclass

import certifi

from .._exceptions import CertificateError, ConfigurationError
from .._settings import environ_get, use_truststore

__all__ = ["CASource", "certificate_error", "create_context", "fingerprint", "source"]

#: Variables naming CA certificates, in the order they are honoured.
FILE_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
DIR_VARIABLE = "SSL_CERT_DIR"
_NAMES = (*FILE_VARIABLES, DIR_VARIABLE)
TRUSTSTORE = "the operating system's store (truststore)"
#: OpenSSL's verify code for a certificate whose dates do not cover now.
_EXPIRED, _NOT_YET_VALID = 10, 9


@dataclass(frozen=True)
class CASource:
    """Where trust comes from: ``origin`` is a variable name, ``"certifi"`` or
    :data:`TRUSTSTORE`; ``path`` the file or folder (None for the OS store)."""

    origin: str
    path: str | None

    def describe(self) -> str:
        return self.origin if self.path is None else f"{self.path} (from {self.origin})"


def fingerprint() -> tuple[object, ...]:
    """What the TLS context depends on: when it changes, the context is built again."""
    return (use_truststore(), *(environ_get(name) or "" for name in _NAMES))


def source() -> CASource:
    """Where trust comes from now. Raises :class:`ConfigurationError` for a variable naming a
    path that does not exist."""
    if use_truststore():
        return CASource(TRUSTSTORE, None)
    for name in (*FILE_VARIABLES, DIR_VARIABLE):
        # quotes a docker env-file keeps around the path are no part of it
        value = (os.environ.get(name) or "").strip().strip("\"'").strip()
        if not value:
            continue
        path = os.path.expanduser(value)
        if not os.path.exists(path):
            raise ConfigurationError(
                f"{name} names {value!r}, which does not exist: point it at a PEM file of the "
                "CA certificates to trust (e.g. your company proxy's root), or unset it"
            )
        if os.path.isdir(path) and name == "SSL_CERT_FILE":
            raise ConfigurationError(
                f"{name} names {value!r}, a folder; it takes a PEM file (a folder of hashed "
                f"certificates goes in {DIR_VARIABLE})"
            )
        return CASource(name, path)
    return CASource("certifi", certifi.where())


def create_context(where: CASource) -> ssl.SSLContext:
    """A verifying client context trusting ``where``. Raises :class:`ConfigurationError` when
    the file holds nothing OpenSSL can read, or ``truststore`` is asked for and missing."""
    if where.origin == TRUSTSTORE:
        try:  # an optional extra: looked up by name, so it is no import of the package
            truststore = importlib.import_module("truststore")
        except ImportError:
            raise ConfigurationError(
                "EACHLABS_TRUSTSTORE / configure(truststore=True) asks for the operating "
                "system's certificate store, which needs the truststore package: "
                "pip install truststore (or pip install 'eachlabs-widgets[truststore]')"
            ) from None
        return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    assert where.path is not None
    folder = os.path.isdir(where.path)
    try:
        context = ssl.create_default_context(
            cafile=None if folder else where.path, capath=where.path if folder else None
        )
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise ConfigurationError(
            f"{where.origin} names {where.path!r}, which holds no CA certificate OpenSSL can "
            f"read ({exc}); it should be a PEM file (-----BEGIN CERTIFICATE-----)"
        ) from None
    return context


def _verification_failure(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate failure behind ``exc`` (httpx wraps httpcore's, which wraps ssl's)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def certificate_error(
    exc: BaseException, host: str, *, method: str = "", path: str = ""
) -> CertificateError | None:
    """The :class:`CertificateError` to raise for ``exc``, a failed connection to ``host``, or
    ``None`` when no certificate failure is behind it."""
    failure = _verification_failure(exc)
    if failure is None:
        return None
    reason = str(failure.verify_message or failure.reason or "certificate verify failed")
    code = failure.verify_code
    try:
        trusted = source().describe()
    except ConfigurationError:
        trusted = "?"
    if code in (_EXPIRED, _NOT_YET_VALID):
        hint = "; if this machine's clock is wrong, correct it"
    else:
        hint = ""
    message = (
        f"the TLS certificate of {host} could not be verified ({reason}){hint}. A company "
        "proxy or antivirus may be re-signing HTTPS traffic: trust its CA certificate by "
        "setting SSL_CERT_FILE (or REQUESTS_CA_BUNDLE) to a PEM file that holds it, or use "
        "the operating system's store, where IT usually installs it: EACHLABS_TRUSTSTORE=1 "
        f"(needs pip install truststore). Trusted now: {trusted}. Nothing was sent"
    )
    return CertificateError(message, host=host, reason=reason, method=method, path=path)
