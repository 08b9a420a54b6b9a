"""What the live check spends: the model, its smallest inputs, the price, the file it uploads.
Pure functions but :func:`choose_model`, which reads the journal."""

from __future__ import annotations

import random
import statistics
import struct
import zlib
from collections.abc import Mapping
from typing import Any

from .._journal.journal import Journal
from .._schema.inputs import enum_of, properties_of, required_of

__all__ = ["DEFAULT_MODEL", "choose_model", "price_text", "smallest_inputs", "tiny_png"]

#: The fixed choice when the journal has learned no price: a fast seed model, cents per image.
DEFAULT_MODEL = "flux-2-turbo-text-to-image"
#: What one image of :data:`DEFAULT_MODEL` is taken to cost until the service says (USD).
DEFAULT_PRICE = 0.01
#: Seed models that take a prompt alone and offer a small square size.
CANDIDATES = (
    "flux-2-turbo-text-to-image",
    "flux-2-flash-text-to-image",
    "flux-2-klein-9b-base-text-to-image",
    "hunyuan-image-v3-text-to-image",
    "wan-v2-6-text-to-image",
    "imagen-4-fast",
    "reve-text-to-image",
    "minimax-text-to-image",
)
#: The live check creates this many predictions (the second is cancelled, but may complete).
CREATES = 2
PROMPT = "a small red square on white, eachlabs-widgets doctor check"
#: Size enums, smallest first where a model offers them (fal's names, then aspect ratios).
_SMALL = ("square", "1:1", "1K", "512x512", "1024x1024")
_COUNTS = ("num_images", "num_outputs", "n")


def choose_model(journal: Journal | None, base_url: str) -> tuple[str, float | None]:
    """The cheapest of :data:`CANDIDATES` by the price per image the journal learned on
    ``base_url`` (``metrics.cost`` over the images), with that price; else
    ``(DEFAULT_MODEL, None)``. The journal is a help: a failure to read it is no price."""
    learned: dict[str, float] = {}
    if journal is not None:
        for model in CANDIDATES:
            try:
                seen = [float(c) for c in journal.costs(model, base_url) if c is not None]
            except Exception:  # a locked or damaged journal: the fixed choice will do
                return DEFAULT_MODEL, None
            if seen:
                learned[model] = statistics.median(seen)
    if not learned:
        return DEFAULT_MODEL, None
    model = min(learned, key=lambda m: (learned[m], CANDIDATES.index(m)))
    return model, learned[model]


def price_text(model: str, per_image: float | None, emulated: bool) -> str:
    """What the check costs, said before it asks."""
    if emulated:
        return (
            f"The live check makes {CREATES} predictions of {model} on the emulator "
            "(nothing is paid), uploads a 1 KB PNG and deletes it."
        )
    each = DEFAULT_PRICE if per_image is None else per_image
    basis = "learned from earlier runs" if per_image is not None else "typical"
    return (
        f"The live check makes {CREATES} real predictions of {model} at its smallest size "
        f"(about ${each:.3f} each, {basis}); the second is cancelled at once, but a cancel "
        f"may come too late and be billed: up to about ${CREATES * each:.2f} in all. "
        "It also uploads a 1 KB PNG and deletes it."
    )


def smallest_inputs(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The prompt and the cheapest choices ``schema`` offers: one image, the smallest square."""
    props = properties_of(schema)
    inputs: dict[str, Any] = {"prompt": PROMPT}
    for name in ("image_size", "aspect_ratio", "resolution", "size"):
        allowed = [str(v) for v in enum_of(props.get(name) or {}) or ()]
        small = next((v for v in _SMALL if v in allowed), None)
        if small is not None:
            inputs[name] = small
    for name in _COUNTS:
        prop = props.get(name)
        if prop is not None:
            low = prop.get("minimum")
            inputs[name] = int(low) if isinstance(low, int | float) and low > 0 else 1
    # Nothing else the schema requires is known here: the client's validation names it.
    return {k: v for k, v in inputs.items() if k in props or k in required_of(schema)}


def tiny_png(size: int = 18, seed: int = 16) -> bytes:
    """A PNG of about 1 KB: ``size``×``size`` pixels of fixed noise (noise does not compress,
    so its size is predictable)."""
    noise = random.Random(seed)
    rows = b"".join(
        b"\x00" + bytes(noise.randrange(256) for _ in range(size * 3)) for _ in range(size)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )
