"""Reading a picture's settings back, whichever tool made it. No network.

:func:`read_settings` returns a :class:`Settings`: either the package's own record (``exact``:
the model and its inputs as sent) or what another tool wrote, in neutral names (``prompt``,
``negative_prompt``, ``seed``, ``steps``, ``cfg``, ``width``, ``height``) plus whatever else it
said (``other``), for the caller to fit to a model's schema.

Formats read:

- ours: the ``eachlabs`` PNG text chunk, the JPEG comment ``eachlabs:{…}``, or the ``.json``
  sidecar beside the file;
- A1111 (and what copies it: Forge, Fooocus, Civitai): the PNG ``parameters`` text, or the
  EXIF ``UserComment`` of a JPEG or WebP;
- ComfyUI: the PNG ``prompt`` text, its API graph (the sampler's positive and negative
  prompts, seed, steps, CFG and latent size);
- InvokeAI: the PNG ``invokeai_metadata`` text (and the older ``sd-metadata``).
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .files import METADATA_KEY
from .metadata import A1111_KEY, parse_a1111

__all__ = ["Settings", "UnreadableImage", "read_settings"]


class UnreadableImage(ValueError):
    """The file holds no settings this package can read (or is not an image)."""


@dataclass
class Settings:
    """What a picture says about how it was made.

    ``tool`` is ``"eachlabs"``, ``"a1111"``, ``"comfyui"`` or ``"invokeai"``. For ``eachlabs``,
    ``model`` and ``exact`` (the inputs as sent) are set; otherwise ``neutral`` holds the
    known settings by neutral name, ``model`` the tool's own model name if it said one, and
    ``other`` what else it said (a sampler, a scheduler…). ``prediction_id``: for ours, the
    prediction that made the picture (from its record), if it says.
    """

    tool: str
    model: str | None = None
    exact: dict[str, Any] | None = None
    neutral: dict[str, Any] = field(default_factory=dict)
    other: dict[str, Any] = field(default_factory=dict)
    prediction_id: str | None = None


def _texts(image: Any) -> dict[str, str]:
    """A PIL image's text metadata: PNG text chunks, the JPEG comment, the EXIF UserComment."""
    out: dict[str, str] = {}
    for key, value in getattr(image, "info", {}).items():
        if isinstance(value, str):
            out[key] = value
        elif key == "comment" and isinstance(value, bytes):
            out["comment"] = value.decode("utf-8", "replace")
    comment = _user_comment(image)
    if comment and A1111_KEY not in out:
        out[A1111_KEY] = comment
    return out


def _user_comment(image: Any) -> str | None:
    try:
        raw = image.getexif().get_ifd(0x8769).get(0x9286)
    except Exception:  # a damaged EXIF block: nothing to read there
        return None
    if isinstance(raw, str):
        return raw.strip("\x00") or None
    if not isinstance(raw, bytes) or len(raw) < 8:
        return None
    head, body = raw[:8], raw[8:]
    if head == b"UNICODE\x00":
        # piexif writes big-endian; some tools little-endian: the NULs tell which
        big = body[:1] == b"\x00" or body[1:2] != b"\x00"
        return body.decode("utf-16-be" if big else "utf-16-le", "replace").strip("\x00") or None
    return body.decode("utf-8", "replace").strip("\x00") or None


def read_settings(source: str | Path | bytes | Any) -> Settings:
    """The settings of an image: a path, its bytes, or an open PIL image.

    Raises ``FileNotFoundError`` for a path that names no file and :class:`UnreadableImage`
    when the image holds no settings this package reads (saying which it looked for).
    """
    from PIL import Image

    path: Path | None = None
    try:
        if isinstance(source, (str, Path)):
            path = Path(source).expanduser()
            if not path.is_file():
                raise FileNotFoundError(f"no such file: {path}")
            opened = Image.open(path)
        elif isinstance(source, (bytes, bytearray)):
            opened = Image.open(io.BytesIO(bytes(source)))
        else:
            opened = source
    except FileNotFoundError:
        raise
    except OSError as exc:  # Pillow's UnidentifiedImageError among them
        raise UnreadableImage(
            f"{path or 'the data'} is not an image Pillow can read: {exc}"
        ) from None
    texts = _texts(opened)
    ours = _ours(texts, path)
    if ours is not None:
        return ours
    if A1111_KEY in texts:
        return _a1111(texts[A1111_KEY])
    if "invokeai_metadata" in texts or "sd-metadata" in texts:
        return _invokeai(texts)
    if "prompt" in texts:
        found = _comfyui(texts["prompt"])
        if found is not None:
            return found
    where = f" {path}" if path else ""
    raise UnreadableImage(
        f"the image{where} holds no settings this package reads (looked for an eachlabs "
        f"record or sidecar, A1111's 'parameters', ComfyUI's 'prompt', InvokeAI's metadata)"
    )


def _ours(texts: Mapping[str, str], path: Path | None) -> Settings | None:
    record: Any = None
    if METADATA_KEY in texts:
        record = _json(texts[METADATA_KEY])
    elif texts.get("comment", "").startswith(f"{METADATA_KEY}:"):
        record = _json(texts["comment"][len(METADATA_KEY) + 1 :])
    elif path is not None:
        sidecar = path.with_suffix(path.suffix + ".json")
        if sidecar.is_file():
            record = _json(sidecar.read_text(encoding="utf-8", errors="replace"))
    if not isinstance(record, dict) or not isinstance(record.get("inputs"), dict):
        return None
    model = record.get("model")
    made_by = record.get("prediction_id")
    return Settings(
        tool="eachlabs",
        model=model if isinstance(model, str) else None,
        exact=record["inputs"],
        prediction_id=made_by if isinstance(made_by, str) and made_by else None,
    )


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _number(text: Any) -> int | float | None:
    if isinstance(text, bool):
        return None
    if isinstance(text, (int, float)):
        return text
    try:
        value = float(str(text).strip())
    except ValueError:
        return None
    return int(value) if value.is_integer() and "." not in str(text) else value


