"""What TAB completion knows of the catalogue, and when it may ask the service for more.

Completion runs on the kernel's shell thread: while it waits, no cell runs and no widget
answers. So it never uses the client's retry policy. The rule:

- what is cached (model slugs per base URL, each model's ``request_schema``) is answered from
  memory, with no request at all;
- otherwise one attempt is made, without retries and cut off after ``timeout`` seconds;
- when an attempt fails (unreachable, a timeout, an error answer), no attempt is made for that
  base URL for ``quiet_for`` seconds: completion offers what it has until then.

A model the service does not know (404) is remembered as unknown, not as a failure.
"""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from .._exceptions import NotFoundError

# The client, the retry policy and asyncio are imported where a request is made, on the
# shell's thread: %load_ext builds a catalogue but asks the service nothing.
if TYPE_CHECKING:
    from .._service.client import AsyncEachLabs

__all__ = ["ATTEMPT_TIMEOUT", "QUIET_FOR", "CompletionCatalogue", "nearest_slugs"]

#: Seconds one attempt may take before completion gives up on it.
ATTEMPT_TIMEOUT = 1.5
#: Seconds without any attempt after a failed one (per base URL).
QUIET_FOR = 60.0

T = TypeVar("T")
_UNKNOWN: dict[str, Any] = {}  # a model the service said it does not know


class CompletionCatalogue:
    """Model slugs and schemas for completion, fetched under the rule of the module docstring.

    ``client`` makes the client to ask (it decides the base URL, e.g. ``--emulator``); it is
    called with ``retry=`` set to a single try. ``attempts`` counts the requests made.
    """

    def __init__(
        self,
        client: Callable[..., AsyncEachLabs],
        *,
        timeout: float = ATTEMPT_TIMEOUT,
        quiet_for: float = QUIET_FOR,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._make_client = client
        self.timeout = timeout
        self.quiet_for = quiet_for
        self._clock = clock
        self._slugs: dict[str, list[str]] = {}
        self._failed_at: dict[str, float] = {}
        self._unknown: set[tuple[str, str]] = set()
        #: Network attempts made so far (each one request, or one listing of the catalogue).
        self.attempts = 0

    # -- what others learned ---------------------------------------------------------------

    def remember(self, base_url: str, models: list[dict[str, Any]]) -> None:
        """Keep a full listing made elsewhere (``%eachgen models``, a cell's lookup)."""
        self._slugs[base_url] = [str(m["slug"]) for m in models if m.get("slug")]
        self._failed_at.pop(base_url, None)

    def cached_slugs(self, base_url: str) -> list[str] | None:
        return self._slugs.get(base_url)

    # -- what completion asks ------------------------------------------------------------

    def slugs(self) -> list[str]:
        """Every model slug of the current service ([] when it cannot be had now)."""
        client = self._client()
        url = client.settings().base_url
        if url not in self._slugs:
            models = self._attempt(url, client.list_models)
            if models is None:
                return []
            self.remember(url, models)
        return list(self._slugs[url])

    def schema(self, slug: str) -> dict[str, Any] | None:
        """One model's ``request_schema``, or None (unknown, or not to be had now)."""
        client = self._client()
        url = client.settings().base_url
        if (url, slug) in self._unknown:
            return None
        from .._service.client import _model_cache

        model = _model_cache.get((url, slug))
        if model is None:
            model = self._attempt(url, lambda: client.get_model(slug), unknown_ok=True)
        if model is _UNKNOWN:
            self._unknown.add((url, slug))
            return None
        if model is None:
            return None
        return dict(model.get("request_schema") or {})

    # -- the rule ------------------------------------------------------------------------

    def _client(self) -> AsyncEachLabs:
        from .._service.retry import RetryPolicy

        # One try, no retries: a key press must not wait out a backoff schedule.
        return self._make_client(retry=RetryPolicy(max_attempts=1))

    def quiet(self, base_url: str) -> bool:
        """True while no attempt may be made for ``base_url`` (a recent one failed)."""
        failed = self._failed_at.get(base_url)
        return failed is not None and self._clock() - failed < self.quiet_for

    def _attempt(
        self, url: str, call: Callable[[], Coroutine[Any, Any, T]], *, unknown_ok: bool = False
    ) -> T | None:
        """``call()``'s result, or None when no attempt may be made or it failed; with
        ``unknown_ok``, a 404 gives ``_UNKNOWN`` (an answer, not a failure)."""
        if self.quiet(url):
            return None
        import asyncio

        from .._service.sync import run_sync

        self.attempts += 1
        try:
            result = run_sync(asyncio.wait_for(call(), self.timeout))
        except NotFoundError:
            if not unknown_ok:
                self._failed_at[url] = self._clock()
                return None
            self._failed_at.pop(url, None)
            return _UNKNOWN  # type: ignore[return-value]
        except Exception:  # unreachable, too slow, an error answer: wait before trying again
            self._failed_at[url] = self._clock()
            return None
        self._failed_at.pop(url, None)
        return result


def _tokens(slug: str) -> list[str]:
    """``flux2-turbo`` -> ``["flux", "2", "turbo"]``: letters and digits apart."""
    return re.findall(r"[a-z]+|[0-9]+", slug.lower())


def nearest_slugs(slug: str, known: list[str], n: int = 3) -> list[str]:
    """The known slugs nearest to ``slug``, best first: those holding every token of it in
    order (``flux2-turbo`` finds ``flux-2-turbo-text-to-image``), then by similarity of the
    normalised tokens."""
    wanted = _tokens(slug)
    if not wanted:
        return []

    def in_order(candidate: list[str]) -> bool:
        it = iter(candidate)
        return all(any(t == c or (len(t) > 2 and c.startswith(t)) for c in it) for t in wanted)

    joined = "-".join(wanted)
    scored = []
    for name in known:
        tokens = _tokens(name)
        ratio = difflib.SequenceMatcher(None, joined, "-".join(tokens)).ratio()
        if in_order(tokens):
            scored.append((2.0 + ratio, name))
        elif ratio >= 0.55:
            scored.append((ratio, name))
    scored.sort(key=lambda pair: (-pair[0], len(pair[1])))
    return [name for _, name in scored[:n]]
