"""The ``EachGen`` magics: ``%%eachgen`` generates, ``%eachgen`` also lists, explains, resumes.

A thin adapter: the line is parsed by :mod:`._parse`, jobs run through :class:`.._runs.CellRun`
on the async client, and tables come from :mod:`.._tables`.

``%load_ext`` only defines and registers the magics, so this module imports nothing heavy at
its top: the client (httpx), the schema checks (jsonschema), the runs and their widgets
(ipywidgets), the journal (sqlite3) and asyncio are imported by the methods that use them, on
the shell's thread, when a cell first needs them. ``tests/magics/test_load_ext.py`` holds this.
"""

from __future__ import annotations

import difflib
import importlib
import logging
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.display import display
from traitlets import Enum, Float, Int, TraitError, Unicode, default, observe, validate

from .. import _settings
from .._display.cellsyntax import (
    HELP_FLAGS,
    ModelOption,
    fill,
    fill_value,
    plain_line,
    split_prompts,
    split_tokens,
    tokenize,
)
from .._display.render import EMBED_MODES, embed_mode, error_sentence, set_embed_mode
from .._exceptions import BudgetExceededError, ConfigurationError, EachLabsError, NotFoundError
from .._settings import DEFAULT_CONCURRENCY, DEFAULT_OUTPUT_DIR
from ._catalogue import CompletionCatalogue, nearest_slugs
from ._complete import SUBCOMMANDS

if TYPE_CHECKING:
    import asyncio

    from .._notebook.runs import CellRun
    from .._service.client import AsyncEachLabs
    from .._service.polling import PollSchedule
    from .._service.retry import RetryPolicy
    from ._cost import Estimate

__all__ = ["EachGen", "EachGenError", "EachGenInterrupted"]

DEFAULT_MODEL = "flux-2-turbo-text-to-image"
log = logging.getLogger("eachlabs_widgets")


class EachGenError(Exception):
    """A failure shown as one line, without a traceback (a prediction failed, the service
    could not be reached). A mistake in the line itself is a ``UsageError``."""

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self}"]


class EachGenInterrupted(EachGenError):
    """The kernel was interrupted while the cell waited; a cancel of its predictions was asked
    of the service (the message says what it answered)."""


