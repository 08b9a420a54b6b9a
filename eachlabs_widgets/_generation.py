"""``Generation``: a finished prediction with its downloaded outputs, and the runs made from
it (``vary``, ``remix``).

``Generation`` sits below the client, so it never imports it: the client that made a
generation gives it a :class:`Runner` (a function passed in), and the front end registers the
default one (:func:`set_default_runner`) for generations rebuilt from the journal.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import warnings
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ._exceptions import EachLabsError, InputValidationError
from ._journal.files import extension_for, safe_stem, write_output, write_sidecar
from ._schema.inputs import SEED_MAX
from ._settings import DEFAULT_OUTPUT_DIR

if TYPE_CHECKING:
    from PIL import Image

    from ._display.render import Results
    from ._journal.journal import JournalEntry
    from ._schema.lora import Lora

__all__ = [
    "DEFAULT_OUTPUT_DIR",
    "Generation",
    "Output",
    "Rerun",
    "Runner",
    "decode_image",
    "new_seeds",
    "set_default_runner",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Rerun:
    """One run made from a generation: its ``inputs``, and its ``label`` and ``axes`` (what
    sets it apart from the others, ``{"seed": 7}``) in the :class:`~eachlabs_widgets.Results`
    it ends in."""

    label: str
    axes: dict[str, Any]
    inputs: dict[str, Any]


class Runner(Protocol):
    """How a :class:`Generation` makes new runs from itself (:meth:`Generation.vary`,
    :meth:`Generation.remix`).

    ``arun_all`` runs ``model`` on the inputs of every run at once (each checked against the
    model's schema before it is sent), records ``parent`` in the journal, and returns what
    each ended with, in order: its :class:`Generation` or its exception. In a notebook the
    runs are shown together while they go (one card, or one row of cards) and leave one
    line. ``wait`` runs a coroutine to its end from synchronous code (in a script, or a cell
    of a running kernel).
    """

    async def arun_all(
        self, model: str, runs: Sequence[Rerun], *, parent: str, timeout: float | None
    ) -> list[Generation | BaseException]: ...

    def wait(self, work: Coroutine[Any, Any, T]) -> T: ...


_default_runner: Runner | None = None


def set_default_runner(runner: Runner, *, replace: bool = True) -> None:
    """The runner of generations that were given none (rebuilt from the journal, say). The
    front end registers it; ``replace=False`` keeps one already registered."""
    global _default_runner
    if replace or _default_runner is None:
        _default_runner = runner


def new_seeds(current: Any, n: int, rng: random.Random | None = None) -> list[int | None]:
    """``n`` seeds for variations of a run whose seed was ``current``: distinct, each unlike
    ``current``, within 0…``SEED_MAX`` (the range seeds are picked in). ``None`` each when
    ``current`` is not an integer (a model without an integer seed: it picks its own)."""
    if not isinstance(current, int) or isinstance(current, bool):
        return [None] * n
    pick = rng or random.SystemRandom()
    seeds: list[int | None] = []
    taken = {current}
    while len(seeds) < n:
        seed = pick.randint(0, SEED_MAX)
        if seed not in taken:
            taken.add(seed)
            seeds.append(seed)
    return seeds


#: Used when Pillow's own decompression-bomb limit is switched off (``MAX_IMAGE_PIXELS = None``).
FALLBACK_MAX_PIXELS = 89_478_485


@dataclass(frozen=True)
class Output:
    """One downloaded output file (``data`` as the service made it).

    ``raw`` marks the stand-in for an answer that held no file: ``data`` is then the service's
    raw ``output`` as JSON (``{"raw_output": …}``) and ``url`` is empty.
    """

    url: str
    data: bytes = field(repr=False)
    content_type: str | None = None
    raw: bool = False

    @property
    def is_image(self) -> bool:
        """The bytes announce an image (whether Pillow can decode it is another matter)."""
        from ._schema.media import sniff_content_type

        return sniff_content_type(self.data).startswith("image/")

    @classmethod
    def from_raw(cls, value: Any) -> Output:
        """The stand-in that keeps a success's ``output`` when it names no file."""
        text = json.dumps({"raw_output": value}, indent=2, default=str, ensure_ascii=False)
        return cls(url="", data=text.encode(), content_type="application/json", raw=True)


def decode_image(data: bytes) -> Image.Image:
    """``data`` decoded by Pillow, refusing images of more pixels than Pillow's
    decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``) before decoding them.

    Raises ``ValueError`` for a bomb or a HEIC without ``pillow-heif``, ``OSError``
    (``UnidentifiedImageError``) or another exception from Pillow for a truncated, corrupt or
    unknown file.
    """
    from PIL import Image

    if data[4:8] == b"ftyp":  # HEIC/HEIF: readable when the optional pillow-heif is there
        from ._display.thumbs import register_optional_codecs
        from ._schema.media import sniff_content_type

        if not register_optional_codecs() and sniff_content_type(data) == "image/heic":
            raise ValueError(
                "a HEIC image: showing it needs the optional pillow-heif "
                "(pip install 'eachlabs-widgets[heic]'); the file is kept"
            )
    limit = Image.MAX_IMAGE_PIXELS or FALLBACK_MAX_PIXELS
    with warnings.catch_warnings():
        # Opening reads only the header; the size is checked below, before any pixel.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError:
            raise ValueError(
                f"it has more pixels than twice the {limit / 1e6:.0f} megapixel limit on decoding"
            ) from None
    if image.width * image.height > limit:
        raise ValueError(
            f"it is {image.width}×{image.height} pixels, more than the "
            f"{limit / 1e6:.0f} megapixel limit on decoding"
        )
    image.load()
    return image


@dataclass
class Generation:
    """A prediction that ended in success, with its outputs downloaded.

    ``inputs`` is exactly what was sent (including a seed picked for you), so
    ``generate(g.model, **g.inputs)`` reproduces it. ``outputs`` holds every file as the
    service made it, ``images`` those that decode, ``undecodable`` the others (kept, shown as
    links), ``output`` the service's raw answer, ``paths`` the saved files and ``save_error``
    why they were not saved, if so.
    """

    id: str
    model: str
    status: str
    inputs: dict[str, Any]
    urls: list[str]
    metrics: dict[str, Any] = field(default_factory=dict)
    outputs: list[Output] = field(default_factory=list, repr=False)
    created_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    elapsed: float | None = None
    emulated: bool = False
    paths: list[Path] = field(default_factory=list)
    polls: int = 0
    #: True when this result was reused from an earlier identical run (nothing was spent).
    reused: bool = False
    #: The service's ``output`` as it answered (URLs, a text, an object, ``None``…).
    output: Any = field(default=None, repr=False)
    #: Why the outputs were not saved (a full disk, a folder that cannot be written), if so.
    save_error: str | None = None
    #: The prediction id of the run this one was made from (``vary``, ``remix``, an image
    #: used as input, a loaded form, a recall), or ``None``.
    parent: str | None = None
    #: How ``vary``/``remix`` run (given by the client that made it; else the default one).
    _runner: Runner | None = field(default=None, repr=False, compare=False)
    _images: list[Image.Image] | None = field(default=None, repr=False, compare=False)
    _undecodable: dict[int, str] = field(default_factory=dict, repr=False, compare=False)
    #: Finished downloads waiting in a staging file to be saved (output index -> file).
    _staged: dict[int, Path] = field(default_factory=dict, repr=False, compare=False)
    #: Thumbnails made for showing it, kept so that they are made once (see ``_display.render``).
    _thumbnails: dict[Any, bytes | None] = field(default_factory=dict, repr=False, compare=False)

    @property
    def prompt(self) -> str | None:
        value = self.inputs.get("prompt")
        return value if isinstance(value, str) else None

    @property
    def seed(self) -> Any:
        return self.inputs.get("seed")

    @property
    def cost(self) -> float | None:
        value = self.metrics.get("cost")
        return float(value) if isinstance(value, (int, float)) else None

    @property
    def predict_time(self) -> float | None:
        value = self.metrics.get("predict_time")
        return float(value) if isinstance(value, (int, float)) else None

    @property
    def lora(self) -> Lora | None:
        """The LoRA a trainer's run made (its weights URL, the model that loads it, the
        trigger phrase), or ``None`` for a model that is not a trainer (API.md, "LoRA
        training"). The weights are not downloaded: ``g.lora.download(path)`` fetches them."""
        from ._schema.lora import lora_from_output

        output = self.output if self.output is not None else self.urls
        return lora_from_output(self.model, output, self.inputs)

    @property
    def images(self) -> list[Image.Image]:
        """The image outputs that decode, as PIL images (decoded once). Never raises: an
        output that does not decode (truncated, a decompression bomb, an unknown format) is
        left out here and listed in :attr:`undecodable`; its file is kept all the same."""
        images = self._images
        if images is None:
            images = []
            problems: dict[int, str] = {}
            for index, out in enumerate(self.outputs):
                if not out.is_image:
                    continue
                try:
                    images.append(decode_image(out.data))
                except Exception as exc:  # Pillow raises many kinds for a broken file
                    problems[index] = f"{type(exc).__name__}: {exc}"[:200]
            self._images, self._undecodable = images, problems
        return images

    @property
    def undecodable(self) -> dict[int, str]:
        """Outputs that announce an image but do not decode: index -> why. Shown as links."""
        self.images  # noqa: B018 - decoding is what finds them
        return dict(self._undecodable)

    @property
    def raw_output(self) -> bool:
        """True when the service's answer held no file: ``output`` is all there is (kept as a
        JSON stand-in in ``outputs`` and saved like a file). False for a trainer's LoRA: its
        weights are a file, left at the service until :attr:`lora` fetches them."""
        return any(out.raw for out in self.outputs) and self.lora is None

    def parameters(self, index: int | None = None) -> dict[str, Any]:
        """What is recorded beside and inside every saved file."""
        params: dict[str, Any] = {
            "model": self.model,
            "inputs": self.inputs,
            "prediction_id": self.id,
            "created_at": self.created_at.isoformat(),
            "metrics": self.metrics,
            "elapsed": self.elapsed,
        }
        if index is not None and index < len(self.outputs):
            params["output_index"] = index
            params["url"] = self.outputs[index].url
        if self.emulated:
            params["emulated"] = True
        if self.parent:
            params["parent"] = self.parent
        return params

    def file_stem(self, index: int) -> str:
        """The name of output ``index`` without extension: time, model, prompt, the whole id.

        Names may still meet (ids that differ only in case or punctuation); saving then picks
        the next free name rather than overwrite.
        """
        when = self.created_at.astimezone().strftime("%Y%m%d-%H%M%S")
        prompt = safe_stem(self.prompt or "", 40)
        return f"{when}_{safe_stem(self.model, 32)}_{prompt}_{safe_stem(self.id, 64)}_{index}"

    def save(self, directory: str | Path = DEFAULT_OUTPUT_DIR) -> list[Path]:
        """Write every output into ``directory``, each with a ``.json`` sidecar; returns the paths.

        A file is written whole before it gets its name and never replaces another file (a
        taken name gets ``-2``, ``-3``…); names are safe whatever the prompt holds; the
        parameters are also embedded in PNG and JPEG files. Raises ``OSError`` when the folder
        cannot be written; :attr:`paths` then lists what was saved before the failure.
        """
        folder = Path(directory).expanduser()
        paths: list[Path] = []
        self.paths = paths
        for index, out in enumerate(self.outputs):
            ext = extension_for(out.url, out.content_type, out.data)
            params = self.parameters(index)
            staged = self._staged.pop(index, None)
            try:
                path = write_output(
                    folder, self.file_stem(index), ext, out.data, params, staged=staged
                )
            finally:
                if staged is not None:
                    with contextlib.suppress(OSError):
                        staged.unlink(missing_ok=True)  # moved into place, or not needed
            paths.append(path)
            write_sidecar(path, params)
        return paths

    def discard_staged(self) -> None:
        """Remove the staging files of downloads that were not saved (the bytes stay in
        ``outputs``)."""
        for path in self._staged.values():
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        self._staged.clear()

    @classmethod
    def from_entry(cls, entry: JournalEntry) -> Generation:
        """A generation rebuilt from a journal entry whose files are on disk (no network)."""
        from ._settings import EMULATOR

        paths = [Path(f) for f in entry.files]
        outputs = [
            Output(url=url, data=path.read_bytes())
            for url, path in zip(entry.urls or [str(p) for p in paths], paths, strict=False)
        ]
        output: Any = list(entry.urls)
        if not entry.urls and len(outputs) == 1:  # perhaps the stand-in of a raw output
            with contextlib.suppress(ValueError):
                kept = json.loads(outputs[0].data)
                if isinstance(kept, dict) and set(kept) == {"raw_output"}:
                    output = kept["raw_output"]
                    outputs = [Output.from_raw(output)]
        return cls(
            id=entry.id,
            model=entry.model,
            status=entry.status,
            inputs=dict(entry.inputs),
            urls=list(entry.urls),
            metrics=dict(entry.metrics),
            outputs=outputs,
            created_at=entry.created_at,
            emulated=bool(entry.emulator) or entry.base_url == EMULATOR,
            paths=paths,
            reused=True,
            output=output,
            parent=entry.parent,
        )

    # -- runs made from this one -----------------------------------------------------------

    def _runner_or_default(self) -> Runner:
        runner = self._runner or _default_runner
        if runner is None:  # only when the package's front end was never imported
            raise EachLabsError("this Generation has no way to run (import eachlabs_widgets first)")
        return runner

    async def avary(self, n: int = 4, *, timeout: float | None = None) -> Results:
        """:meth:`vary` on the running event loop (the runs go at once)."""
        from ._display.render import Results

        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n is how many variations to make, a whole number ≥ 1, not {n!r}")
        runner = self._runner_or_default()
        runs = []
        for number, seed in enumerate(new_seeds(self.seed, n), 1):
            inputs = dict(self.inputs)
            if seed is not None:
                inputs["seed"] = seed
                runs.append(Rerun(f"seed {seed}", {"seed": seed}, inputs))
            else:  # a seed that is not an integer (or none): the service picks one
                inputs.pop("seed", None)
                runs.append(Rerun(f"variation {number}", {"variation": number}, inputs))
        outcomes = await runner.arun_all(self.model, runs, parent=self.id, timeout=timeout)
        refused = [o for o in outcomes if isinstance(o, InputValidationError)]
        if len(refused) == len(outcomes):
            raise refused[0]  # the same inputs for every run: nothing was sent
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(outcome, Exception):
                raise outcome  # an interrupt is not a failed variation
        items = [(run.label, outcome) for run, outcome in zip(runs, outcomes, strict=True)]
        folder = self.paths[0].parent if self.paths else None
        return Results(items, [run.axes for run in runs], folder=folder)

    def vary(self, n: int = 4, *, timeout: float | None = None) -> Results:
        """``n`` runs of the same model and inputs with new seeds (each unlike this one's and
        the others'), made at once; returns :class:`~eachlabs_widgets.Results`, a labelled row
        of them (``None`` where one failed, its error shown in the grid).

        Each run records this one as its ``parent`` in the journal (see
        :func:`~eachlabs_widgets.lineage`). A model without an integer seed gets the same
        inputs ``n`` times, and varies as the service makes it. Raises ``ValueError`` for an
        ``n`` that is not a whole number ≥ 1, and the error of the inputs when the model's
        schema refuses them (nothing is sent then); ``timeout`` as in ``generate()``.

        In a notebook the runs show as one row of live cards laid out like the result, which
        give way to one line when they end (``✓ 4 variations of abcd1234 · …``).
        """
        runner = self._runner_or_default()
        return runner.wait(self.avary(n, timeout=timeout))

    async def aremix(
        self, prompt: str | None = None, *, timeout: float | None = None, **changes: Any
    ) -> Generation:
        """:meth:`remix` on the running event loop."""
        runner = self._runner_or_default()
        run = Rerun(self.model, {}, self._remixed(prompt, changes))
        (outcome,) = await runner.arun_all(self.model, [run], parent=self.id, timeout=timeout)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def remix(
        self, prompt: str | None = None, *, timeout: float | None = None, **changes: Any
    ) -> Generation:
        """One run of the same model with some inputs changed: ``prompt`` and any input by
        name (``g.remix("the fox at night", image_size="square")``); the others, the seed
        included, stay as they were sent. An input set to ``None`` is left out (``seed=None``
        picks a new seed).

        The changes are checked against the model's schema like any input: a wrong name or
        value raises :class:`~eachlabs_widgets.InputValidationError` naming the field and the
        allowed values before anything is sent. The new run records this one as its
        ``parent`` in the journal. Raises ``ValueError`` when nothing is changed (identical
        inputs with the same seed would only give this result again; :meth:`vary` makes new
        seeds). In a notebook it shows a live card and fails in one line, as ``generate()``.
        """
        runner = self._runner_or_default()
        return runner.wait(self.aremix(prompt, timeout=timeout, **changes))

    def _remixed(self, prompt: str | None, changes: dict[str, Any]) -> dict[str, Any]:
        if prompt is not None:
            changes = {"prompt": prompt, **changes}
        inputs = dict(self.inputs)
        for name, value in changes.items():
            if value is None:
                inputs.pop(name, None)
            else:
                inputs[name] = value
        if inputs == self.inputs:
            raise ValueError(
                "remix() changes nothing: give a prompt or an input to change "
                "(vary() makes new seeds)"
            )
        return inputs

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from ._display.render import generation_bundle

        return generation_bundle(self)

    def __repr__(self) -> str:
        label = " (emulator)" if self.emulated else ""
        lora = self.lora
        if lora is not None:
            what = f"a LoRA for {lora.model} in .lora"
        elif self.raw_output:
            what = "no output file, the raw output is kept in .output"
        else:
            what = f"{len(self.outputs)} output(s)"
        notes = ", reused (nothing spent)" if self.reused else ""
        if self.parent:
            notes += f", from {self.parent}"
        if self.save_error:
            notes += ", not saved"
        return (
            f"<Generation {self.id} {self.model}{label} {self.status}: "
            f"{what}, seed={self.seed!r}{notes}>"
        )
