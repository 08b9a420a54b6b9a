"""``doctor(live=True)``: the price, the question, the round trip, its table and its trace."""

from __future__ import annotations

import html
import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import httpx

from .. import _settings
from .._display.tables import Table
from .._journal.journal import default_journal
from .._service.client import AsyncEachLabs
from .._service.http import HTTP
from .._service.retry import RetryPolicy
from .._service.sync import run_sync
from .._service.trace import Trace, cut_url, scrub
from .._service.warm import ssl_context
from .._version import __version__
from .ask import ask as ask_someone
from .plan import choose_model, price_text
from .steps import check
from .verdicts import BAD, INFO, UNSUPPORTED, Row

__all__ = ["LiveReport", "live_check"]

NO_ONE = (
    "No one is here to confirm the price, so nothing was done: run it again with --yes "
    "(%eachgen doctor --live --yes, or el.doctor(live=True, yes=True))."
)


class LiveReport(Table):
    """Rows of ``(check, verdict, detail)``, one per answer checked, in the order sent.

    ``verdict`` is ``"matches"`` (the answer is what the client expects), ``"DIFFERS"``,
    ``"FAILED"`` (the request failed; ``detail`` is the service's message),
    ``"not supported by this service"``, or empty (information). ``problems`` names the
    checks that differ or failed; ``trace_path`` is the trace written (``None`` when the check
    did not run, then ``ran`` is false).
    """

    def __init__(
        self,
        rows: Sequence[Row],
        *,
        base_url: str,
        trace_path: Path | None = None,
        note: str = "",
    ) -> None:
        self.problems = [r[0] for r in rows if r[1] in BAD]
        self.unsupported = [r[0] for r in rows if r[1] == UNSUPPORTED]
        self.trace_path = trace_path
        self.ran = trace_path is not None
        if self.ran:
            verdict = (
                f"{len(self.problems)} differ or failed: {', '.join(self.problems)}."
                if self.problems
                else "Every answer is what the client expects."
            )
            note = f"{verdict} Trace for a bug report (no key, no URL signatures): {trace_path}"
        super().__init__(
            ["check", "verdict", "detail"],
            rows,
            title=f"eachlabs-widgets live check: {base_url}",
            note=note,
        )

    def plain(self, width: int = 200) -> str:  # messages and paths are long: keep them whole
        return super().plain(width) if self.ran else self.note

    def html(self) -> str:
        return super().html() if self.ran else f"<div>{html.escape(self.note)}</div>"

    def __str__(self) -> str:
        return self.plain()


def trace_path() -> Path:
    """A new file under ``EACHLABS_HOME/traces`` (the system's temp folder if that cannot be
    made), named by the time."""
    name = f"doctor-{datetime.now():%Y%m%d-%H%M%S-%f}.jsonl"
    folder = _settings.home() / "traces"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = Path(tempfile.gettempdir())
    return folder / name


def _transport(settings: _settings.Settings) -> httpx.AsyncBaseTransport:
    """The network (or the embedded emulator), in a client of the check's own: its hooks
    record this check's exchanges and no one else's."""
    if settings.is_emulator:
        from .._embedded import shared_emulator

        return shared_emulator().transport()
    return httpx.AsyncHTTPTransport(verify=ssl_context(), trust_env=True)


async def _run(settings: _settings.Settings, model: str, path: Path) -> LiveReport:
    # Three tries, not five: a fault the service keeps answering is reported sooner, and the
    # trace still shows each try.
    client = AsyncEachLabs(transport=_transport(settings), retry=RetryPolicy(max_attempts=3))
    base = HTTP.base(settings)
    with Trace(path, base, settings.api_key) as trace:
        trace.attach(client._http.client())
        try:
            rows = await check(client, trace, model)
        finally:
            await client.aclose()
    head: list[Row] = [
        ("service", INFO, cut_url(base) + (" (emulator)" if client.emulated else "")),
        ("eachlabs-widgets", INFO, __version__),
        ("model", INFO, model),
    ]
    shown = [(c, v, scrub(d, settings.api_key)) for c, v, d in head + rows]
    return LiveReport(shown, base_url=cut_url(base), trace_path=path)


def live_check(
    *,
    yes: bool = False,
    trace: str | Path | None = None,
    ask: Callable[[str], bool | None] = ask_someone,
    say: Callable[[str], None] = print,
) -> LiveReport:
    """Say the price, ask (unless ``yes``), run the round trip; see :func:`doctor`."""
    settings = _settings.resolve()
    settings.require_key()  # ConfigurationError, before anything is asked or sent
    journal_file = _settings.home() / "journal.sqlite3"
    journal = default_journal() if journal_file.exists() else None  # read, never made here
    model, price = choose_model(journal, settings.base_url)
    text = price_text(model, price, settings.is_emulator)
    shown_base = cut_url(HTTP.base(settings))
    if yes:
        say(text)
    else:
        answer = ask(f"{text} Go on?")
        if not answer:
            message = NO_ONE if answer is None else "Nothing was done."
            if answer is None:
                say(text)
            say(message)
            return LiveReport([], base_url=shown_base, note=message)
    path = Path(trace).expanduser() if trace else trace_path()
    try:
        return run_sync(_run(settings, model, path))
    finally:  # also after Ctrl+C: what was recorded until then is worth attaching
        if path.exists():
            say(f"Trace written (no key, no URL signatures): {path}")
