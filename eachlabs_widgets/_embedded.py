"""The process's embedded emulator, made on first use when ``base_url`` is ``"emulator"``.

One instance per process, so predictions created by one call can be polled, resumed and
downloaded by the next. ``EACHLABS_EMULATOR_SPEED`` scales its model durations (0.1 = ten
times faster than the service).
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .emulator import Emulator

_lock = threading.Lock()
_instance: Emulator | None = None


def shared_emulator() -> Emulator:
    global _instance
    with _lock:
        if _instance is None:
            from .emulator import Emulator

            speed = float(os.environ.get("EACHLABS_EMULATOR_SPEED", "1") or 1)
            _instance = Emulator(speed=speed)
        return _instance
