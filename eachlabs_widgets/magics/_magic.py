"""The ``EachGen`` magics: ``%%eachgen`` generates, ``%eachgen`` also lists, explains, resumes.

A thin adapter: the line is parsed by :mod:`._parse`, jobs run through :class:`._runner.CellRun`
on the async client, and tables come from :mod:`.._tables`.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import importlib
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.display import display
from traitlets import Enum, Float, Int, Unicode, default, observe, validate

from .. import _settings
from .._exceptions import ConfigurationError, EachLabsError, NotFoundError
from .._generation import DEFAULT_OUTPUT_DIR
from .._limiter import ACCOUNT_CAP, limiter
from .._polling import PollSchedule
from .._render import EMBED_MODES, embed_mode, set_embed_mode
from .._retry import RetryPolicy
from .._sync import run_sync
from .._tables import TextView, config_table, history_table, models_table, schema_table
from ._catalogue import CompletionCatalogue
from ._complete import SUBCOMMANDS
from ._parse import (
    HELP_FLAGS,
    ModelOption,
    build_jobs,
    fill,
    fill_value,
    split_prompts,
    split_tokens,
    tokenize,
)

if TYPE_CHECKING:
    from .._client import AsyncEachLabs
    from ._runner import CellRun

__all__ = ["EachGen", "EachGenError", "EachGenInterrupted"]

DEFAULT_MODEL = "flux-2-turbo-text-to-image"


class EachGenError(Exception):
    """A failure shown as one line, without a traceback (a prediction failed, the service
    could not be reached). A mistake in the line itself is a ``UsageError``."""

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self}"]


class EachGenInterrupted(EachGenError):
    """The kernel was interrupted while the cell waited; its predictions were cancelled."""


@magics_class
class EachGen(Magics):
    default_model = Unicode(
        DEFAULT_MODEL, help="The model of a %%eachgen cell that names none."
    ).tag(config=True)
    output_dir = Unicode(
        DEFAULT_OUTPUT_DIR,
        help="Where outputs are saved, relative to the notebook ('' turns saving off). Left at "
        "its default, EACHLABS_OUTPUT_DIR and configure(output_dir=) apply.",
    ).tag(config=True)
    embed = Enum(
        EMBED_MODES, help="How results are embedded in the notebook: thumbnail, full or none."
    ).tag(config=True)
    concurrency = Int(
        ACCOUNT_CAP, help="Predictions in flight at once (the service allows 10 per account)."
    ).tag(config=True)
    timeout = Float(
        None, allow_none=True, help="Seconds to wait for one prediction (None: no limit)."
    ).tag(config=True)
    poll_interval = Float(5.0, help="The longest wait between two polls, in seconds.").tag(
        config=True
    )
    max_runs = Int(32, help="The most predictions one cell may start.").tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell, **kwargs)
        #: What completion knows of the catalogue (also filled by cells and ``models``).
        self.completion = CompletionCatalogue(self._client)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._matcher: Any = None
        #: What the last cell produced (also when it had no ``-o``).
        self.last: Any = None

    # -- settings -------------------------------------------------------------------------

    @default("embed")
    def _embed_default(self) -> str:
        return embed_mode()

    @observe("embed")
    def _embed_changed(self, change: Any) -> None:
        set_embed_mode(change["new"])

    @validate("concurrency")
    def _check_concurrency(self, proposal: Any) -> int:
        if proposal["value"] < 1:
            raise ValueError("concurrency must be at least 1")
        return int(proposal["value"])

    @observe("concurrency")
    def _concurrency_changed(self, change: Any) -> None:
        limiter.resize(change["new"])

    @validate("timeout", "poll_interval")
    def _check_positive(self, proposal: Any) -> Any:
        value = proposal["value"]
        if value is not None and value <= 0:
            raise ValueError(f"{proposal['trait'].name} must be positive")
        return value

    def _client(self, emulator: bool = False, retry: RetryPolicy | None = None) -> AsyncEachLabs:
        from .._client import AsyncEachLabs

        return AsyncEachLabs(
            base_url=_settings.EMULATOR if emulator else None, poll=self._poll(), retry=retry
        )

    def _poll(self) -> PollSchedule:
        interval = self.poll_interval
        return PollSchedule(max_interval=interval)

    def _save_to(self, option: str | None) -> str | None:
        if option is not None:
            return option or None
        if self.output_dir != DEFAULT_OUTPUT_DIR:
            return self.output_dir or None
        return _settings.output_dir()

    # -- the catalogue (also for completion) ----------------------------------------------

    def _catalogue(self, client: AsyncEachLabs) -> list[str]:
        """Every slug of ``client``'s service, with the normal retries (a cell may wait)."""
        url = client.settings().base_url
        known = self.completion.cached_slugs(url)
        if known is None:
            self.completion.remember(url, run_sync(client.list_models()))
            known = self.completion.cached_slugs(url) or []
        return known

    def slugs(self) -> list[str]:
        """Model slugs for completion: never more than one short attempt (see ``_catalogue``)."""
        return self.completion.slugs()

    def schema_for(self, slug: str) -> dict[str, Any] | None:
        """A model's request_schema for completion, or None (never raises)."""
        return self.completion.schema(slug)

    def _model(self, client: AsyncEachLabs, slug: str) -> dict[str, Any]:
        try:
            return run_sync(client.get_model(slug))
        except NotFoundError:
            try:
                known = self._catalogue(client)
            except EachLabsError:
                known = []
            near = [k for k in known if k.startswith(slug)]
            near += difflib.get_close_matches(slug, known, n=3, cutoff=0.5)
            near = list(dict.fromkeys(near))[:3]
            hint = f"; did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
            raise UsageError(f"unknown model {slug!r}{hint} (%eachgen models lists them)") from None
        except EachLabsError as exc:
            raise EachGenError(f"could not fetch model {slug!r}: {exc}") from None

    # -- the magic ------------------------------------------------------------------------

    @no_var_expand
    @magic_arguments()
    @argument("MODEL", nargs="?", help="model slug (or a,b,c); default: EachGen.default_model")
    @argument("-o", "--out", metavar="NAME", help="store the Generation (Results) as NAME")
    @argument("--model", dest="model_list", metavar="A,B", help="the model(s), instead of MODEL")
    @argument("--timeout", type=float, metavar="S", help="seconds to wait for each prediction")
    @argument("--embed", choices=EMBED_MODES, help="embed thumbnails, full images, or none")
    @argument("--output-dir", metavar="DIR", help="save outputs here ('' does not save)")
    @argument("--force", action="store_true", help="run even if an identical result exists")
    @argument("--background", action="store_true", help="return at once; NAME is set at the end")
    @argument("--emulator", action="store_true", help="use the embedded emulator for this cell")
    @line_cell_magic
    def eachgen(self, line: str, cell: str | None = None) -> Any:
        """Generate images with EachLabs models; the cell body is the prompt.

            %%eachgen MODEL [--INPUT VALUE]... [-o NAME] [--force] [--background] ...
            a prompt, on as many lines as you like
            ---
            a second prompt (a line holding only --- separates prompts)

        Every input of the model is an option (see ``%eachgen schema MODEL``):
        ``--image_size landscape_16_9 --num_images 2 --seed 42 --negative_prompt "…"``; also
        ``--name=value``, ``--flag`` / ``--no-flag`` for booleans; ``--input.NAME value`` for an
        input named like one of the options below. Values are checked against the model's schema
        before anything is sent.

        A prompt is stripped of surrounding blanks; to keep it exactly as it is (blanks, a line
        ``---``), write it as one JSON string: ``"  kept as is\\n---\\n  "``.

        ``{name}`` in the body and in values is filled from the notebook's variables (``{{`` and
        ``}}`` for literal braces). A value that is exactly ``{name}`` passes the object itself: a
        PIL image or a path for a file input (uploaded), a list of values to sweep.

        Several runs at once, shown as one labelled grid (``Results``):

        - models: ``MODEL`` or ``--model`` as ``a,b,c``;
        - prompts: separated by a line ``---``;
        - sweeps: a comma list for an integer, number or boolean input (``--seed 1,2,3``), or for a
          string input with allowed values when every part is allowed
          (``--image_size square,landscape_16_9``); free strings never sweep. Sweeps multiply.

        Without MODEL, ``%config EachGen.default_model`` is used. The cell waits (Run All, nbconvert
        and papermill see finished images) showing live cards, then leaves the static result;
        ``--background`` returns at once. Interrupting the kernel cancels the predictions on the
        service (not billed). With an explicit ``--seed``, re-running identical inputs reuses the
        saved result unless ``--force``.

        Line forms:

            %eachgen models [FILTER]     the catalogue
            %eachgen schema MODEL        a model's inputs: type, default, allowed values
            %eachgen history [N]         recorded predictions, newest first
            %eachgen resume ID [-o NAME] pick up a prediction by id (after a kernel restart)
            %eachgen config              the settings (the API key is never shown)
            %eachgen login               give the API key at a hidden prompt (kept in memory)
            %eachgen doctor              versions, key set?, service reachable?: for bug reports
            %eachgen panel [MODEL]       the widget panel (--emulator: on the emulator)
            %eachgen MODEL --prompt "…"  generate from one line

        Settings: ``%config EachGen.default_model | output_dir | embed | concurrency | timeout |
        poll_interval | max_runs`` (also in ipython_config.py).
        """
        return self._dispatch(line, cell)

    def _dispatch(self, line: str, cell: str | None) -> Any:
        if cell is None:
            word, _, rest = line.strip().partition(" ")
            if word in ("", "help", "-h", "--help"):
                return TextView(self.eachgen.__doc__ or "")
            if word in SUBCOMMANDS:
                namespace = self.shell.user_ns if self.shell is not None else {}
                return getattr(self, f"_{word}")([fill(t, namespace) for t in tokenize(rest)])
        return self._generate(line, cell or "")

    # -- generation -----------------------------------------------------------------------

    def _generate(self, line: str, body: str) -> Any:
        from ._runner import CellRun

        tokens = tokenize(line)
        if any(t in HELP_FLAGS for t in tokens):
            return TextView(self.eachgen.__doc__ or "")
        namespace = self.shell.user_ns if self.shell is not None else {}
        split = split_tokens(tokens)
        args = self.eachgen.parser.parse_args([fill(t, namespace) for t in split.own])
        options = [
            ModelOption(o.name, fill_value(o.value, namespace), o.negated) for o in split.inputs
        ]
        if args.MODEL and args.model_list:
            raise UsageError("give the model once: as MODEL or as --model, not both")
        spec = args.MODEL or args.model_list or self.default_model
        if not spec:
            raise UsageError(
                "no model: name one (%%eachgen MODEL) or %config EachGen.default_model"
            )
        slugs = list(dict.fromkeys(s.strip() for s in spec.split(",") if s.strip()))
        if args.out is not None and not args.out.isidentifier():
            raise UsageError(f"-o {args.out!r}: not a valid variable name")
        if args.timeout is not None and args.timeout <= 0:
            raise UsageError("--timeout must be positive")

        client = self._client(args.emulator)
        try:
            client.settings().require_key()
        except ConfigurationError as exc:
            raise UsageError(str(exc)) from None
        models = [(s, self._model(client, s).get("request_schema") or {}) for s in slugs]
        prompts = [fill(p, namespace) for p in split_prompts(body)]
        jobs = build_jobs(models, prompts, options, max_runs=self.max_runs)
        run = CellRun(
            client,
            jobs,
            timeout=args.timeout if args.timeout is not None else self.timeout,
            save_to=self._save_to(args.output_dir),
            reuse=not args.force,
        )
        if args.background:
            return self._background(run, args.out)
        return self._blocking(run, args.out, args.embed)

    def _store(self, name: str | None, value: Any) -> None:
        self.last = value
        if name and self.shell is not None:
            self.shell.user_ns[name] = value

    def _blocking(self, run: CellRun, out: str | None, embed: str | None) -> None:
        handle = display(run.view, display_id=True)
        try:
            run_sync(run.execute())
        except KeyboardInterrupt:
            with contextlib.suppress(BaseException):
                run_sync(run.cancel_leftovers())
            ids = run.cancelled_ids
            if ids:
                message = (
                    f"interrupted: cancelled {len(ids)} prediction(s) on the service, not "
                    f"billed: {', '.join(ids)}"
                )
            else:
                message = "interrupted before any prediction was created: nothing was sent"
            self._show(handle, TextView(message, "#92400e"), run, embed)
            raise EachGenInterrupted(message) from None
        except Exception as exc:  # a bug: leave a static note, not live widgets
            self._show(handle, TextView(f"{type(exc).__name__}: {exc}", "#b91c1c"), run, embed)
            raise
        result = run.result()
        if isinstance(result, BaseException):
            self._show(
                handle, TextView(f"{type(result).__name__}: {result}", "#b91c1c"), run, embed
            )
            raise EachGenError(str(result)) from result
        self._show(handle, result, run, embed)
        self._store(out, result)
        if run.reused:
            what = "the result" if len(run.jobs) == 1 else f"{run.reused} of the results"
            print(f"Reused {what} of an identical earlier run (nothing spent); --force runs again.")
        return None

    @staticmethod
    def _show(handle: Any, obj: Any, run: CellRun, embed: str | None) -> None:
        """Put the static result where the live cards were, then close the cards' widgets."""
        previous = embed_mode()
        if embed:
            set_embed_mode(embed)
        try:
            bundle = obj._repr_mimebundle_()
        finally:
            set_embed_mode(previous)
        if handle is not None:
            handle.update(bundle, raw=True)
        else:
            display(bundle, raw=True)
        run.close()

    def _background(self, run: CellRun, out: str | None) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise UsageError(
                "--background needs a running event loop (a Jupyter kernel); run without it"
            ) from None
        display(run.view)
        task = loop.create_task(run.execute())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(run.on_done(lambda r: self._store(out, r.result())))
        where = f"; {out} will hold the result" if out else ""
        print(f"Running {len(run.jobs)} prediction(s) in the background{where}.")

    # -- line forms ----------------------------------------------------------------------

    @staticmethod
    def _flags(tokens: Sequence[str], *allowed: str) -> tuple[list[str], dict[str, str | bool]]:
        words: list[str] = []
        flags: dict[str, str | bool] = {}
        i = 0
        while i < len(tokens):
            token = tokens[i]
            i += 1
            if not token.startswith("-"):
                words.append(token)
                continue
            if token not in allowed:
                raise UsageError(f"unknown option {token}; allowed here: {', '.join(allowed)}")
            if token in ("-o", "--timeout"):
                if i >= len(tokens):
                    raise UsageError(f"{token} needs a value")
                flags[token] = tokens[i]
                i += 1
            else:
                flags[token] = True
        return words, flags

    def _models(self, tokens: Sequence[str]) -> Any:
        words, flags = self._flags(tokens, "--emulator")
        name = " ".join(words) or None
        client = self._client(bool(flags.get("--emulator")))
        try:
            models = run_sync(client.list_models(name))
        except EachLabsError as exc:
            raise EachGenError(f"could not list the models: {exc}") from None
        if name is None:
            self.completion.remember(client.settings().base_url, models)
        return models_table(models, name)

    def _schema(self, tokens: Sequence[str]) -> Any:
        words, flags = self._flags(tokens, "--emulator")
        if len(words) != 1:
            raise UsageError("usage: %eachgen schema MODEL")
        client = self._client(bool(flags.get("--emulator")))
        return schema_table(self._model(client, words[0]))

    def _history(self, tokens: Sequence[str]) -> Any:
        from .._api import history

        words, _ = self._flags(tokens)
        if len(words) > 1 or (words and not words[0].isdigit()):
            raise UsageError("usage: %eachgen history [N]")
        return history_table(history(int(words[0]) if words else 20))

    def _resume(self, tokens: Sequence[str]) -> Any:
        from .._api import aresume

        words, flags = self._flags(tokens, "-o", "--timeout")
        if len(words) != 1:
            raise UsageError("usage: %eachgen resume ID [-o NAME] [--timeout S]")
        out = flags.get("-o")
        timeout: float | None = self.timeout
        if "--timeout" in flags:
            try:
                timeout = float(str(flags["--timeout"]))
            except ValueError:
                raise UsageError("--timeout needs a number of seconds") from None
        try:
            generation = run_sync(
                aresume(words[0], timeout=timeout, save_to=self._save_to(None), poll=self._poll())
            )
        except KeyError as exc:
            raise UsageError(str(exc.args[0] if exc.args else exc)) from None
        except KeyboardInterrupt:
            raise EachGenInterrupted(
                f"interrupted: prediction {words[0]} was cancelled on the service, not billed"
            ) from None
        except EachLabsError as exc:
            raise EachGenError(str(exc)) from None
        self._store(str(out) if isinstance(out, str) else None, generation)
        return generation

    def _config(self, tokens: Sequence[str]) -> Any:
        from .._journal import default_journal

        if tokens:
            raise UsageError("usage: %eachgen config (change one with %config EachGen.NAME = …)")
        settings = _settings.resolve()
        if "base_url" in _settings._overrides:
            url_source = "configure()"
        elif os.environ.get("EACHLABS_BASE_URL"):
            url_source = "EACHLABS_BASE_URL"
        else:
            url_source = "default"
        if "api_key" in _settings._overrides:
            key_source = "configure()"
        elif os.environ.get("EACHLABS_API_KEY", "").strip():
            key_source = "EACHLABS_API_KEY"
        else:
            key_source = "not needed by the emulator" if settings.is_emulator else "missing"
        rows: list[tuple[str, Any, str]] = [
            ("base_url", settings.base_url, url_source),
            ("api key", "set" if settings.api_key is not None else "not set", key_source),
            ("default_model", self.default_model, "EachGen.default_model"),
            ("output_dir", self._save_to(None) or "(not saving)", "EachGen.output_dir"),
            ("embed", self.embed, "EachGen.embed"),
            ("concurrency", self.concurrency, f"EachGen.concurrency (now {limiter.limit})"),
            ("timeout", self.timeout if self.timeout is not None else "none", "EachGen.timeout"),
            ("poll_interval", self.poll_interval, "EachGen.poll_interval"),
            ("max_runs", self.max_runs, "EachGen.max_runs"),
            ("journal", default_journal().path, "EACHLABS_HOME"),
        ]
        if settings.is_emulator:
            speed = os.environ.get("EACHLABS_EMULATOR_SPEED", "1")
            rows.append(("emulator speed", speed, "EACHLABS_EMULATOR_SPEED"))
        return config_table(rows)

    def _login(self, tokens: Sequence[str]) -> None:
        from .._login import login

        if tokens:
            raise UsageError(
                "usage: %eachgen login (the key is asked for at a hidden prompt; never write it "
                "on the line, where the notebook would keep it)"
            )
        try:
            login()
        except ConfigurationError as exc:
            raise UsageError(str(exc)) from None

    def _doctor(self, tokens: Sequence[str]) -> Any:
        from .._doctor import build_report

        if tokens:
            raise UsageError("usage: %eachgen doctor")
        return build_report(self._save_to(None))

    def _panel(self, tokens: Sequence[str]) -> Any:
        words, flags = self._flags(tokens, "--emulator")
        if len(words) > 1:
            raise UsageError("usage: %eachgen panel [MODEL] [--emulator]")
        try:
            module = importlib.import_module("eachlabs_widgets.panel")
        except ImportError as exc:
            if exc.name not in ("eachlabs_widgets.panel", "eachlabs_widgets"):
                raise
            raise UsageError(
                "the panel is not available in this version of eachlabs-widgets; "
                "use %%eachgen cells or eachlabs_widgets.generate()"
            ) from None
        panel_class = getattr(module, "Panel", None)
        if panel_class is None:
            raise UsageError("the panel is not available in this version of eachlabs-widgets")
        # the magic's client: the panel polls as %config EachGen.poll_interval says
        client = self._client(bool(flags.get("--emulator")))
        return panel_class(words[0] if words else None, client=client)
