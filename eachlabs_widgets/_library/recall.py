"""``recall()``: a picture's (or a prediction's) settings, ready to run again on a model.

The settings are read by ``_journal.readers`` and fitted here to the model's own schema:
each value goes to the input of the model that means it, checked against that input; what
the model has no input for, or an input refuses, goes to ``dropped`` with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._exceptions import EachLabsError, NotFoundError
from .._journal.journal import JournalEntry, PredictionNotFound, default_journal
from .._journal.readers import Settings, UnreadableImage, read_settings
from .._schema.inputs import check_value, enum_of, properties_of

if TYPE_CHECKING:
    from .._generation import Generation

__all__ = ["Recalled", "fit", "recall"]

#: The inputs that may hold each neutral setting, in order of preference.
_TARGETS = {
    "prompt": ("prompt",),
    "negative_prompt": ("negative_prompt",),
    "seed": ("seed",),
    "steps": ("num_inference_steps", "steps", "num_steps"),
    "cfg": ("guidance_scale", "cfg_scale", "guidance", "cfg"),
}
#: How each neutral setting is named in ``dropped``.
_SHOWN = {"cfg": "cfg_scale", "steps": "steps"}
#: Inputs that choose a size from a list, in order of preference.
_SIZE_ENUMS = ("image_size", "size", "aspect_ratio", "resolution")
#: The size presets of the catalogue's ``image_size`` enums (width, height in pixels).
_PRESETS = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}


@dataclass
class Recalled:
    """Settings ready to run again.

    ``model``: the slug; ``inputs``: in the names of the model's own schema, checked against
    it; ``dropped``: what could not be carried over (name -> why); ``source``: ``"eachlabs"``,
    ``"a1111"``, ``"comfyui"``, ``"invokeai"`` or ``"journal"``; ``parent``: the prediction
    id of the run it was read from (a ``Generation``, a journal entry, an id, or one of our
    pictures), else None. :meth:`generate` runs it, recording that run as its parent.
    """

    model: str
    inputs: dict[str, Any]
    dropped: dict[str, str] = field(default_factory=dict)
    source: str = "eachlabs"
    parent: str | None = None

    def generate(self, **changes: Any) -> Generation:
        """Run these inputs (with ``changes`` on top) as :func:`~eachlabs_widgets.generate`
        does, recording :attr:`parent` in the journal (``lineage()``); returns the
        ``Generation``. The inputs are checked against the model's schema first."""
        from .._api import generate

        return generate(self.model, parent=self.parent, **{**self.inputs, **changes})

    async def agenerate(self, **changes: Any) -> Generation:
        """:meth:`generate` on the running event loop."""
        from .._api import agenerate

        return await agenerate(self.model, parent=self.parent, **{**self.inputs, **changes})

    def cell(self) -> str:
        """The ``%%eachgen`` cell that runs these inputs (see the panel's "Copy as"), with
        ``--parent ID`` when it was read from a run of ours (``lineage()``)."""
        import importlib

        text = importlib.import_module("eachlabs_widgets.panel._text")
        cell = str(text.eachgen_cell(self.model, self.inputs).text)
        if not self.parent:
            return cell
        first, newline, rest = cell.partition("\n")
        return f"{first} --parent {self.parent}{newline}{rest}"

    def __repr__(self) -> str:
        dropped = f", dropped {sorted(self.dropped)}" if self.dropped else ""
        return f"<Recalled {self.model} from {self.source}: {self.inputs!r}{dropped}>"


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _dims(value: Any) -> tuple[float, float | None] | None:
    """(aspect ratio, area in pixels or None) of an enum value: a preset name, ``WxH``,
    ``W*H`` or ``W:H``; None for what says no size (``auto_2K``, ``1K``, ``custom``)."""
    if not isinstance(value, str):
        return None
    if value in _PRESETS:
        w, h = _PRESETS[value]
        return w / h, float(w * h)
    for sep, area in (("x", True), ("*", True), (":", False)):
        left, mark, right = value.lower().partition(sep)
        a, b = _number(left), _number(right)
        if mark and a and b and a > 0 and b > 0:
            return a / b, (a * b if area else None)
    return None


