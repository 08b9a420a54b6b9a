"""LoRAs: which model loads which LoRA, the :class:`Lora` a trainer makes, and ``loras`` inputs.

A LoRA only loads into the model family it was trained for (API.md, "LoRA training"). This
module holds the one table that says so; the panel's "use this LoRA" button, ``%%eachgen``
and Python all read it:

=============================  ==============  ======================
trainer                        family          the model that loads it
=============================  ==============  ======================
``z-image-trainer``            Z-Image Turbo   ``z-image-turbo-lora``
``flux-lora-portrait-trainer`` FLUX.1 [dev]    ``bfl-flux-lora``
``flux-turbo-trainer``         FLUX.1 [dev]    ``bfl-flux-lora``
(a FLUX.2 trainer, not served) FLUX.2 [dev]    ``flux-2-lora``
=============================  ==============  ======================

``flux-2-lora`` therefore takes only FLUX.2 LoRAs a user brings (a Hugging Face repo id or a
URL). Pure: no network. :meth:`Lora.download` uses the fetcher it was given (the client's),
so nothing here imports the service.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "FAMILY_OF_MODEL",
    "LORA_MODELS",
    "TRAINERS",
    "Lora",
    "LoraProblem",
    "Trainer",
    "lora_from_output",
    "resolve_loras",
    "set_default_fetcher",
    "with_trigger",
]


@dataclass(frozen=True)
class Trainer:
    """One trainer: the family its LoRAs belong to, the model that loads them, and the trigger
    phrase it uses when none is given (``None``: it uses none)."""

    family: str
    loads_in: str
    default_trigger: str | None = None


#: Trainer slug -> :class:`Trainer` (API.md, "LoRA training").
TRAINERS: dict[str, Trainer] = {
    "z-image-trainer": Trainer("Z-Image Turbo", "z-image-turbo-lora"),
    "flux-lora-portrait-trainer": Trainer("FLUX.1 [dev]", "bfl-flux-lora"),
    # Most likely fal's turbo-flux-trainer, whose trigger phrase defaults to "ohwx".
    "flux-turbo-trainer": Trainer("FLUX.1 [dev]", "bfl-flux-lora", default_trigger="ohwx"),
}

#: LoRA model slug -> the family of LoRAs it loads.
FAMILY_OF_MODEL: dict[str, str] = {
    "z-image-turbo-lora": "Z-Image Turbo",
    "bfl-flux-lora": "FLUX.1 [dev]",
    "flux-2-lora": "FLUX.2 [dev]",
}
LORA_MODELS = tuple(FAMILY_OF_MODEL)

#: Downloads the bytes at a URL into a path and returns the path (the client's downloader).
Fetcher = Callable[[str, Path], Path]
_default_fetcher: list[Fetcher] = []


def set_default_fetcher(fetcher: Fetcher) -> None:
    """The fetcher :meth:`Lora.download` uses when a Lora was made without one (the client
    registers its own when it is loaded)."""
    _default_fetcher[:] = [fetcher]


@dataclass(frozen=True)
class Lora:
    """A LoRA: its weights and the model that loads them.

    ``url`` is the weights (a ``.safetensors`` URL, or a Hugging Face repo id for a LoRA you
    bring); ``model`` the slug of the model that loads it (``bfl-flux-lora``,
    ``z-image-turbo-lora``, ``flux-2-lora``); ``trigger`` the phrase it was trained with
    (added to the prompt unless the prompt holds it); ``scale`` how strongly it applies
    (default 1.0). ``trainer`` names the trainer that made it, if one did.

    Give it to a LoRA model: ``generate(lora.model, "a portrait", loras=[lora])``; it is sent
    as ``{"path": url, "scale": scale}``. A model of another family refuses it before anything
    is sent. The weights are never downloaded unless :meth:`download` is called.
    """

    url: str
    model: str
    trigger: str | None = None
    scale: float = 1.0
    trainer: str | None = None
    _fetch: Fetcher | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.url, str) or not self.url.strip():
            raise ValueError("a Lora needs the URL (or Hugging Face repo id) of its weights")
        if isinstance(self.scale, bool) or not isinstance(self.scale, (int, float)):
            raise TypeError(f"a Lora's scale is a number, not {type(self.scale).__name__}")

    @property
    def family(self) -> str | None:
        """The model family it loads into (``FLUX.1 [dev]``…), if its model is a known one."""
        return FAMILY_OF_MODEL.get(self.model)

    def entry(self) -> dict[str, Any]:
        """What a LoRA model's ``loras`` input takes: ``{"path": url, "scale": scale}``."""
        return {"path": self.url, "scale": float(self.scale)}

    def with_scale(self, scale: float) -> Lora:
        """The same LoRA applied at ``scale``."""
        return Lora(self.url, self.model, self.trigger, scale, self.trainer, self._fetch)

    def download(self, path: str | Path) -> Path:
        """Fetch the weights into ``path`` (a file, or a folder to put it in under its own
        name: an existing one, or one written with a trailing ``/``, made if needed); returns
        the file written. Only on request: the URL is all a LoRA model needs.

        Raises ``ValueError`` for a LoRA whose weights are not at a URL (a repo id), and
        ``OutputDownloadError`` when the download fails.
        """
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(
                f"{self.url!r} is not a URL (a Hugging Face repo id?): nothing to fetch"
            )
        fetch = self._fetch or (_default_fetcher[0] if _default_fetcher else None)
        if fetch is None:
            raise RuntimeError("no downloader: import eachlabs_widgets first")
        target = Path(path).expanduser()
        if target.is_dir() or str(path).endswith(("/", os.sep)):
            name = self.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or "lora.safetensors"
            target = target / name
        return fetch(self.url, target)


