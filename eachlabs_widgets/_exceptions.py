"""The exceptions raised by eachlabs-widgets.

    EachLabsError                  anything this package raises on purpose
    ├── ConfigurationError         a setting is missing or wrong (e.g. no API key)
    ├── InputValidationError       inputs do not match the model's request_schema (nothing sent)
    ├── BudgetExceededError        a create would pass the budget (nothing sent)
    ├── APIError                   the service answered with an HTTP error
    │   ├── AuthenticationError    401: missing or wrong API key
    │   ├── PaymentRequiredError   402: the account balance is too low
    │   ├── NotFoundError          404: unknown model, prediction or file
    │   ├── RateLimitError         429: too many predictions in flight
    │   └── ServerError            5xx: the service failed
    ├── TransportError             the request could not complete (connection, timeout)
    │   └── CertificateError       the server's TLS certificate is not trusted here
    ├── OutputDownloadError        a prediction succeeded but its output file did not download
    └── PredictionError            a prediction did not end in success
        ├── PredictionFailedError      it ended in ``error``/``failed``
        ├── PredictionCancelledError   it was cancelled
        └── PredictionTimeoutError     it did not end before the deadline

No message, repr or attribute of these exceptions holds the API key: messages are built from
the service's answer, the URL path and our own words only.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIError",
    "AuthenticationError",
    "BudgetExceededError",
    "CertificateError",
    "ConfigurationError",
    "EachLabsError",
    "GenerationInterrupted",
    "InputValidationError",
    "NotFoundError",
    "OutputDownloadError",
    "PaymentRequiredError",
    "PredictionCancelledError",
    "PredictionError",
    "PredictionFailedError",
    "PredictionTimeoutError",
    "RateLimitError",
    "ServerError",
    "TransportError",
]


class EachLabsError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigurationError(EachLabsError):
    """A setting is missing or invalid, for example no API key for the real service."""


class InputValidationError(EachLabsError, ValueError):
    """Inputs do not match the model's ``request_schema``; nothing was sent.

    ``problems`` lists one :class:`InputProblem`-like dict per field: ``field``, ``message``
    and, where it helps, ``allowed`` (the enum) or ``suggestion`` (the nearest known name).
    """

    def __init__(self, model: str, problems: list[dict[str, Any]]) -> None:
        self.model = model
        self.problems = problems
        lines = [p["message"] for p in problems]
        if len(lines) == 1:
            text = f"{model}: {lines[0]}"
        else:
            text = f"{model}: {len(lines)} invalid inputs:\n" + "\n".join(f"  - {m}" for m in lines)
        super().__init__(text)

    @property
    def fields(self) -> list[str]:
        return [p["field"] for p in self.problems]


class BudgetExceededError(EachLabsError):
    """A create was not sent: what it is estimated to cost would take the spend past a budget.

    ``budget`` is the limit (USD), ``spent`` what the service reported (``metrics.cost``,
    API.md "Poll") for the runs counted against it, ``reserved`` the estimates of runs still
    in flight, ``estimate`` this run's learned price (``None`` while the price is unknown: then
    it is refused only once ``spent`` reached the budget), ``model`` the model. ``setting``
    names where the limit comes from (``budget``, ``--max-cost``).
    """

    def __init__(
        self,
        *,
        budget: float,
        spent: float,
        reserved: float = 0.0,
        estimate: float | None = None,
        model: str | None = None,
        setting: str = "budget",
    ) -> None:
        self.budget = budget
        self.spent = spent
        self.reserved = reserved
        self.estimate = estimate
        self.model = model
        self.setting = setting
        run = f"a run of {model}" if model else "this run"
        if estimate is None:
            why = f"{run} of unknown price is not sent once the spend reached the budget"
        else:
            why = f"{run}, estimated at {_usd(estimate)} (learned price), would pass it"
        held = f", {_usd(reserved)} reserved by runs in flight" if reserved > 1e-12 else ""
        raise_it = (
            "el.configure(budget=USD) or %config EachGen.budget raises it"
            if setting == "budget"
            else f"a larger {setting} allows more"
        )
        super().__init__(
            f"{setting} {_usd(budget)}: {_usd(spent)} spent{held}; {why}: nothing was sent "
            f"({raise_it})"
        )


def _usd(dollars: float) -> str:
    """``$0.035`` below a dime (prices of an image are cents), ``$1.20`` above."""
    return f"${dollars:.3f}" if dollars < 0.1 else f"${dollars:.2f}"


class APIError(EachLabsError):
    """The service answered with an HTTP error status.

    ``status_code`` is the HTTP status, ``message`` the service's own ``error`` text and
    ``details`` its ``details`` text, if any; ``request_id`` echoes ``X-Request-Id``.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        details: str | None = None,
        method: str = "",
        path: str = "",
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.message = message
        self.status_code = status_code
        self.details = details
        self.method = method
        self.path = path
        self.request_id = request_id
        self.retry_after = retry_after
        where = f" ({method} {path})" if method else ""
        # A malformed answer came with a success status: the number would only confuse.
        text = (
            f"{message}{where}" if 200 <= status_code < 300 else f"{status_code} {message}{where}"
        )
        if details:
            text += f": {details}"
        super().__init__(text)


class AuthenticationError(APIError):
    """401: the API key is missing or wrong: give it again with ``login()``."""


class PaymentRequiredError(APIError):
    """402: the account balance is too low to run this prediction."""


class NotFoundError(APIError):
    """404: the model, prediction or file does not exist."""


class RateLimitError(APIError):
    """429: the account has too many predictions in flight. Nothing was created."""


class ServerError(APIError):
    """5xx: the service failed to answer."""