def _a1111(text: str) -> Settings:
    parsed = parse_a1111(text)
    settings = dict(parsed["settings"])
    neutral: dict[str, Any] = {"prompt": parsed["prompt"]}
    if parsed.get("negative_prompt"):
        neutral["negative_prompt"] = parsed["negative_prompt"]
    for key, name in (("Seed", "seed"), ("Steps", "steps"), ("CFG scale", "cfg")):
        if key in settings:
            value = _number(settings.pop(key))
            if value is not None:
                neutral[name] = value
    size = settings.pop("Size", None)
    if size:
        width, _, height = size.lower().partition("x")
        if width.strip().isdigit() and height.strip().isdigit():
            neutral["width"], neutral["height"] = int(width), int(height)
    model = settings.pop("Model", None)
    return Settings(tool="a1111", model=model, neutral=neutral, other=settings)


def _invokeai(texts: Mapping[str, str]) -> Settings:
    data = _json(texts.get("invokeai_metadata", "")) or {}
    if not data and "sd-metadata" in texts:  # InvokeAI 2: {"image": {"prompt": [...], …}}
        old = _json(texts["sd-metadata"]) or {}
        image = old.get("image", {}) if isinstance(old, dict) else {}
        prompt = image.get("prompt")
        if isinstance(prompt, list) and prompt and isinstance(prompt[0], dict):
            prompt = prompt[0].get("prompt")
        data = {**image, "positive_prompt": prompt, "model": old.get("model_weights")}
    if not isinstance(data, dict):
        data = {}
    neutral: dict[str, Any] = {}
    names = {
        "positive_prompt": "prompt",
        "negative_prompt": "negative_prompt",
        "seed": "seed",
        "steps": "steps",
        "cfg_scale": "cfg",
        "width": "width",
        "height": "height",
    }
    other: dict[str, Any] = {}
    for key, value in data.items():
        if key in names and value not in (None, ""):
            neutral[names[key]] = value
        elif key not in ("model", "app_version", "generation_mode", "positive_style_prompt"):
            other[key] = value
    model = data.get("model")
    if isinstance(model, dict):
        model = model.get("name") or model.get("model_name")
    return Settings(
        tool="invokeai",
        model=model if isinstance(model, str) else None,
        neutral=neutral,
        other=other,
    )


_SAMPLERS = ("KSampler", "KSamplerAdvanced", "SamplerCustom", "SamplerCustomAdvanced")


def _comfyui(text: str) -> Settings | None:
    """ComfyUI's API graph ``{node id: {"class_type", "inputs"}}``: the first sampler's prompts
    (followed through the links ``[node id, output]`` to their text), seed, steps, CFG, size."""
    graph = _json(text)
    if not isinstance(graph, dict):
        return None
    nodes = {k: v for k, v in graph.items() if isinstance(v, dict) and "class_type" in v}
    samplers = [n for n in nodes.values() if str(n["class_type"]) in _SAMPLERS]
    samplers += [
        n for n in nodes.values() if "Sampler" in str(n["class_type"]) and n not in samplers
    ]
    neutral: dict[str, Any] = {}
    other: dict[str, Any] = {}

    def follow(link: Any, depth: int = 0) -> dict[str, Any] | None:
        if isinstance(link, list) and link and str(link[0]) in nodes and depth < 20:
            return nodes[str(link[0])]
        return None

    def text_of(link: Any, depth: int = 0) -> str | None:
        node = follow(link)
        if node is None or depth > 20:
            return None
        inputs = node.get("inputs", {})
        for key in ("text", "text_g", "prompt", "positive", "conditioning", "conditioning_1"):
            value = inputs.get(key)
            if isinstance(value, str):
                return value
            if isinstance(value, list):
                found = text_of(value, depth + 1)
                if found is not None:
                    return found
        return None

    if samplers:
        sampler = samplers[0]["inputs"]
        positive = text_of(sampler.get("positive"))
        negative = text_of(sampler.get("negative"))
        if positive is not None:
            neutral["prompt"] = positive
        if negative:
            neutral["negative_prompt"] = negative
        for key, name in (("seed", "seed"), ("noise_seed", "seed"), ("steps", "steps")):
            if isinstance(sampler.get(key), (int, float)):
                neutral[name] = sampler[key]
        if isinstance(sampler.get("cfg"), (int, float)):
            neutral["cfg"] = sampler["cfg"]
        for key in ("sampler_name", "scheduler", "denoise"):
            if key in sampler and not isinstance(sampler[key], list):
                other[key] = sampler[key]
        latent = follow(sampler.get("latent_image"))
        if latent is not None:
            size = latent.get("inputs", {})
            if isinstance(size.get("width"), int) and isinstance(size.get("height"), int):
                neutral["width"], neutral["height"] = size["width"], size["height"]
    if "prompt" not in neutral:
        texts = [
            n["inputs"]["text"]
            for n in nodes.values()
            if "CLIPTextEncode" in str(n["class_type"])
            and isinstance(n.get("inputs", {}).get("text"), str)
        ]
        if not texts:
            return None
        neutral["prompt"] = texts[0]
    model = None
    for node in nodes.values():
        name = node.get("inputs", {}).get("ckpt_name") or node.get("inputs", {}).get("unet_name")
        if isinstance(name, str):
            model = name
            break
    return Settings(tool="comfyui", model=model, neutral=neutral, other=other)
