"""A local emulator of the EachLabs Predictions API, following its public documentation.

In process::

    emu = Emulator(speed=0.01)
    async with httpx.AsyncClient(transport=emu.transport(), base_url=EMULATOR_BASE_URL) as c:
        ...

On a loopback socket: ``with serve(emu) as server: server.url``; or
``python -m eachlabs_widgets.emulator --port 8787``.

Output shapes (``output`` at ``success``):

- most models: a list of image URLs, ``["http://…/files/{id}/0.png", …]``;
- ``flux-2-pro`` and ``flux-2-flex`` (catalog ``output_type`` ``image``): a bare URL string
  (they make one image);
- ``hunyuan-image-v3-text-to-image``: ``{"images": [url, …], "seed": n}``;
- ``imagen-4-fast``: ``{"image_url": url}`` (it makes one image);
- the trainers (``z-image-trainer``, ``flux-lora-portrait-trainer``, ``flux-turbo-trainer``):
  ``{"diffusers_lora_file": {"url", "content_type", "file_name", "file_size"},
  "config_file": {...}}`` — weights at ``/files/{id}/0.safetensors``, config at ``1.json``.
  ``flux-2-lora`` accepts those weights URLs in ``loras: [{"path": url, "scale": 1.0}]``.

Models that the catalog gives no ``output_type`` are served with one matching their shape.
A prompt containing ``[moderate]`` ends in ``error`` classified ``content_moderation``; input
that breaks the schema (type, enum, range) ends in ``error`` classified ``invalid_user_input``.

Switches: persistent ones are :class:`Emulator` attributes (``speed``, ``api_key``,
``account_cap``, ``failure``, ``legacy_failed_status``, ``never_finish``, ``output_404``,
``string_defaults``); one-shot faults come from :meth:`Emulator.inject` (see :mod:`.faults`);
another process drives them through ``/_emulator/...`` (see :mod:`.control`).

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
