"""Small, valid, deterministic ``.safetensors`` LoRA files made by the emulator's trainers.

Format: an 8-byte little-endian header length, a JSON header (tensor name → dtype, shape,
data_offsets; plus ``__metadata__``), then the raw tensor bytes.
"""

from __future__ import annotations

import hashlib
import json
import random
import struct
from typing import Any

from .families import STAMP

RANK = 4
FEATURES = 64
_LAYERS = ("transformer.single_transformer_blocks.0.attn.to_q", "transformer.proj_out")


def make_lora(*, key: str, trigger: str | None, steps: int | None, family: str) -> bytes:
    """LoRA weights for the training run identified by ``key`` (equal keys, equal bytes),
    stamped with the model ``family`` they load into (see :mod:`.families`)."""
    rng = random.Random(hashlib.sha256(key.encode()).digest())
    tensors: list[tuple[str, list[int], bytes]] = []
    for layer in _LAYERS:
        for part, shape in (("lora_A", [RANK, FEATURES]), ("lora_B", [FEATURES, RANK])):
            count = shape[0] * shape[1]
            values = [rng.gauss(0.0, 0.02) for _ in range(count)]
            tensors.append((f"{layer}.{part}.weight", shape, struct.pack(f"<{count}e", *values)))
    header: dict[str, Any] = {
        "__metadata__": {
            "format": "pt",
            "software": "eachlabs-widgets emulator",
            "emulator_lora_key": hashlib.sha256(key.encode()).hexdigest()[:32],
            "trigger_phrase": trigger or "",
            "steps": str(steps or 0),
            STAMP: family,
        }
    }
    offset = 0
    for name, shape, data in tensors:
        header[name] = {
            "dtype": "F16",
            "shape": shape,
            "data_offsets": [offset, offset + len(data)],
        }
        offset += len(data)
    raw = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)  # the format pads the header to 8 bytes
    return struct.pack("<Q", len(raw)) + raw + b"".join(data for _, _, data in tensors)


def read_header(blob: bytes) -> dict[str, Any]:
    """The JSON header of a safetensors blob; ``ValueError`` if it is not one."""
    if len(blob) < 8:
        raise ValueError("too short for safetensors")
    (size,) = struct.unpack("<Q", blob[:8])
    if size > len(blob) - 8:
        raise ValueError("header length beyond the end of the file")
    header = json.loads(blob[8 : 8 + size])
    if not isinstance(header, dict):
        raise ValueError("safetensors header is not an object")
    return header


def family_of(blob: bytes) -> str | None:
    """The family stamped into safetensors weights (None: no stamp); ``ValueError`` if
    ``blob`` is not safetensors."""
    metadata = read_header(blob).get("__metadata__")
    family = metadata.get(STAMP) if isinstance(metadata, dict) else None
    return family if isinstance(family, str) and family else None
