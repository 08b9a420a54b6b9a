"""``ResultStrip``: the history strip, its lightbox and Compare (an anywidget, ``static/strip.js``).

The strip lists every image of this session and of the journal's earlier sessions, newest
first. Only small descriptions travel as widget state; thumbnails are sent when a tile comes
into view, and the full-size file when the lightbox shows it, as binary buffers of custom
messages. :meth:`ResultStrip.handle` answers the browser's requests (tests call it directly).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from .._display.thumbs import thumbnail_from_bytes, thumbnail_jpeg
from .._schema.media import sniff_content_type
from ._keys import STATIC

if TYPE_CHECKING:
    from .._generation import Generation
    from .._journal.journal import JournalEntry

__all__ = ["ResultStrip", "Shot", "differences", "tile_name", "value_text"]

THUMB_HEIGHT = 96
HISTORY_LIMIT = 120
#: What most slugs end with, and what a tile need not repeat under a picture.
_TASK_SUFFIX = re.compile(r"-(?:text|image|video)-to-(?:image|video)$")
_EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
}


def value_text(value: Any) -> str:
    """A parameter's value as one readable line (strings as they are, the rest as JSON)."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def differences(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """``(name, a, b)`` for every parameter that differs (``—`` where one run has none).

    ``model`` is compared too, first; the rest in the order the runs list them.
    """
    rows: list[tuple[str, str, str]] = []
    names = list(dict.fromkeys([*a, *b]))
    for name in names:
        va, vb = a.get(name, _MISSING), b.get(name, _MISSING)
        if va is _MISSING and vb is _MISSING:
            continue
        if va is not _MISSING and vb is not _MISSING and value_text(va) == value_text(vb):
            continue
        rows.append(
            (
                name,
                "—" if va is _MISSING else value_text(va),
                "—" if vb is _MISSING else value_text(vb),
            )
        )
    return rows


_MISSING = object()


@dataclass
class Shot:
    """One image of one run (``source`` a :class:`Generation` or a journal entry)."""

    key: str
    run_id: str
    index: int
    model: str
    inputs: dict[str, Any]
    created_at: datetime
    source: Any
    emulated: bool = False
    cost: float | None = None
    starred: bool = False
    #: The prediction id of the run this one was made from (see ``lineage()``), if any.
    parent: str | None = None

    @property
    def prompt(self) -> str:
        value = self.inputs.get("prompt")
        return value if isinstance(value, str) else ""

    def data(self) -> bytes:
        """The image file's bytes (from the generation, or the journal's saved file)."""
        source = self.source
        outputs = getattr(source, "outputs", None)
        if outputs is not None:
            images = [o for o in outputs if o.is_image]
            return images[self.index].data if self.index < len(images) else b""
        files = [Path(f) for f in getattr(source, "files", [])]
        images_on_disk = [f for f in files if f.suffix.lower() in _IMAGE_SUFFIXES]
        if self.index < len(images_on_disk) and images_on_disk[self.index].exists():
            return images_on_disk[self.index].read_bytes()
        return b""

    def filename(self, mime: str) -> str:
        stem = self.created_at.astimezone().strftime("%Y%m%d-%H%M%S")
        safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in self.model)[:40]
        return f"{stem}_{safe}_{self.run_id[:12]}_{self.index}{_EXTENSIONS.get(mime, '.bin')}"

    def describe(self, total_in_run: int) -> dict[str, Any]:
        """What the browser shows: caption, parameters, labels (no image data)."""
        bits = [self.model]
        if self.emulated:
            bits.append("emulator")
        seed = self.inputs.get("seed")
        if seed is not None:
            bits.append(f"seed {seed}")
        if total_in_run > 1:
            bits.append(f"image {self.index + 1} of {total_in_run}")
        if self.cost is not None:
            bits.append(f"${self.cost:.3f}")
        params = [["model", self.model]]
        params += [[k, value_text(v)] for k, v in self.inputs.items()]
        params.append(["created", self.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")])
        params.append(["prediction", self.run_id])
        if self.parent:
            params.append(["made from", self.parent])
        return {
            "key": self.key,
            "image": True,
            "model": self.model,
            "short": tile_name(self.model),
            "prompt": self.prompt[:300],
            "caption": " · ".join(bits),
            "params": params,
            "starred": self.starred,
            "parent": self.parent or "",
        }


def tile_name(model: str) -> str:
    """The model under a tile's picture: its slug without the task it ends with
    (``wan-v2-6`` for ``wan-v2-6-text-to-image``), which two short lines hold whole; the tile's
    tooltip has the whole slug."""
    return _TASK_SUFFIX.sub("", model) or model


_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff")


class ResultStrip(anywidget.AnyWidget):
    """Every image, newest first; the browser asks for thumbnails and full files as needed.

    ``on_select(shot)`` shows a result on the panel's stage; ``on_load(shot)`` puts its model
    and every parameter (seed included) back into the form.
    """

    _esm = STATIC / "strip.js"

    items: Any = traitlets.List(help="Descriptions of the images, newest first.").tag(sync=True)
    selected = traitlets.Unicode("", help="The key shown on the stage.").tag(sync=True)

    def __init__(
        self,
        on_select: Callable[[Shot], None] | None = None,
        on_load: Callable[[Shot], None] | None = None,
    ) -> None:
        super().__init__()
        self.on_select = on_select
        self.on_load = on_load
        #: ``on_vary(shot)`` and ``on_remix(shot)``: the lightbox's Vary and Remix (the panel
        #: wires them).
        self.on_vary: Callable[[Shot], Any] | None = None
        self.on_remix: Callable[[Shot], Any] | None = None
        self.shots: dict[str, Shot] = {}
        self.order: list[str] = []
        #: The runs the search box and the star filter leave shown (None: every run).
        self.visible: set[str] | None = None
        #: Whether a search brings in the journal's earlier runs (the panel's history mode).
        self.from_journal = True
        self._thumbs: dict[str, bytes] = {}
        self.on_msg(self._message)

    # -- contents ---------------------------------------------------------------------------
    def add(self, generation: Generation) -> list[Shot]:
        """This session's finished run: its images go first."""
        shots = [
            Shot(
                key=f"{generation.id}:{index}",
                run_id=generation.id,
                index=index,
                model=generation.model,
                inputs=dict(generation.inputs),
                created_at=generation.created_at,
                source=generation,
                emulated=generation.emulated,
                cost=generation.cost,
                parent=generation.parent,
            )
            for index in range(len(generation.images))
        ]
        self._put(shots, first=True)
        return shots

    def add_history(self, entries: Sequence[JournalEntry], *, emulator: str = "") -> int:
        """Earlier runs from the journal (newest first) whose images are on disk; returns how
        many images were added. Runs already listed are skipped."""
        known = {shot.run_id for shot in self.shots.values()}
        shots: list[Shot] = []
        for entry in entries[:HISTORY_LIMIT]:
            if entry.status != "success" or entry.id in known:
                continue
            files = [f for f in entry.files if Path(f).suffix.lower() in _IMAGE_SUFFIXES]
            cost = entry.metrics.get("cost")
            for index, _file in enumerate(files):
                shots.append(
                    Shot(
                        key=f"{entry.id}:{index}",
                        run_id=entry.id,
                        index=index,
                        model=entry.model,
                        inputs=dict(entry.inputs),
                        created_at=entry.created_at,
                        source=entry,
                        emulated=bool(emulator) and entry.base_url == emulator,
                        cost=float(cost) if isinstance(cost, (int, float)) else None,
                        starred=bool(getattr(entry, "starred", False)),
                        parent=getattr(entry, "parent", None),
                    )
                )
        self._put(shots, first=False)
        return len(shots)

    def _put(self, shots: list[Shot], *, first: bool) -> None:
        for shot in shots:
            self.shots[shot.key] = shot
        keys = [s.key for s in shots]
        self.order = [*keys, *self.order] if first else [*self.order, *keys]
        self._describe()

    def _describe(self) -> None:
        per_run: dict[str, int] = {}
        for key in self.order:
            run = self.shots[key].run_id
            per_run[run] = per_run.get(run, 0) + 1
        shown = [
            k for k in self.order if self.visible is None or self.shots[k].run_id in self.visible
        ]
        self.items = [self.shots[k].describe(per_run[self.shots[k].run_id]) for k in shown]

    def position(self, key: str) -> tuple[int, int]:
        """``(n, total)``: the image's place in the strip, as in "View image n of total"."""
        return self.order.index(key) + 1, len(self.order)

    # -- what the browser asks for ------------------------------------------------------------
    def thumbnail(self, key: str) -> bytes:
        """A small JPEG of the image, made once; empty while the image cannot be read (a file
        still being written, or gone), and then made again when asked again."""
        if key not in self._thumbs:
            shot = self.shots.get(key)
            jpeg = b""
            if shot is not None:
                images = getattr(shot.source, "images", None)
                if images is not None and shot.index < len(images):
                    jpeg = thumbnail_jpeg([images[shot.index]], THUMB_HEIGHT) or b""
                else:
                    jpeg = thumbnail_from_bytes(shot.data(), THUMB_HEIGHT)
            if not jpeg:
                return b""
            self._thumbs[key] = jpeg
        return self._thumbs[key]

    def full(self, key: str) -> tuple[bytes, str, str]:
        """``(bytes, mime type, file name)`` of the image as made."""
        shot = self.shots[key]
        data = shot.data()
        mime = sniff_content_type(data)
        return data, mime, shot.filename(mime)

    def compare(self, a: str, b: str) -> list[tuple[str, str, str]]:
        """The parameter differences of two images (model first)."""
        first, second = self.shots[a], self.shots[b]
        return differences(
            {"model": first.model, **first.inputs}, {"model": second.model, **second.inputs}
        )

    def handle(self, content: Mapping[str, Any]) -> tuple[dict[str, Any], list[bytes]] | None:
        """Answer one request of the browser: ``(reply, buffers)``, or ``None`` (no reply)."""
        kind = content.get("type")
        if kind == "thumbs":
            keys = [k for k in content.get("keys", []) if isinstance(k, str)]
            return {"type": "thumbs", "keys": keys}, [self.thumbnail(k) for k in keys]
        key = content.get("key")
        if kind == "full" and key in self.shots:
            data, mime, name = self.full(key)
            return {"type": "full", "key": key, "mime": mime, "name": name}, [data]
        if kind == "compare":
            keys = [k for k in content.get("keys", []) if k in self.shots][:2]
            if len(keys) != 2:
                return None
            pictures = [self.full(k) for k in keys]
            reply = {
                "type": "compare",
                "keys": keys,
                "mimes": [p[1] for p in pictures],
                "diff": [list(row) for row in self.compare(*keys)],
            }
            return reply, [p[0] for p in pictures]
        if kind == "search":
            found = self.search(str(content.get("text") or ""), bool(content.get("starred")))
            return {"type": "searched", "count": found}, []
        if kind == "star" and key in self.shots:
            self.star(key, bool(content.get("on", True)))
            return None
        if kind == "zip":
            name, data = self.zip()
            return {"type": "zip", "name": name, "error": "" if data else name}, [data]
        if kind == "select" and key in self.shots:
            self.selected = key
            if self.on_select is not None:
                self.on_select(self.shots[key])
        elif kind == "load" and key in self.shots and self.on_load is not None:
            self.on_load(self.shots[key])
        elif kind == "vary" and key in self.shots and self.on_vary is not None:
            self.on_vary(self.shots[key])
        elif kind == "remix" and key in self.shots and self.on_remix is not None:
            self.on_remix(self.shots[key])
        return None

    # -- search, stars, download all (the journal's, see ``find()``) ---------------------------
    def search(self, text: str, starred: bool) -> int:
        """Show only the runs whose prompts hold every word of ``text`` (words and prefixes),
        starred ones only with ``starred``; both empty shows every run again. Runs of the
        journal not listed yet are added. Returns how many images are shown."""
        from .._journal.journal import default_journal

        if not text.strip() and not starred:
            self.visible = None
        else:
            entries = default_journal().search(
                text or None, starred=True if starred else None, status="success",
                limit=HISTORY_LIMIT,
            )  # fmt: skip
            if self.from_journal:
                self.add_history(entries)
            self.visible = {e.id for e in entries}
        self._describe()
        return len(self.items)

    def star(self, key: str, on: bool) -> None:
        """Star (or unstar) the run of ``key`` in the journal, and every tile of it here."""
        from .._journal.journal import default_journal

        run = self.shots[key].run_id
        default_journal().mark(run, starred=on)
        for shot in self.shots.values():
            if shot.run_id == run:
                shot.starred = on
        self._describe()

    def zip(self) -> tuple[str, bytes]:
        """``(file name, bytes)`` of a zip of the images shown (see ``export()``); on failure
        ``(why, b"")``."""
        import tempfile

        from .._library.export import export

        sources: list[Any] = []
        for item in self.items:
            source = self.shots[item["key"]].source
            if all(s is not source for s in sources):
                sources.append(source)
        with tempfile.TemporaryDirectory() as folder:
            try:
                stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
                path = export(sources, Path(folder) / f"eachlabs-images-{stamp}.zip")
            except (ValueError, OSError) as exc:
                return f"could not make the zip: {exc}", b""
            return path.name, path.read_bytes()

    def open_lightbox(self, key: str) -> None:
        """Open the lightbox on ``key`` in every view of the strip."""
        self.send({"type": "open", "key": key})

    def _message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, Mapping):
            return
        answer = self.handle(content)
        if answer is not None:
            reply, buffers = answer
            self.send(reply, buffers)
