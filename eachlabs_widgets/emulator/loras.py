"""The ``loras`` a create names: whether each can be loaded, and by which family's model.

This emulator's trainer weights and uploads are read and their family stamp checked against
the model (:mod:`.families`); any other path (a Hugging Face repo id, a URL elsewhere) is taken
as it is, since nothing tells its family.
"""

from __future__ import annotations

import hashlib

from . import families, inputs, lora
from .catalog import Model
from .state import State
from .validation import Checked


def resolve(
    state: State, model: Model, checked: Checked, base_url: str, now: float
) -> tuple[list[tuple[str, float]], list[str], list[str]]:
    """``loras`` as ``(digest, scale)`` refs, the paths that cannot be loaded, and the LoRAs of
    a family ``model`` does not load (see :mod:`.families`)."""
    entries, problems = inputs.lora_entries(checked.values.get("loras"))
    refs: list[tuple[str, float]] = []
    mismatches: list[str] = []
    for i, (path, scale) in enumerate(entries):
        where = f"loras[{i}].path"
        weights = own_weights(state, path, base_url, now)
        if weights is None:
            refs.append((hashlib.sha256(path.encode()).hexdigest()[:16], scale))
            continue
        if isinstance(weights, str):
            problems.append(f"{where}: could not load LoRA weights from {path!r} ({weights})")
            continue
        digest, family = weights
        wrong = families.mismatch(model.slug, family, where)
        if wrong:
            mismatches.append(wrong)
        refs.append((digest, scale))
    return refs, problems, mismatches


def own_weights(
    state: State, path: str, base_url: str, now: float
) -> tuple[str, str | None] | str | None:
    """For weights this emulator holds, ``(digest, family)``; a reason if ``path`` names a
    file of this emulator that is not loadable weights; None for a path from elsewhere."""
    found = inputs.output_file_from(path)
    if found is not None and (found[0] in state.predictions or inputs.same_origin(path, base_url)):
        trainer = state.predictions.get(found[0])
        if trainer is None or not trainer.succeeded(now):
            return "no such finished prediction"
        if trainer.lora_key is None or found[1] != "0.safetensors":
            return "not LoRA weights"
        digest = hashlib.sha256(trainer.lora_key.encode()).hexdigest()[:16]
        return digest, families.TRAINS.get(trainer.model.slug)
    upload_id = inputs.upload_id_from(path, base_url)
    if upload_id is None:
        return None
    upload = state.uploads.get(upload_id)
    if upload is None or upload.data is None or upload.expired(now):
        return "no such file"
    try:
        family = lora.family_of(upload.data)
    except ValueError:
        return "not a safetensors file"
    return hashlib.sha256(upload.data).hexdigest()[:16], family