class TransportError(EachLabsError):
    """The request did not complete: the connection failed, dropped or timed out.

    ``sent`` says whether the request may have reached the service (a create whose answer was
    lost may have created a prediction).
    """

    def __init__(
        self, message: str, *, method: str = "", path: str = "", sent: bool = True
    ) -> None:
        self.method = method
        self.path = path
        self.sent = sent
        super().__init__(f"{message} ({method} {path})" if method else message)


class CertificateError(TransportError):
    """The server's TLS certificate could not be verified with the CA certificates trusted
    here (often a company proxy that re-signs HTTPS traffic). Nothing was sent; it is not
    retried. ``host`` names the server, ``reason`` is OpenSSL's words."""

    def __init__(
        self, message: str, *, host: str, reason: str, method: str = "", path: str = ""
    ) -> None:
        self.host = host
        self.reason = reason
        super().__init__(message, method=method, path=path, sent=False)


class OutputDownloadError(EachLabsError):
    """A prediction succeeded (and is recorded in the journal), but an output file did not
    download: the link expired (403) or vanished (404), the file host failed, the file was
    larger than the size cap, or the call's deadline passed.

    ``prediction_id`` names the prediction (``None`` for a bare :meth:`download`),
    ``url`` is the link without its query (signed links carry credentials there),
    ``status_code`` the file host's HTTP status if it answered, ``reason`` what went wrong.
    """

    def __init__(
        self,
        reason: str,
        *,
        prediction_id: str | None,
        url: str,
        status_code: int | None = None,
    ) -> None:
        self.reason = reason
        self.prediction_id = prediction_id
        self.url = url
        self.status_code = status_code
        if prediction_id:
            text = (
                f"prediction {prediction_id} succeeded and is recorded in the journal, but "
                f"downloading its output failed: {reason} ({url}). Only the download failed: "
                f"retry it with eachlabs_widgets.resume({prediction_id!r}) while the service's "
                "output links are still valid"
            )
            if status_code in (403, 404, 410):
                text += " (this answer usually means the link has expired: it cannot be fetched "
                text += "again, but its parameters and seed are in the journal)"
        else:
            text = f"downloading {url} failed: {reason}"
        super().__init__(text)


class PredictionError(EachLabsError):
    """A prediction did not end in ``success``. ``prediction_id`` names it."""

    def __init__(self, message: str, *, prediction_id: str, model: str | None = None) -> None:
        self.prediction_id = prediction_id
        self.model = model
        super().__init__(message)


class PredictionFailedError(PredictionError):
    """The prediction ended in ``error`` (or the legacy ``failed``).

    ``message`` is the service's own explanation (the sentence shown first), ``code`` its
    ``error_code`` (``INPUT_VALIDATION_ERROR``, ``PROVIDER_REJECTED``, …) and
    ``classification`` its ``classification.category`` (``VALIDATION``, ``PROVIDER``, ``AUTH``,
    ``RATE_LIMIT``, ``NETWORK``, ``TIMEOUT``, ``INTERNAL``, ``UNKNOWN``), as the failure
    envelope gives them (API.md, "Poll"); ``None`` when a minimal envelope has none. A card
    shows the two on a muted line under the message.
    """

    def __init__(
        self,
        *,
        prediction_id: str,
        model: str | None = None,
        message: str | None = None,
        code: str | None = None,
        classification: str | None = None,
        retryable: bool | None = None,
        status: str = "error",
    ) -> None:
        self.message = message
        self.code = code
        self.classification = classification
        self.retryable = retryable
        self.status = status
        text = f"prediction {prediction_id}"
        if model:
            text += f" ({model})"
        text += " failed"
        if status not in ("error", "failed"):  # the service's own word: aborted, timeout, …
            text += f" (status {status!r})"
        extra = [s for s in (code, classification) if s]
        if message:
            text += f": {message}"
        if extra:
            text += f" [{', '.join(extra)}]"
        super().__init__(text, prediction_id=prediction_id, model=model)


class PredictionCancelledError(PredictionError):
    """The prediction was cancelled (a cancelled prediction is not billed)."""

    def __init__(self, *, prediction_id: str, model: str | None = None) -> None:
        super().__init__(
            f"prediction {prediction_id} was cancelled (not billed)",
            prediction_id=prediction_id,
            model=model,
        )


class PredictionTimeoutError(PredictionError, TimeoutError):
    """The prediction did not end before the deadline. It goes on running on the service (and
    is billed if it succeeds): ``resume(prediction_id)`` fetches its result, or cancel it."""

    def __init__(
        self,
        *,
        prediction_id: str,
        timeout: float,
        model: str | None = None,
        status: str | None = None,
        stalled: bool = False,
    ) -> None:
        self.timeout = timeout
        #: The last status word when it was none this client knows (taken as still running).
        self.status = status
        if status and stalled:
            why = (
                f"its status {status!r}, a word this client does not know as an end, did not "
                f"change for {timeout:g} s"
            )
        elif status:
            why = (
                f"did not finish within {timeout:g} s (its last status, {status!r}, is a word "
                "this client does not know as an end: it was taken as still running)"
            )
        else:
            why = f"did not finish within {timeout:g} s"
        super().__init__(
            f"prediction {prediction_id} {why}. It is still "
            f"running on the service and is billed if it succeeds: "
            f"eachlabs_widgets.resume({prediction_id!r}) fetches its result; "
            f"eachlabs_widgets.EachLabs().cancel_prediction({prediction_id!r}) stops it",
            prediction_id=prediction_id,
            model=model,
        )


class GenerationInterrupted(KeyboardInterrupt):
    """Ctrl+C (the kernel's stop button) stopped a ``generate()`` call, or ``vary()`` or
    ``remix()`` in a notebook; a cancel of its predictions was asked of the service (the
    message says what it answered). A ``KeyboardInterrupt``, so it stops the cell."""
