"""Output files: ``GET /files/{prediction_id}/{index}.{ext}``, made on demand and cached."""

from __future__ import annotations

import hashlib
import json

from . import families, imaging, inputs, lora
from .messages import Request, Response
from .predictions import Prediction
from .state import State

WEIGHTS = "0.safetensors"


def trainer_file(prediction: Prediction, name: str) -> bytes:
    """A trainer's LoRA weights (``0.safetensors``) or its training config (``1.json``)."""
    assert prediction.lora_key is not None
    trigger = prediction.values.get("trigger_phrase")
    steps = prediction.values.get("steps")
    weights = lora.make_lora(
        key=prediction.lora_key,
        trigger=trigger if isinstance(trigger, str) else None,
        steps=steps if isinstance(steps, int) else None,
        family=families.TRAINS[prediction.model.slug],
    )
    if name == WEIGHTS:
        return weights
    config = {
        "model": prediction.model.slug,
        "lora_rank": lora.RANK,
        "input": prediction.values,
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
    }
    return json.dumps(config, indent=2, sort_keys=True, default=str).encode()


def output_file(state: State, request: Request, args: list[str]) -> Response:
    pid, name = args
    with state.lock:
        prediction = state.predictions.get(pid)
        if (
            state.settings.output_404
            or prediction is None
            or not prediction.succeeded(state.now())
            or name not in prediction.output_names()
        ):
            return Response.error(404, "File not found")
    if prediction.model.is_trainer:
        kind = "application/json" if name.endswith(".json") else "application/octet-stream"
        return Response(200, {"Content-Type": kind}, trainer_file(prediction, name))
    index_text, fmt = name.split(".", 1)
    index = int(index_text)
    cache_key = (prediction.visual_key, prediction.palette_seed, prediction.size, index, fmt)
    with state.lock:
        data = state.cache.get(cache_key)
    if data is None:
        # Rendering runs outside the lock so other requests are not held up.
        image = imaging.render(
            *prediction.size,
            seed=inputs.digest_int(prediction.visual_key, index),
            palette_seed=prediction.palette_seed,
            caption=f"EachLabs emulator · {prediction.model.slug}",
            words=_prompt_of(prediction),
        )
        data = imaging.encode(image, fmt)
        with state.lock:
            state.cache.put(cache_key, data)
    headers = {"Content-Type": imaging.CONTENT_TYPES[fmt], "Cache-Control": "public, max-age=86400"}
    return Response(200, headers, data)


def _prompt_of(prediction: Prediction) -> str:
    """The prompt the prediction was made with, drawn into its pictures ('' if none)."""
    values = prediction.input
    prompt = values.get("prompt") if isinstance(values, dict) else None
    return prompt if isinstance(prompt, str) else ""
