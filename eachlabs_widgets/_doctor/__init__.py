"""``doctor()`` / ``%eachgen doctor``: what to attach to a bug report.

- ``report``: the installation and the settings, checked without spending anything;
- ``live`` (``doctor(live=True)``): the smallest real round trip, with its price asked first:
  ``plan`` (the model, its smallest inputs, the price, the uploaded PNG), ``ask`` (y/N of a
  terminal or a notebook), ``steps`` (each step's requests), ``verdicts`` (each recorded
  answer against what the client expects); the redacted trace is written by
  ``_service.trace``.

Imports: a front end, it may import every wing (``_service``, ``_journal``, ``_display``,
``_schema``, ``_generation``) and the base modules; only the package's top and ``magics``
import it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .. import _settings
from .report import REACH_TIMEOUT, DoctorReport, build_report

if TYPE_CHECKING:
    from .live import LiveReport

__all__ = ["DoctorReport", "LiveReport", "build_report", "doctor"]


def doctor(
    *,
    timeout: float = REACH_TIMEOUT,
    live: bool = False,
    yes: bool = False,
    trace: str | Path | None = None,
) -> DoctorReport | LiveReport:
    """Check the installation and the settings: one table to paste into a bug report.

    Rows of ``(check, status, detail)``: versions (this package, Python, httpx, IPython,
    ipywidgets, ipykernel, JupyterLab, Pillow, jsonschema), whether an API key is set (never any
    part of it) and accepted, the base URL, whether the service answers one ``GET /v1/models``
    within ``timeout`` seconds (no key sent, no retries), whether it accepts the key (one
    request about a prediction that does not exist: nothing is created), the proxy, skipped
    ``NO_PROXY`` entries and CA certificates in force, the journal's path (and the fallback in
    use when its folder cannot be written), health and size, whether the output folder can be
    written, and whether the embedded emulator is available. Shows as
    a table in a notebook and as text in a terminal (``print(el.doctor())``). Changes nothing
    and raises nothing for what it checks.

    ``live=True`` runs the smallest real round trip instead and returns a
    :class:`~.live.LiveReport` of ``(check, verdict, detail)``. It first says the price (two
    predictions of the cheapest seed model at its smallest size, by the price the journal
    learned, else ``flux-2-turbo-text-to-image`` with ``image_size="square"``: up to about
    $0.02, since the second is cancelled but may complete; nothing on the emulator) and asks
    y/N on a terminal or in a notebook's input box. ``yes=True`` answers for tests and
    headless runs; with no one to answer and no ``yes``, it says so and does nothing (the
    report's ``ran`` is false). Then, each answer checked against what the client expects
    (API.md, "Endpoints", "Create", "Poll", "Cancel", "Upload"):

    - the catalogue's paging (``GET /v1/models?limit=&offset=``, two pages at least) and the
      model's ``GET /v1/model?slug=``;
    - one create (``predictionID``), polled to its end (the status words, the ``output``
      shape, ``metrics.cost`` and ``metrics.predict_time``), its files downloaded;
    - a second create, cancelled at once and followed until it ends (a cancel is a request:
      it may still complete, and then it is billed);
    - a 1 KB PNG uploaded (presign, then the signed ``PUT``), read back, and deleted
      (``DELETE /v1/files/{id}``: 204 or 404 both mean gone);
    - ``X-Request-Id`` on every answer.

    Both predictions are journalled like any other. A step that fails is a ``FAILED`` row with
    the service's message, and the next step still runs. Every request and answer is written
    to ``trace`` (default: a new file under ``EACHLABS_HOME/traces``, printed), JSON Lines
    without the key and with URL signatures cut; the format is described in
    :mod:`eachlabs_widgets._service.trace`. Raises :class:`ConfigurationError` when no key is
    set (the emulator needs none) and :class:`OSError` when the trace cannot be written.
    """
    if live:
        from .live import live_check

        return live_check(yes=yes, trace=trace)
    return build_report(_settings.output_dir(), timeout)