def fit_size(width: int, height: int, props: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """The model's inputs for a ``width`` × ``height`` picture: the nearest preset of a size
    list (the aspect ratio first, then the area), or ``width`` and ``height``; and, when
    nothing fits, why."""
    want_ratio, want_area = width / height, float(width * height)
    for name in _SIZE_ENUMS:
        prop = props.get(name)
        if prop is None:
            continue
        options = [(v, _dims(v)) for v in enum_of(prop) or []]
        sized = [(v, d) for v, d in options if d is not None]
        if not sized:
            continue

        def distance(item: tuple[Any, tuple[float, float | None]]) -> tuple[float, float]:
            ratio, area = item[1]
            far = abs(math.log(ratio / want_ratio))
            return round(far, 3), abs(math.log(area / want_area)) if area else 0.0

        best = min(sized, key=distance)[0]
        return {name: best}, ""
    if "width" in props and "height" in props:
        out: dict[str, Any] = {}
        for key, value in (("width", width), ("height", height)):
            checked, problem = check_value(props[key], value)
            if problem is not None:
                return {}, f"{width}x{height}: {key} {problem['message']}"
            out[key] = checked
        return out, ""
    return {}, "the model takes no size"


def fit(settings: Settings, model: str, schema: Mapping[str, Any]) -> Recalled:
    """``settings`` fitted to ``model`` (its ``request_schema``): see :class:`Recalled`."""
    props = properties_of(schema)
    inputs: dict[str, Any] = {}
    dropped: dict[str, str] = {}

    def put(name: str, shown: str, value: Any) -> None:
        checked, problem = check_value(props[name], value)
        if problem is None:
            inputs[name] = checked
        else:
            dropped[shown] = f"{value!r}: {problem['message']}"

    if settings.exact is not None:
        for name, value in settings.exact.items():
            if name in props:
                put(name, name, value)
            else:
                dropped[name] = f"{model} has no input {name!r}"
        return Recalled(model, inputs, dropped, settings.tool, settings.prediction_id)
    neutral = dict(settings.neutral)
    for key, names in _TARGETS.items():
        if key not in neutral:
            continue
        value = neutral.pop(key)
        target = next((n for n in names if n in props), None)
        shown = _SHOWN.get(key, key)
        if target is None:
            dropped[shown] = f"{model} has no {' or '.join(names[:2])} input"
        else:
            put(target, shown, value)
    width, height = neutral.pop("width", None), neutral.pop("height", None)
    if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
        sized, why = fit_size(width, height, props)
        inputs.update(sized)
        if why:
            dropped["size"] = why if why.startswith(f"{width}x") else f"{width}x{height}: {why}"
    for name, value in {**neutral, **settings.other}.items():
        dropped[str(name)] = f"{model} has no such input ({value!r})"[:200]
    return Recalled(model, inputs, dropped, settings.tool)


def _schema_of(model: str) -> dict[str, Any]:
    from .._service.client import AsyncEachLabs
    from .._service.sync import run_sync

    detail = run_sync(AsyncEachLabs().get_model(model))
    schema = detail.get("request_schema")
    return schema if isinstance(schema, dict) else {}


def recall(source: Any, model: str | None = None) -> Recalled:
    """The settings of ``source``, in the inputs of ``model``, ready to run again.

    ``source`` is an image (a path, its bytes or a PIL image) made by this package (read
    exactly, from the record inside it or its ``.json`` sidecar), by A1111 and its kin (the
    ``parameters`` text: prompt, negative prompt, seed, steps → ``num_inference_steps``, CFG
    scale → ``guidance_scale``, size → the nearest preset of the model's size list, or width
    and height), by ComfyUI (the prompt graph: positive and negative prompt, seed, steps, CFG,
    size) or by InvokeAI (its metadata); or a ``Generation``, a journal entry, a prediction id
    or a short id (the inputs as sent).

    ``model`` defaults to the one that made it (ours), else to the model the picture names
    when the catalogue has that slug. The model's schema is fetched (API.md, "Get model") to
    fit the values. Returns :class:`Recalled`. Raises ``FileNotFoundError``, ``ValueError``
    when the image holds no settings this package reads, :class:`PredictionNotFound` for an
    unknown id, and ``ValueError`` naming ``model=`` when no model can be told.
    """
    settings = _settings_of(source)
    slug = model or settings.model
    if not slug:
        raise ValueError(
            f"this {settings.tool} picture names no EachLabs model; say which to use: "
            "recall(source, model='flux-2-pro')"
        )
    try:
        schema = _schema_of(slug)
    except NotFoundError:
        if model is None and settings.tool not in ("eachlabs", "journal"):
            raise ValueError(
                f"the picture was made with {slug!r} ({settings.tool}), which is not an "
                "EachLabs model; say which to use: recall(source, model='flux-2-pro')"
            ) from None
        raise
    if settings.exact is not None and settings.model == slug:
        return Recalled(slug, dict(settings.exact), {}, settings.tool, settings.prediction_id)
    return fit(settings, slug, schema)


def _settings_of(source: Any) -> Settings:
    from .._generation import Generation

    if isinstance(source, (Generation, JournalEntry)):
        return Settings(
            tool="journal", model=source.model, exact=dict(source.inputs), prediction_id=source.id
        )
    if isinstance(source, Path) or (isinstance(source, str) and _looks_like_file(source)):
        return read_settings(source)
    if isinstance(source, str):
        from .finding import prediction_id_of

        pid = prediction_id_of(source)
        entry = default_journal().get(pid)
        if entry is None:  # pragma: no cover - resolved ids are in the journal
            raise PredictionNotFound(f"{pid!r} is not in the journal", prediction_id=pid)
        return Settings(
            tool="journal", model=entry.model, exact=dict(entry.inputs), prediction_id=entry.id
        )
    try:
        return read_settings(source)
    except UnreadableImage:
        raise
    except (AttributeError, TypeError, OSError) as exc:
        raise EachLabsError(
            "recall() takes an image (a path, bytes or a PIL image), a Generation, a journal "
            f"entry, a prediction id or a short id; could not read {type(source).__name__}: "
            f"{exc}"
        ) from None


def _looks_like_file(text: str) -> bool:
    return Path(text).expanduser().is_file() or "/" in text or "\\" in text or "." in text
