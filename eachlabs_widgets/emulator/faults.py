"""One-shot fault switches: what the next N requests to an endpoint go through.

Kinds and their options:

- ``rate_limit`` — 429 ``{"status":429,"error":"too many requests","details":...}``;
  ``retry_after`` (seconds, default 1; ``None`` sends no ``Retry-After``).
- ``payment_required`` — 402 ``{"status":402,"error":"payment required","details":...}``;
  ``in_flight`` (default False): True gives the temporary variant, whose ``details`` speak of
  the estimated cost of in-flight executions.
- ``burst_limit`` — the second, temporary 429: ``details`` "too many executions were started
  at once…"; ``retry_after`` as for ``rate_limit``.
- ``server_error`` — ``status`` (default 500); ``{"error":"Failed to create prediction"}`` on
  create, ``{"error":"Failed to generate presigned URL"}`` on presign, else a generic error.
- ``drop`` — the connection closes without an answer; ``after_processing`` (default False):
  True means the request took effect (a create DID create its prediction) before the drop.
- ``slow`` — ``seconds`` (default 2): the request is processed, then its answer is delayed.

Rejecting kinds (rate_limit, payment_required, server_error, drop before processing) leave the
state untouched: a rejected create creates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .messages import Response

KINDS = ("rate_limit", "burst_limit", "payment_required", "server_error", "drop", "slow")

# The ``details`` of the record's 429s and 402s (API.md, "Create").
RATE_DETAILS = "Account rate limited: too many requests, slow down"
CAP_DETAILS = "Account rate limited: too many predictions in flight"
BURST_DETAILS = "too many executions were started at once, please retry shortly"
BALANCE_DETAILS = "Insufficient balance: top up your account balance to continue"
IN_FLIGHT_DETAILS = (
    "the estimated cost of your in-flight executions exceeds your current balance "
    "(${balance:.2f} left): it clears when one of them ends, or top up your balance"
)
ENDPOINTS = (
    "any",
    "models",
    "model",
    "create",
    "poll",
    "cancel",
    "presign",
    "put",
    "files",
    "delete",
)
_OPTIONS: dict[str, dict[str, Any]] = {
    "rate_limit": {"retry_after": 1},
    "burst_limit": {"retry_after": 1},
    "payment_required": {"in_flight": False},
    "server_error": {"status": 500},
    "drop": {"after_processing": False},
    "slow": {"seconds": 2.0},
}


@dataclass
class Fault:
    kind: str
    endpoint: str = "any"
    times: int | None = 1  # None: until cleared
    options: dict[str, Any] = field(default_factory=dict)

    def matches(self, endpoint: str) -> bool:
        return self.endpoint in ("any", endpoint)

    def option(self, name: str) -> Any:
        return self.options.get(name, _OPTIONS[self.kind].get(name))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "endpoint": self.endpoint, "times": self.times, **self.options}


def make_fault(kind: str, endpoint: str = "any", times: int | None = 1, **options: Any) -> Fault:
    """A validated :class:`Fault`; ``ValueError`` on an unknown kind, endpoint or option."""
    if kind not in KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(KINDS)}")
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {', '.join(ENDPOINTS)}")
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
        raise ValueError("times must be a positive integer or None")
    unknown = set(options) - set(_OPTIONS[kind])
    if unknown:
        raise ValueError(f"fault {kind!r} takes no option(s) {', '.join(sorted(unknown))}")
    if kind in ("rate_limit", "burst_limit") and options.get("retry_after") is not None:
        _non_negative(options["retry_after"], "retry_after")
    if kind == "slow" and "seconds" in options:
        _non_negative(options["seconds"], "seconds")
    if kind == "server_error" and "status" in options:
        status = options["status"]
        if isinstance(status, bool) or not isinstance(status, int) or not 500 <= status <= 599:
            raise ValueError("status must be an integer 500..599")
    if kind == "drop" and "after_processing" in options:
        options["after_processing"] = bool(options["after_processing"])
    if kind == "payment_required" and "in_flight" in options:
        options["in_flight"] = bool(options["in_flight"])
    return Fault(kind=kind, endpoint=endpoint, times=times, options=dict(options))


def _non_negative(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{name} must be a non-negative number")


def parse_spec(spec: str) -> Fault:
    """A fault from the command line form ``kind[:endpoint[:times]]`` (times ``*``: forever)."""
    parts = spec.split(":")
    if not parts[0] or len(parts) > 3:
        raise ValueError(f"bad fault spec {spec!r}; expected kind[:endpoint[:times]]")
    endpoint = parts[1] if len(parts) > 1 and parts[1] else "any"
    times: int | None = 1
    if len(parts) > 2:
        if parts[2] in ("*", "inf", "forever"):
            times = None
        else:
            try:
                times = int(parts[2])
            except ValueError:
                raise ValueError(f"bad times in fault spec {spec!r}") from None
    return make_fault(parts[0], endpoint, times)


def take(faults: list[Fault], endpoint: str) -> Fault | None:
    """Use up one application of the first fault matching ``endpoint`` (caller holds the lock)."""
    for fault in faults:
        if fault.matches(endpoint):
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    faults.remove(fault)
            return fault
    return None


def rejection(fault: Fault, endpoint: str) -> Response | None:
    """The answer for a fault that stops the request, or None if the request goes ahead."""
    if fault.kind in ("rate_limit", "burst_limit"):
        headers = {}
        retry_after = fault.option("retry_after")
        if retry_after is not None:
            number = float(retry_after)
            headers["Retry-After"] = str(int(number)) if number.is_integer() else str(number)
        details = RATE_DETAILS if fault.kind == "rate_limit" else BURST_DETAILS
        return too_many(details, headers)
    if fault.kind == "payment_required":
        if fault.option("in_flight"):
            return payment_required(IN_FLIGHT_DETAILS.format(balance=0.0))
        return payment_required(BALANCE_DETAILS)
    if fault.kind == "server_error":
        message = {
            "create": "Failed to create prediction",
            "presign": "Failed to generate presigned URL",
        }.get(endpoint, "Internal server error")
        return Response.error(int(fault.option("status")), message)
    if fault.kind == "drop" and not fault.option("after_processing"):
        return Response(502, drop="before")
    return None


def too_many(details: str, headers: dict[str, str] | None = None) -> Response:
    body = {"status": 429, "error": "too many requests", "details": details}
    return Response.json(429, body, headers)


def payment_required(details: str) -> Response:
    return Response.json(402, {"status": 402, "error": "payment required", "details": details})


def apply_after(fault: Fault | None, response: Response) -> Response:
    """Mark a processed ``response`` with the fault's late effect (a drop or a delay)."""
    if fault is not None and fault.kind == "drop":
        response.drop = "after"
    elif fault is not None and fault.kind == "slow":
        response.delay = float(fault.option("seconds"))
    return response
