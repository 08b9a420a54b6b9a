"""A local emulator of the EachLabs Predictions API, following its public documentation.

In process::

    emu = Emulator(speed=0.01)
    async with httpx.AsyncClient(transport=emu.transport(), base_url=EMULATOR_BASE_URL) as c:
        ...

On a loopback socket: ``with serve(emu) as server: server.url``; or
``python -m eachlabs_widgets.emulator --port 8787``.

Output shapes (``output`` at ``success``), as the record gives them (API.md, "Poll", "Models"):

- most models: a list of image URLs, ``["http://…/files/{id}/0.png", …]``;
- ``flux-2-pro``, ``flux-2-flex``, ``imagen4-preview`` and ``imagen-4-fast`` (they make one
  image): one plain URL string;
- ``hunyuan-image-v3-text-to-image``: ``{"images": [url, …], "seed": n}``;
- the trainers (``z-image-trainer``, ``flux-lora-portrait-trainer`` — catalog ``output_type``
  ``code`` —, ``flux-turbo-trainer``): ``{"diffusers_lora_file": {"url", "content_type",
  "file_name", "file_size"}, "config_file": {...}}``, or that object as a JSON string with the
  ``trainer_output_string`` switch — weights at ``/files/{id}/0.safetensors``, config at
  ``1.json``. The weights carry their family (:mod:`.families`): ``z-image-turbo-lora`` loads
  Z-Image Turbo LoRAs, ``bfl-flux-lora`` FLUX.1 [dev] ones (the portrait and turbo trainers'),
  ``flux-2-lora`` only FLUX.2 [dev] ones, in ``loras: [{"path": url, "scale": 1.0}]``. Weights of
  another family end the prediction in ``error`` (``error_code`` ``PROVIDER_BAD_REQUEST``,
  ``classification.category`` ``PROVIDER``); unstamped weights from elsewhere (a Hugging Face
  repo id, a URL) are taken.

Models that the catalog gives no ``output_type`` are served with one matching their shape.
``GET /v1/models`` lists the same objects as ``GET /v1/model`` (with ``request_schema``, no
category). A prompt containing ``[moderate]`` ends in ``error`` classified
``content_moderation``; input that breaks the schema (type, enum, range, pattern) ends in
``error`` classified ``invalid_user_input``. A create lacking a required input, or giving a
``data:`` URI to a file input, is refused: ``400 {"error": "Invalid input for model",
"details": …}`` (API.md, "Create", "Upload": "data URIs … are rejected").

Switches: persistent ones are :class:`Emulator` attributes (``speed``, ``api_key``,
``account_cap``, ``failure``, ``legacy_failed_status``, ``never_finish``, ``output_404``,
``string_defaults``, ``durations``, and the record's variants ``balance``,
``starts_per_second``, ``created_seconds``, ``cancel_completes``, ``cancel_status_success``,
``trainer_output_string``, ``files_delete_404``, ``files_processing_seconds``,
``presign_without_id``, ``record_categories``, each described on :class:`~.state.Settings`); one-shot faults come from
:meth:`Emulator.inject` (see :mod:`.faults`); another process drives them through
``/_emulator/...`` (see :mod:`.control`). :class:`~.replay.Replay` serves a recorded trace back
instead (``--replay TRACE``; the format is in :mod:`.replay`).

Imports: nothing of the rest of the package. It stands on its own, as the service does; the
client reaches it only through ``_embedded`` and a base URL.
"""

from __future__ import annotations

from .catalog import load_catalog
from .core import Emulator, EmulatorStats
from .messages import Request, Response
from .server import EmulatorServer, serve
from .transport import EmulatorTransport

EMULATOR_BASE_URL = "http://emulator.eachlabs.invalid"

__all__ = [
    "EMULATOR_BASE_URL",
    "Emulator",
    "EmulatorServer",
    "EmulatorStats",
    "EmulatorTransport",
    "Request",
    "Response",
    "load_catalog",
    "serve",
]
