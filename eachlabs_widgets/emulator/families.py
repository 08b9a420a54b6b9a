"""Which LoRA family each trainer makes and each LoRA model loads (API.md, "LoRA training").

A LoRA only loads into the model family it was trained for: the emulator's trainers stamp their
family into the weights they make (``__metadata__["base_model"]``), and its LoRA models refuse
stamped weights of another family. Weights without a stamp (a Hugging Face repo id, a URL a user
brings) are accepted: the record cannot tell their family. The client keeps its own table; this
one belongs to the emulator, which imports nothing of the client.
"""

from __future__ import annotations

FLUX_1_DEV = "FLUX.1 [dev]"
FLUX_2_DEV = "FLUX.2 [dev]"
Z_IMAGE_TURBO = "Z-Image Turbo"

#: trainer slug -> the family of the LoRAs it makes
TRAINS: dict[str, str] = {
    "z-image-trainer": Z_IMAGE_TURBO,
    "flux-lora-portrait-trainer": FLUX_1_DEV,
    "flux-turbo-trainer": FLUX_1_DEV,
}

#: LoRA model slug -> the family of the LoRAs it loads
LOADS: dict[str, str] = {
    "z-image-turbo-lora": Z_IMAGE_TURBO,
    "bfl-flux-lora": FLUX_1_DEV,
    "flux-2-lora": FLUX_2_DEV,
}

#: the safetensors metadata key holding a LoRA's family
STAMP = "base_model"


def mismatch(model_slug: str, family: str | None, where: str) -> str | None:
    """The message when ``model_slug`` cannot load a LoRA of ``family`` (None: it can, or the
    family is unknown)."""
    loads = LOADS.get(model_slug)
    if family is None or loads is None or family == loads:
        return None
    return (
        f"{where}: the LoRA was trained for {family} and cannot be loaded by {model_slug}, "
        f"a {loads} model"
    )
