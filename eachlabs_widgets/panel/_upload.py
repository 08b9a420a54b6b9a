"""``FileDrop``: files from the browser to the kernel in chunks, with a progress bar (an
anywidget, ``static/drop.js``).

ipywidgets' ``FileUpload`` sends every chosen file in one message and shows nothing until it
has arrived: with a training set of a few hundred megabytes the page looks stuck. Here the
browser sends each file in :data:`CHUNK` pieces (binary buffers of custom messages), at most
:data:`WINDOW` unanswered at a time; the kernel answers each piece with the bytes it holds,
and the browser's bar shows exactly that ("Sending 3 of 40 files · 12.5 of 84.0 MB").
Files can be chosen with the button or dropped on the area.

Protocol (``batch`` tells one selection from the next; a new one abandons the last):
  -> {type: "begin", batch, files: [{name, size}]}   <- {type: "ack", batch, received: 0}
  -> {type: "chunk", batch, file, offset} + bytes     <- {type: "ack", batch, received, file}
  -> {type: "end", batch}                             <- {type: "done", batch, files, bytes}
  any problem                                         <- {type: "error", batch, message}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import anywidget
import traitlets

from ._keys import STATIC

__all__ = ["CHUNK", "MAX_BYTES", "WINDOW", "FileDrop"]

CHUNK = 1 << 20  # bytes per message: well under the servers' websocket message limits
WINDOW = 4  # pieces in flight before the browser waits for an answer
MAX_BYTES = 2 << 30  # a selection larger than 2 GB is refused before anything is sent

OnFiles = Callable[[list[tuple[str, bytes]]], None]


class FileDrop(anywidget.AnyWidget):
    """A drop area and a "Choose…" button; ``on_files([(name, bytes), …])`` gets a selection
    once all of it has arrived. ``handle`` answers the browser (tests call it directly)."""

    _esm = STATIC / "drop.js"

    accept = traitlets.Unicode("", help="The file input's accept list.").tag(sync=True)
    label = traitlets.Unicode("Choose files…", help="The button's text.").tag(sync=True)
    chunk = traitlets.Int(CHUNK, help="Bytes per piece.").tag(sync=True)
    window = traitlets.Int(WINDOW, help="Pieces in flight.").tag(sync=True)
    max_bytes = traitlets.Int(MAX_BYTES, help="The largest selection accepted.").tag(sync=True)

    def __init__(self, on_files: OnFiles, *, accept: str = "", label: str = "Choose files…"):
        super().__init__(accept=accept, label=label)
        self.on_files = on_files
        self._batch: str | None = None
        self._names: list[str] = []
        self._sizes: list[int] = []
        self._parts: list[bytearray] = []
        self.on_msg(self._message)

    @property
    def received(self) -> int:
        """Bytes of the current selection held so far."""
        return sum(len(p) for p in self._parts)

    def handle(self, content: Mapping[str, Any], buffers: Sequence[Any] = ()) -> dict[str, Any]:
        """Take one message of the browser; the answer to send back."""
        kind, batch = content.get("type"), str(content.get("batch", ""))
        if kind == "begin":
            files = [f for f in content.get("files", []) if isinstance(f, Mapping)]
            sizes = [int(f.get("size", 0)) for f in files]
            if sum(sizes) > self.max_bytes:
                self._reset(None)
                return _error(batch, f"{sum(sizes) / 1e6:.1f} MB is more than the limit")
            self._reset(batch)
            self._names = [str(f.get("name") or f"file-{i}") for i, f in enumerate(files)]
            self._sizes = sizes
            self._parts = [bytearray() for _ in files]
            return {"type": "ack", "batch": batch, "received": 0}
        if batch != self._batch:
            return _error(batch, "this selection was replaced by a newer one")
        if kind == "chunk":
            index, offset = int(content.get("file", -1)), int(content.get("offset", -1))
            if not 0 <= index < len(self._parts) or offset != len(self._parts[index]):
                self._reset(None)
                return _error(batch, "a piece arrived out of order: choose the files again")
            data = bytes(buffers[0]) if buffers else b""
            if offset + len(data) > self._sizes[index]:
                name = self._names[index]
                self._reset(None)
                return _error(batch, f"{name} is larger than announced")
            self._parts[index].extend(data)
            return {"type": "ack", "batch": batch, "received": self.received, "file": index}
        if kind == "end":
            held = list(zip(self._names, self._parts, self._sizes, strict=True))
            short = [name for name, part, size in held if len(part) != size]
            if short:
                self._reset(None)
                return _error(batch, f"incomplete: {', '.join(short[:3])}")
            arrived = [(name, bytes(part)) for name, part, _size in held]
            total = self.received
            self._reset(None)
            self.on_files(arrived)
            return {"type": "done", "batch": batch, "files": len(arrived), "bytes": total}
        return _error(batch, f"unknown message {kind!r}")

    def _reset(self, batch: str | None) -> None:
        self._batch = batch
        self._names, self._sizes, self._parts = [], [], []

    def _message(self, _widget: Any, content: Any, buffers: Any) -> None:
        if not isinstance(content, Mapping):
            return
        try:
            reply = self.handle(content, buffers or ())
        except Exception as exc:  # never raise into the widget dispatcher: say it instead
            self._reset(None)
            reply = _error(str(content.get("batch", "")), f"{type(exc).__name__}: {exc}")
        self.send(reply)


def _error(batch: str, message: str) -> dict[str, Any]:
    return {"type": "error", "batch": batch, "message": message}
