"""Whether a create is admitted: the account cap, the burst limit and the balance.

All three answer as the record says (API.md, "Create", "Limits and errors in general"), and a
refused create creates nothing:

- the account cap: ``429 {"status":429,"error":"too many requests","details":"Account rate
  limited: …"}`` when the account already has ``account_cap`` predictions in flight. With a
  ``balance`` set, it applies only at a balance of $10 or less (10 when ``account_cap`` is
  None); above $10 there is no cap;
- the burst limit (``starts_per_second``): the second, temporary 429, ``details`` "too many
  executions were started at once";
- the balance: a 402 when the estimated cost of the new prediction, with what the account has
  in flight, exceeds what is left. While predictions are in flight it is the temporary
  in-flight variant (``details`` "the estimated cost of your in-flight executions exceeds your
  current balance…"); with nothing in flight, the final "insufficient balance" one.
"""

from __future__ import annotations

from .faults import (
    BALANCE_DETAILS,
    BURST_DETAILS,
    CAP_DETAILS,
    IN_FLIGHT_DETAILS,
    payment_required,
    too_many,
)
from .messages import Response
from .state import State

#: At or below this balance (USD) an account is capped (API.md, "Limits and errors in general").
CAPPED_BALANCE = 10.0
RECORD_CAP = 10
BURST_WINDOW = 1.0  # seconds


def refusal(state: State, key: str, estimate: float, now: float) -> Response | None:
    """The answer refusing a create of estimated cost ``estimate`` (USD) by account ``key``,
    or None to admit it (caller holds the lock; an admitted create is counted for the burst
    limit)."""
    settings = state.settings
    mine = [p for p in state.predictions.values() if p.api_key == key]
    in_flight = [p for p in mine if not p.is_terminal(now)]
    cap = settings.account_cap
    if settings.balance is not None:
        if settings.balance > CAPPED_BALANCE:
            cap = None
        elif cap is None:
            cap = RECORD_CAP
    if cap is not None and len(in_flight) >= cap:
        return too_many(CAP_DETAILS)
    if settings.starts_per_second is not None:
        recent = [t for t in state.starts.get(key, []) if now - t < BURST_WINDOW]
        state.starts[key] = recent
        if len(recent) >= settings.starts_per_second:
            return too_many(BURST_DETAILS, {"Retry-After": "1"})
    if settings.balance is not None:
        left = settings.balance - sum(p.cost() for p in mine if p.succeeded(now))
        reserved = sum(p.cost() for p in in_flight)
        if estimate + reserved > left + 1e-9:
            if in_flight:
                return payment_required(IN_FLIGHT_DETAILS.format(balance=max(0.0, left)))
            return payment_required(BALANCE_DETAILS)
    if settings.starts_per_second is not None:
        state.starts.setdefault(key, []).append(now)
    return None
