"""What a create's input means to the emulator: checks beyond the schema, count, format, seed.

These checks only ever turn into a prediction that ends in ``error`` (never a rejected create).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlsplit

from .catalog import Model
from .imaging import CONTENT_TYPES, resolve_size
from .validation import Checked, coerce

MODERATION_MARKER = "[moderate]"
MAX_LORAS = 3
SIDE_RANGE = (256, 2048)
# Inputs that do not change the pixels (they change count, encoding or safety settings).
NON_VISUAL = frozenset(
    {
        "num_images",
        "max_images",
        "output_format",
        "sync_mode",
        "enable_safety_checker",
        "disable_safety_checker",
        "safety_tolerance",
        "safety_filter_level",
        "limit_generations",
        "seed",
    }
)


def is_url_field(name: str) -> bool:
    return name.endswith("_url") or name in ("image", "mask")


def is_file_field(name: str) -> bool:
    """An input that takes files (one URL, or a list of them)."""
    return is_url_field(name) or name.endswith("_urls") or name in ("images", "image_list")


def refused_at_create(schema: dict[str, Any], given: dict[str, Any]) -> list[str]:
    """What the service refuses before creating (``400 Invalid input for model``): a required
    input missing, and a ``data:`` URI in a file input ("data URIs and localhost are
    rejected", API.md, "Upload"). Each names its field."""
    problems = []
    for name in schema.get("required") or ():
        value = given.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            problems.append(f"{name}: field required")
    for name, value in given.items():
        values = value if isinstance(value, list) else [value]
        if is_file_field(name) and any(
            isinstance(v, str) and v.strip()[:5].lower() == "data:" for v in values
        ):
            problems.append(
                f"{name}: data URIs are not accepted; upload the file and pass its public URL"
            )
    return problems


def image_count(checked: Checked) -> int:
    values, given = checked.values, checked.given
    for name in ("num_images", "max_images"):
        if name in given and isinstance(values.get(name), int):
            return max(1, int(values[name]))
    for name in ("num_images", "max_images"):
        if isinstance(values.get(name), int):
            return max(1, int(values[name]))
    return 1


def output_format(model: Model, checked: Checked) -> str:
    fmt = checked.values.get("output_format")
    if isinstance(fmt, str) and fmt.lower() in CONTENT_TYPES:
        return fmt.lower()
    return model.profile.native_format


def seed_value(raw: Any) -> int | None:
    """An integer seed from a coerced ``seed`` input (strings hash to a seed)."""
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return int(raw)
    text = str(raw).strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def size_problems(checked: Checked) -> list[str]:
    problems = []
    for name in ("width", "height"):
        value = checked.values.get(name)
        if name in checked.given and isinstance(value, int):
            low, high = SIDE_RANGE
            if not low <= value <= high:
                problems.append(f"{name}: must be between {low} and {high}")
    ratio = checked.values.get("aspect_ratio")
    if ratio == "custom" and not {"width", "height"} <= checked.given:
        problems.append("width, height: required when aspect_ratio is 'custom'")
    return problems


def size(checked: Checked) -> tuple[int, int]:
    return resolve_size(checked.values, checked.given)


def same_origin(url: str, base_url: str) -> bool:
    return urlsplit(url).netloc.lower() == urlsplit(base_url).netloc.lower()


def upload_id_from(url: str, base_url: str) -> str | None:
    """The upload id if ``url`` is this emulator's public URL of an upload."""
    parts = urlsplit(url)
    here = urlsplit(base_url)
    if parts.netloc.lower() != here.netloc.lower() or not parts.path.startswith("/uploads/"):
        return None
    name = parts.path[len("/uploads/") :]
    return name.split(".", 1)[0] or None


def output_file_from(url: str) -> tuple[str, str] | None:
    """``(prediction_id, file_name)`` if ``url`` looks like an emulator output file."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if len(parts) == 3 and parts[0] == "files":
        return parts[1], parts[2]
    return None


def lora_entries(raw: Any) -> tuple[list[tuple[str, float]], list[str]]:
    """``[(path, scale)]`` from a ``loras`` input, and the problems found."""
    entries: list[tuple[str, float]] = []
    problems: list[str] = []
    if not isinstance(raw, list):
        return entries, problems
    if len(raw) > MAX_LORAS:
        problems.append(f"loras: at most {MAX_LORAS} LoRAs are supported")
    for i, item in enumerate(raw):
        if isinstance(item, str):
            entries.append((item, 1.0))
            continue
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            problems.append(f"loras[{i}]: expected an object with a 'path' string")
            continue
        scale_raw = item.get("scale", 1.0)
        try:
            scale = float(coerce(scale_raw, "number"))
        except Exception:
            problems.append(f"loras[{i}].scale: expected number, got {scale_raw!r}")
            continue
        entries.append((item["path"], scale))
    return entries, problems


def wants_moderation(checked: Checked) -> bool:
    prompt = checked.values.get("prompt")
    return isinstance(prompt, str) and MODERATION_MARKER in prompt.lower()


def digest_int(*parts: Any) -> int:
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def visual_key(model: Model, checked: Checked, seed: int, loras: list[tuple[str, float]]) -> int:
    """Seed for pixels: same model, visual inputs, seed and LoRAs give the same image."""
    visual = {k: v for k, v in checked.values.items() if k not in NON_VISUAL and k != "loras"}
    return digest_int(model.slug, visual, seed, loras)


def palette_key(checked: Checked, loras: list[tuple[str, float]]) -> int:
    prompt = checked.values.get("prompt")
    return digest_int(prompt if isinstance(prompt, str) else "", loras)