def _weights_url(output: Any) -> str | None:
    """The weights URL in a trainer's output: ``diffusers_lora_file.url`` (object or JSON
    string), else the first ``.safetensors`` URL anywhere in it."""
    if isinstance(output, str) and output.lstrip().startswith(("{", "[")):
        try:
            output = json.loads(output)
        except ValueError:
            return None
    if isinstance(output, Mapping):
        for key in ("diffusers_lora_file", "lora_file", "lora"):
            found = output.get(key)
            if isinstance(found, Mapping) and isinstance(found.get("url"), str):
                return str(found["url"])
            if isinstance(found, str) and found.startswith(("http://", "https://")):
                return found
    return _first_safetensors(output, 0)


def _first_safetensors(value: Any, depth: int) -> str | None:
    if depth > 5:
        return None
    if isinstance(value, str):
        bare = value.split("?", 1)[0].lower()
        return (
            value if value.startswith(("http", "data:")) and bare.endswith(".safetensors") else None
        )
    items = value.values() if isinstance(value, Mapping) else value
    if isinstance(items, (list, tuple)) or isinstance(value, Mapping):
        for item in items:
            found = _first_safetensors(item, depth + 1)
            if found:
                return found
    return None


def lora_from_output(
    trainer: str,
    output: Any,
    inputs: Mapping[str, Any] | None = None,
    fetch: Fetcher | None = None,
) -> Lora | None:
    """The :class:`Lora` a trainer's successful run made, or ``None`` (not a trainer of the
    table, or no weights in the output).

    ``output`` is the service's ``output``: an object ``{"diffusers_lora_file": {"url": …},
    "config_file": …}``, the same as a JSON string, or a list of URLs (API.md, "LoRA
    training": accept both). The trigger is the run's ``trigger_phrase`` (or
    ``trigger_word``), else the trainer's default.
    """
    spec = TRAINERS.get(trainer)
    if spec is None:
        return None
    url = _weights_url(output)
    if not url:
        return None
    given = inputs or {}
    trigger = given.get("trigger_phrase") or given.get("trigger_word") or spec.default_trigger
    trigger = trigger.strip() if isinstance(trigger, str) and trigger.strip() else None
    return Lora(url=url, model=spec.loads_in, trigger=trigger, trainer=trainer, _fetch=fetch)


@dataclass(frozen=True)
class LoraProblem:
    """A ``loras`` value that cannot go to this model (another family's LoRA)."""

    index: int
    message: str


def _refusal(model: str, index: int, lora: Lora) -> str:
    made = f"trained by {lora.trainer} " if lora.trainer else ""
    family = f" ({lora.family})" if lora.family else ""
    return (
        f"loras[{index}]: this LoRA {made}loads in {lora.model!r}{family}, not in {model!r}"
        f"{' (' + FAMILY_OF_MODEL[model] + ')' if model in FAMILY_OF_MODEL else ''}; "
        f"a LoRA only loads into its own model family: use {lora.model!r}"
    )


def resolve_loras(
    model: str, inputs: Mapping[str, Any]
) -> tuple[dict[str, Any], list[LoraProblem]]:
    """``inputs`` with :class:`Lora` objects in ``loras`` turned into ``{"path", "scale"}``
    entries (a bare string into ``{"path": text, "scale": 1.0}``; a dict as given), and each
    Lora's trigger phrase added to the front of ``prompt`` unless the prompt holds it (as a
    word, in any case).

    A single Lora (not in a list) counts as a list of one. Problems: a Lora whose model is not
    ``model`` (it would load into nothing or fail there); the message names the model that
    loads it. Inputs without a Lora come back unchanged (the same values).
    """
    raw = inputs.get("loras")
    if isinstance(raw, Lora):
        raw = [raw]
    if not isinstance(raw, (list, tuple)) or not any(isinstance(e, Lora) for e in raw):
        return dict(inputs), []
    out = dict(inputs)
    problems: list[LoraProblem] = []
    entries: list[Any] = []
    prompt = out.get("prompt")
    for index, item in enumerate(raw):
        if isinstance(item, Lora):
            if item.model != model:
                problems.append(LoraProblem(index, _refusal(model, index, item)))
            entries.append(item.entry())
            if item.trigger and isinstance(prompt, str):
                prompt = with_trigger(prompt, item.trigger)
        elif isinstance(item, str):
            entries.append({"path": item, "scale": 1.0})
        else:
            entries.append(item)
    out["loras"] = entries
    if isinstance(prompt, str):
        out["prompt"] = prompt
    return out, problems


def with_trigger(prompt: str, trigger: str) -> str:
    """``prompt`` starting with ``trigger, `` unless it holds ``trigger`` as a word already."""
    trigger = trigger.strip()
    if not trigger:
        return prompt
    if re.search(rf"(?<!\w){re.escape(trigger)}(?!\w)", prompt, re.IGNORECASE):
        return prompt
    return f"{trigger}, {prompt}" if prompt.strip() else trigger