def cell_error(failure: BaseException, runs: int, left_out: int = 0) -> EachGenError:
    """The one line a failed cell ends with (``left_out``: cells a budget refused before
    their create, which never failed). The service's codes stay on the original exception,
    kept as ``.error`` (and ``__cause__``)."""
    if runs == 1:
        error = EachGenError(error_sentence(failure))
    elif left_out:
        sent = runs - left_out
        error = EachGenError(
            f"the {sent} run{'s' if sent != 1 else ''} sent failed (each one's error is in the "
            f"grid above); {left_out} left out by the budget"
        )
    else:
        error = EachGenError(f"all {runs} runs failed (each one's error is in the grid above)")
    error.error = failure  # type: ignore[attr-defined]
    error.__cause__ = failure
    error.__suppress_context__ = True
    return error


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
        DEFAULT_CONCURRENCY,
        help="The most predictions in flight at once; below it, the client follows the "
        "account's cap as the service's 429s reveal it (only accounts with a balance of $10 "
        "or less are capped).",
    ).tag(config=True)
    timeout = Float(
        None, allow_none=True, help="Seconds to wait for one prediction (None: no limit)."
    ).tag(config=True)
    poll_interval = Float(5.0, help="The longest wait between two polls, in seconds.").tag(
        config=True
    )
    max_runs = Int(32, help="The most predictions one cell may start.").tag(config=True)
    confirm_above = Float(
        0.50,
        help="USD: a cell of several predictions estimated above this asks first (--yes "
        "answers; nothing is asked while the price is unknown).",
    ).tag(config=True)
    budget = Float(
        None,
        allow_none=True,
        help="USD: the most this session may spend (as el.configure(budget=)); a create whose "
        "learned price would pass it is not sent, a grid runs the cells that fit. None: no "
        "budget (EACHLABS_BUDGET aside).",
    ).tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell, **kwargs)
        if self.budget is not None:  # from ipython_config.py: the session's budget from now
            _settings.set_budget(self.budget)
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

    @validate("confirm_above")
    def _check_confirm_above(self, proposal: Any) -> float:
        if not proposal["value"] >= 0:
            raise ValueError("confirm_above is in USD and cannot be negative")
        return float(proposal["value"])

    @validate("budget")
    def _check_budget(self, proposal: Any) -> float | None:
        value = proposal["value"]
        if value is not None and not value >= 0:
            raise TraitError("budget is in USD and cannot be negative (None: no budget)")
        return None if value is None or value == float("inf") else float(value)

    @observe("budget")
    def _budget_changed(self, change: Any) -> None:
        _settings.set_budget(change["new"])

    @observe("concurrency")
    def _concurrency_changed(self, change: Any) -> None:
        from .._service.limiter import limiter

        limiter.resize(change["new"])

    @validate("timeout", "poll_interval")
    def _check_positive(self, proposal: Any) -> Any:
        value = proposal["value"]
        if value is not None and value <= 0:
            raise ValueError(f"{proposal['trait'].name} must be positive")
        return value

    def _client(self, emulator: bool = False, retry: RetryPolicy | None = None) -> AsyncEachLabs:
        from .._service.client import AsyncEachLabs

        return AsyncEachLabs(
            base_url=_settings.EMULATOR if emulator else None, poll=self._poll(), retry=retry
        )

    def _poll(self) -> PollSchedule:
        from .._service.polling import PollSchedule

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
        from .._service.sync import run_sync

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
        from .._service.sync import run_sync

        try:
            return run_sync(client.get_model(slug))
        except NotFoundError:
            try:
                known = self._catalogue(client)
            except EachLabsError:
                known = []
            near = nearest_slugs(slug, known)
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
    @argument("--yes", action="store_true", help="run without asking, whatever the estimate")
    @argument("--parent", metavar="ID", help="record the runs as made from prediction ID")
    @line_cell_magic
    def eachgen(self, line: str, cell: str | None = None) -> Any:
        """Generate images with EachLabs models; the cell body is the prompt.

        Cell form:

            %%eachgen MODEL [--INPUT VALUE]... [-o NAME] [--force] [--background]
            a red fox in fresh snow, golden hour
            ---
            a second prompt (a line holding only --- separates prompts)

        Line form (one prompt, no cell body):

            %eachgen MODEL --prompt "a red fox in fresh snow"

        How model inputs become options: every input of the model (see %eachgen schema MODEL)
        is an option named like it, checked against the model's schema before anything is
        sent. For example:

            --image_size landscape_16_9 --num_images 2 --seed 42
            --name=value                    the same, in one word
            --enable_safety_checker / --no-enable_safety_checker    booleans
            --image_url photo.png           a local file is uploaded; a URL is sent as is
            --input.background opaque       an input named like one of the options below

        Several runs at once, shown as one grid with row and column headers:

            %%eachgen flux-2-pro,imagen-4-fast          compare models
            --seed 1,2,3                                sweep a number (one run per value)
            --seed 1,2 --image_size square,portrait_4_3 two sweeps: a 2 x 2 matrix
            (given no --seed, every cell shares one seed, said above the grid;
            --seed random gives each cell its own)
            three varying inputs: one titled grid per value of the first
            -o NAME keeps the grid: NAME.sheet is one labelled PNG of it, in the output folder
            (a free-text input never sweeps: its commas are part of the value)

        Notebook variables: {name} in the body or a value is filled in ({{ and }} for literal
        braces); a value that is exactly {name} passes the object itself (a PIL image or a path
        for a file input, a list to sweep). To keep a prompt exactly as written (blanks, a line
        ---), write it as one JSON string: "  kept as is  ".

        The cell waits, showing live cards (progress, time left, cost estimate), then leaves the
        static result: thumbnail, caption and links to the saved files, which a saved notebook
        keeps. Stop the kernel to cancel (a prediction the service cancels is not billed). With an
        explicit --seed, re-running identical inputs reuses the saved result (cost $0) unless
        --force. --background returns at once: the card has a Cancel button, -o NAME is a
        handle at once (NAME.done(), NAME.result(), NAME.cancel()), and the result replaces the
        card when it ends.

        Line forms:

            %eachgen models [FILTER]     the catalogue
            %eachgen schema MODEL        a model's inputs: type, default, allowed values
            %eachgen history [N]         recorded predictions, newest first
            %eachgen resume ID [-o NAME] pick up a prediction by id or a unique prefix
            %eachgen config              the settings (the API key is never shown)
            %eachgen login               give the API key at a hidden prompt (kept in memory)
            %eachgen doctor              versions, key set?, service reachable?: for bug reports
            %eachgen doctor --live       a real round trip (asks the price first; --yes
                                         answers), each answer checked, a redacted trace
            %eachgen panel [MODEL]       the widget panel (--emulator: on the emulator)
            %eachgen find ["WORDS"] [--model M] [--starred] [--tag T] [--since DATE] [-o NAME]
                                         search the prompts of what was made (a grid)
            %eachgen recall PATH|ID      an image's (or prediction's) settings, as the next cell

        Lineage: --parent ID records the cell's runs as made from prediction ID (an id or a
        short id; %eachgen recall writes it), so lineage(id) finds the chain.

        Cost first: a cell of several predictions shows its estimate (the learned price per
        image x the cells) before anything is created; above EachGen.confirm_above (USD) it
        asks first, and --yes answers (required where no one can answer, e.g. nbconvert).
        With EachGen.budget (USD) a create whose learned price would pass the session's
        reported spend is not sent: a grid runs the cells that fit and says what it left out
        (never "failed"); when none fits it sends nothing and says so in one line.

        Settings: %config EachGen.default_model, output_dir, embed, concurrency, timeout,
        poll_interval, max_runs, confirm_above, budget (also in ipython_config.py).
        """
        return self._dispatch(line, cell)

    def _dispatch(self, line: str, cell: str | None) -> Any:
        if cell is None:
            word, _, rest = plain_line(line).strip().partition(" ")  # pasted spaces too
            if word in ("", "help", "-h", "--help"):
                return self._help()
            if word in SUBCOMMANDS:
                namespace = self.shell.user_ns if self.shell is not None else {}
                return getattr(self, f"_{word}")([fill(t, namespace) for t in tokenize(rest)])
            near = difflib.get_close_matches(word, SUBCOMMANDS, n=1, cutoff=0.75)
            if near and not word.startswith("-") and "," not in word:
                raise UsageError(
                    f"%eachgen {word}: no such command; did you mean %eachgen {near[0]}? "
                    f"(commands: {', '.join(SUBCOMMANDS)}; %eachgen alone shows the help)"
                )
        return self._generate(line, cell)

    def _help(self) -> Any:
        from .._display.tables import TextView

        return TextView(self.eachgen.__doc__ or "")

    # -- generation -----------------------------------------------------------------------

    def _generate(self, line: str, cell: str | None) -> Any:
        from .._notebook.runs import CellRun
        from .._schema.inputs import properties_of
        from ._fair import share_seed, wants_random_seeds
        from ._parse import build_jobs

        body = cell or ""
        tokens = tokenize(line)
        if any(t in HELP_FLAGS for t in tokens):
            return self._help()
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
        if cell is None and not any(o.name == "prompt" for o in options):
            takes = [s for s, schema in models if "prompt" in properties_of(schema)]
            if takes:
                raise UsageError(
                    f'%eachgen {" ".join(takes)} needs a prompt: give it with --prompt "…", '
                    f"or use the cell form, %%eachgen {','.join(slugs)} with the prompt as the "
                    "cell body"
                )
        options, random_seeds = wants_random_seeds(options)
        jobs = build_jobs(models, prompts, options, max_runs=self.max_runs)
        if args.parent:
            parent = _parent_id(args.parent)
            for job in jobs:
                job.parent = parent
        if not random_seeds:  # one seed for every cell: an X/Y plot compares what it sweeps
            share_seed(jobs, dict(models))
        said = None
        left_out: dict[int, Any] = {}
        if len(jobs) > 1:  # the cost first: before anything is created
            from ._cost import fit_budget

            cost = self._cost_first(client, jobs, reuse=not args.force, yes=args.yes)
            if cost is None:
                return None
            said = cost.text
            left_out = dict(fit_budget(jobs, cost, client.budget))
        run = CellRun(
            client,
            jobs,
            timeout=args.timeout if args.timeout is not None else self.timeout,
            save_to=self._save_to(args.output_dir),
            reuse=not args.force,
            background=args.background,
            estimate=said,
            left_out=left_out,
        )
        if args.background:
            return self._background(run, args.out, args.embed)
        return self._blocking(run, args.out, args.embed)

    def _cost_first(
        self, client: AsyncEachLabs, jobs: Sequence[Any], *, reuse: bool, yes: bool
    ) -> Estimate | None:
        """The estimate of a cell of several predictions (shown in its header from the start),
        after asking when it is above ``confirm_above``; None when the person said no, or when
        the budget leaves out every cell (then nothing is asked: nothing would be sent)."""
        from .._doctor.ask import ask
        from ._cost import estimate, fit_budget, must_ask

        cost = estimate(jobs, client.journal, client.settings().base_url, reuse=reuse)
        left_out = fit_budget(jobs, cost, client.budget)
        if left_out and len(left_out) == len(jobs):
            # Refused before anything was sent: no error of the service, so no traceback (as
            # a declined confirm below).
            refusal = next(iter(left_out.values()))
            print(f"not run: the budget leaves out all {len(jobs)} cells ({refusal})")
            return None
        models = ", ".join(dict.fromkeys(job.model for job in jobs))
        what = f"{cost.paid} prediction{'s' if cost.paid != 1 else ''} of {models}"
        go = must_ask(cost, self.confirm_above, yes, ask, what)
        if go is None:
            raise EachGenError(
                f"{what}: {cost.text}, above EachGen.confirm_above (${self.confirm_above:.2f}), "
                "and no one can answer here: add --yes to the line to run it (nothing was sent)"
            )
        if not go:
            print(f"not run: nothing was sent ({what}: {cost.text})")
            return None
        return cost

    def _store(self, name: str | None, value: Any) -> None:
        self.last = value
        if name and self.shell is not None:
            self.shell.user_ns[name] = value

    def _blocking(self, run: CellRun, out: str | None, embed: str | None) -> None:
        from .._notebook.run_display import settle, wait_for

        handle = display(run.view, display_id=True)
        try:
            ids = wait_for(run)
        except Exception:  # a bug: no live widgets left behind, then the traceback
            settle(handle, run, embed, failed=True)
            raise
        if ids is not None:
            if ids:
                from .._service import cancels

                message = f"interrupted: {cancels.say(ids)}"
            else:
                message = "interrupted before any prediction was created: nothing was sent"
            settle(handle, run, embed, failed=True)
            raise EachGenInterrupted(message) from None
        result = run.result()
        self._store(out, result)
        failure = run.failure()
        settle(handle, run, embed, failed=failure is not None)
        if failure is not None:
            left_out = sum(1 for o in run.outcomes if isinstance(o, BudgetExceededError))
            raise cell_error(failure, len(run.jobs), left_out)
        return None

    def _background(self, run: CellRun, out: str | None, embed: str | None) -> Any:
        import asyncio

        from .._notebook.run_display import show_in_background

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            raise UsageError(
                "--background needs a running event loop (a Jupyter kernel); run without it"
            ) from None

        def ended(result: Any) -> None:
            self.last = result

        background = show_in_background(run, embed, ended)
        self._tasks.add(background._task)
        background._task.add_done_callback(self._tasks.discard)
        self._store(out, background)
        return None

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
        from .._display.tables import models_table
        from .._service.sync import run_sync

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
        from .._display.tables import schema_table

        words, flags = self._flags(tokens, "--emulator")
        if len(words) != 1:
            raise UsageError("usage: %eachgen schema MODEL")
        client = self._client(bool(flags.get("--emulator")))
        return schema_table(self._model(client, words[0]))

    def _history(self, tokens: Sequence[str]) -> Any:
        from .._api import history
        from .._display.tables import history_table

        words, flags = self._flags(tokens, "--all")
        if len(words) > 1 or (words and not words[0].isdigit()):
            raise UsageError("usage: %eachgen history [N] [--all]")
        limit = int(words[0]) if words else 20
        if flags.get("--all"):
            return history_table(history(limit, emulator=True))
        shown = history(limit)
        table = history_table(shown)
        # The embedded emulator's predictions of other sessions are left out by default (they
        # cannot be resumed): an empty table must not look like an empty journal.
        hidden = len(history(None, emulator=True)) - len(history(None))
        if hidden > 0:
            table.note = (
                f"{hidden} emulator prediction(s) of other sessions are not listed (they "
                "cannot be resumed; their files are kept): %eachgen history --all lists them. "
                + table.note
            )
        return table

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
        from .._notebook.run_display import settle
        from .._notebook.runs import CellRun, Job
        from .._service.sync import run_sync

        async def follow(index: int, on_update: Any) -> Any:
            return await aresume(
                words[0],
                timeout=timeout,
                save_to=self._save_to(None),
                poll=self._poll(),
                on_update=on_update,
            )

        run = CellRun(
            self._client(),
            [Job(label=f"resume {words[0]}", model="", inputs={})],
            runner=follow,
        )
        handle = display(run.view, display_id=True)
        try:
            run_sync(run.execute())
        except KeyboardInterrupt:
            settle(handle, run, None, failed=True)
            from .._service import cancels

            ids = run.cancelled_ids or [words[0]]
            raise EachGenInterrupted(f"interrupted: prediction {cancels.say(ids)}") from None
        failure = run.failure()
        settle(handle, run, None, failed=failure is not None)
        if isinstance(failure, KeyError):
            raise UsageError(str(failure.args[0] if failure.args else failure)) from None
        if failure is not None:
            raise cell_error(failure, 1)
        generation = run.outcomes[0]
        self._store(str(out) if isinstance(out, str) else None, generation)
        return None

    def _config(self, tokens: Sequence[str]) -> Any:
        from .._display.tables import config_table
        from .._journal.journal import default_journal
        from .._service.limiter import limiter

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
            ("confirm_above", f"${self.confirm_above:.2f}", "EachGen.confirm_above"),
            ("budget", _budget_said(), "EachGen.budget, configure(budget=), EACHLABS_BUDGET"),
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

    def _find(self, tokens: Sequence[str]) -> Any:
        from ._finding import find_line

        results, name = find_line(tokens)
        self._store(name, results)
        return results

    def _recall(self, tokens: Sequence[str]) -> Any:
        from ._finding import recall_line

        return recall_line(self.shell, tokens)

    def _doctor(self, tokens: Sequence[str]) -> Any:
        from .._doctor import build_report

        words, flags = self._flags(tokens, "--live", "--yes")
        if words or ("--yes" in flags and "--live" not in flags):
            raise UsageError("usage: %eachgen doctor [--live [--yes]]")
        if flags.get("--live"):
            from .._doctor.live import live_check

            try:
                report = live_check(yes=bool(flags.get("--yes")))
            except ConfigurationError as exc:
                raise UsageError(str(exc)) from None
            return report if report.ran else None  # what was not done is said already
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


def _budget_said() -> str:
    """The session's budget and its spend, as ``%eachgen config`` shows them."""
    from .._service.budget import session

    try:
        return session.describe() if session.limit is not None else "none"
    except ConfigurationError as exc:  # EACHLABS_BUDGET unreadable: say so, as a cell would
        return str(exc)


def _plain_doc(doc: str) -> str:
    """IPython's ``magic_arguments`` opens the usage with a reST literal marker (``::``);
    ``%%eachgen?`` and ``%eachgen`` show the help as plain text, so the marker goes."""
    lines = doc.splitlines()
    if lines and lines[0].strip() == "::":
        lines = lines[1:]
        while lines and not lines[0].strip():
            lines.pop(0)
    return "\n".join(lines)


EachGen.eachgen.__doc__ = _plain_doc(EachGen.eachgen.__doc__ or "")


def _parent_id(text: str) -> str:
    """The journal's id for ``--parent`` (an id or a unique short id); a UsageError naming it
    when the journal has no such prediction (nothing is sent)."""
    from .._library.finding import prediction_id_of

    try:
        return prediction_id_of(text)
    except (EachLabsError, TypeError) as exc:
        raise UsageError(f"--parent {text}: {exc}") from None
