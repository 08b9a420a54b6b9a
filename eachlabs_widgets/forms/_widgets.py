"""One small widget factory per field kind: ``FieldSpec -> Field``.

A :class:`Field` owns a row (label, control, inline error), reads and writes its *raw* value
(see :mod:`._fields`) and calls its change callbacks whenever the user edits it. Callbacks never
print: problems go to the field's error label.
"""

from __future__ import annotations

import html
import math
import random
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, ClassVar

import ipywidgets as w

from .._schema.media import LocalMedia, sniff_content_type
from ._fields import FieldSpec, cleared_raw, initial_raw, parse_raw, same_value, seed_range, to_raw

__all__ = [
    "CheckboxField",
    "DropdownField",
    "Field",
    "MediaField",
    "SeedField",
    "SliderField",
    "TextField",
    "make_field",
    "remember_preview",
]

_ACCEPT = {
    "image": "image/*",
    "audio": "audio/*",
    "video": "video/*",
    "archive": ".zip,application/zip",
}
_BLANK = object()  # the dropdown's "leave it to the service" entry (None would deselect)


def error_html(message: str | None) -> str:
    """The inline error markup (empty for no error): theme text, an error-coloured edge."""
    if not message:
        return ""
    return f"<div class='eachlabs-line eachlabs-error' role='alert'>⚠ {html.escape(message)}</div>"


def label_html(spec: FieldSpec) -> str:
    """The field's label line: the human label, ``*`` when required, the range if any."""
    rng = spec.range_text
    range_html = f"<span class='eachlabs-range'>{html.escape(rng)}</span>" if rng else ""
    title = html.escape(spec.label)
    name = html.escape(spec.name, quote=True)
    return f"<div class='eachlabs-field-label' title='{name}'>{title}{range_html}</div>"


class Field:
    """A form field: ``row`` to display, ``raw``/``value`` to read and write, ``error`` label.

    The row stacks the label (with the range), the control, the description as a visible
    help line, and the error, so it reads the same in a narrow column.
    """

    def __init__(self, spec: FieldSpec, control: w.Widget, *, box: w.Widget | None = None) -> None:
        self.spec = spec
        self.control = control
        tooltip = spec.description or None
        self.label = w.HTML(label_html(spec))
        self.help = w.HTML(
            f"<div class='eachlabs-help'>{html.escape(spec.description)}</div>"
            if spec.description
            else ""
        )
        if not spec.description:
            self.help.layout.display = "none"
        self.error = w.HTML("")
        self.error.add_class("eachlabs-field-error")
        self.error.layout.display = "none"
        self.box = box if box is not None else w.HBox([control])
        self.box.add_class("eachlabs-field-control")
        self.row = w.VBox([self.label, self.box, self.help, self.error])
        self.row.add_class("eachlabs-field")
        self.row.add_class(f"eachlabs-field-{spec.name}")
        self._callbacks: list[Callable[[Field], None]] = []
        self._widgets: list[w.Widget] = [self.row, self.label, self.help, self.error, control]
        self._widgets.append(self.box)
        if tooltip and hasattr(control, "tooltip"):
            control.tooltip = tooltip

    # -- value --------------------------------------------------------------------------------
    @property
    def raw(self) -> Any:
        """What the widget holds (text, a bool, the chosen option, a LocalMedia…)."""
        return self._get_raw()

    @raw.setter
    def raw(self, raw: Any) -> None:
        self._set_raw(raw)

    def _get_raw(self) -> Any:
        raise NotImplementedError

    def _set_raw(self, raw: Any) -> None:
        raise NotImplementedError

    @property
    def value(self) -> Any:
        """The payload value (``None``: left out, or invalid — see :meth:`check`)."""
        return parse_raw(self.spec, self.raw)[0]

    @value.setter
    def value(self, value: Any) -> None:
        self.raw = to_raw(self.spec, value)

    def check(self) -> str | None:
        """The field's problem, or ``None``."""
        return parse_raw(self.spec, self.raw)[1]

    def reset(self) -> None:
        """Back to the default."""
        self.raw = initial_raw(self.spec)

    def clear(self) -> None:
        """Empty (the key is left out), where the field can be empty; see :func:`cleared_raw`."""
        self.raw = cleared_raw(self.spec)

    # -- events -------------------------------------------------------------------------------
    def on_change(self, callback: Callable[[Field], None]) -> None:
        """Call ``callback(field)`` after every edit."""
        self._callbacks.append(callback)

    def _changed(self, _change: Any = None) -> None:
        for callback in list(self._callbacks):
            callback(self)

    def show_error(self, message: str | None) -> None:
        markup = error_html(message)
        if self.error.value != markup:
            self.error.value = markup
            self.error.layout.display = None if markup else "none"

    def close(self) -> None:
        for widget in self._widgets:
            for part in (widget, getattr(widget, "layout", None), getattr(widget, "style", None)):
                if isinstance(part, w.Widget):
                    part.close()


class TextField(Field):
    """text, textarea, number, list and json: the raw value is the box's text."""

    _PLACEHOLDERS: ClassVar[dict[str, str]] = {
        "list": "one item per line, or a JSON list",
        "json": 'a JSON object, e.g. {"key": "value"}',
        "media": "https://… or choose a file",
    }

    def __init__(self, spec: FieldSpec, *, box_items: list[w.Widget] | None = None) -> None:
        multiline = spec.kind in ("textarea", "list", "json")
        cls = w.Textarea if multiline else w.Text
        layout = w.Layout(width="100%" if multiline else "auto")
        self.text = cls(
            value=str(initial_raw(spec) if spec.kind != "media" else ""),
            placeholder=self._placeholder(spec),
            layout=layout,
            continuous_update=True,
        )
        if multiline:
            self.text.rows = 4 if spec.kind == "json" else 3
        box = w.HBox([self.text, *box_items]) if box_items else None
        if spec.kind in ("number", "slider", "seed"):
            self.text.add_class("eachlabs-number")
        super().__init__(spec, self.text, box=box)
        if box_items:
            self._widgets.extend(box_items)
        self.text.observe(self._changed, "value")

    def _placeholder(self, spec: FieldSpec) -> str:
        # What leaving the box empty does, and no more: a number box is narrow, and the label
        # above it already says the range.
        if spec.kind in self._PLACEHOLDERS:
            return self._PLACEHOLDERS[spec.kind]
        if spec.kind == "seed":
            return "empty: random"
        return "" if spec.required else "empty: service default"

    def _get_raw(self) -> Any:
        return self.text.value

    def _set_raw(self, raw: Any) -> None:
        self.text.value = "" if raw is None else str(raw)


class SliderField(TextField):
    """A bounded integer/number: a slider and a number box; the box holds the value."""

    def __init__(self, spec: FieldSpec) -> None:
        lo, hi = spec.minimum, spec.maximum
        assert lo is not None and hi is not None and spec.step is not None
        if spec.type == "integer":
            self.slider: w.Widget = w.IntSlider(
                min=int(lo), max=int(hi), value=int(lo), step=int(spec.step), readout=False
            )
        else:
            self.slider = w.FloatSlider(
                min=float(lo), max=float(hi), value=float(lo), step=float(spec.step), readout=False
            )
        self._syncing = False
        super().__init__(spec, box_items=[self.slider])
        self.slider.description = ""
        self._text_to_slider()
        self.slider.observe(self._slider_moved, "value")
        self.text.observe(lambda _c: self._text_to_slider(), "value")

    def _slider_moved(self, change: Any) -> None:
        if self._syncing:
            return
        value = change["new"]
        if isinstance(value, float) and self.spec.step:
            value = round(value, max(0, -math.floor(math.log10(self.spec.step))))
        self._syncing = True
        try:
            self.text.value = _num(value)
        finally:
            self._syncing = False

    def _text_to_slider(self) -> None:
        if self._syncing:
            return
        value, problem = parse_raw(self.spec, self.text.value)
        if problem is not None or value is None:
            return
        self._syncing = True
        try:
            self.slider.value = value  # out-of-range values stay in the box, with an error
        finally:
            self._syncing = False


class SeedField(TextField):
    """A number box with a "randomise" button drawing from the seed's bounds."""

    def __init__(self, spec: FieldSpec, rng: random.Random | None = None) -> None:
        self.rng = rng or random.Random()
        lo, hi = seed_range(spec)
        self.button = w.Button(
            description="",
            icon="random",
            tooltip=f"random seed ({lo} to {hi})",
            layout=w.Layout(width="44px"),
        )
        super().__init__(spec, box_items=[self.button])
        self.button.on_click(lambda _b: self.randomise())

    def randomise(self) -> int:
        """Set a random seed within the bounds and return it."""
        lo, hi = seed_range(self.spec)
        seed = self.rng.randint(lo, hi)
        self.raw = to_raw(self.spec, seed)
        return seed


class DropdownField(Field):
    """An enum (or an optional boolean): the raw value is the option, ``None`` for the blank."""

    def __init__(self, spec: FieldSpec) -> None:
        options: list[tuple[str, Any]] = []
        if spec.blank_label is not None:
            options.append((spec.blank_label, _BLANK))
        seen: set[str] = {label for label, _ in options}
        for option in spec.options:
            label = option if isinstance(option, str) and option else _option_label(option)
            if label in seen:
                label = repr(option)
            while label in seen:
                label += " "
            seen.add(label)
            options.append((label, option))
        self._values = [value for _, value in options]
        self.dropdown = w.Dropdown(options=options, index=0, layout=w.Layout(width="auto"))
        super().__init__(spec, self.dropdown)
        self.reset()
        self.dropdown.observe(self._changed, "index")

    def _get_raw(self) -> Any:
        index = self.dropdown.index
        if index is None:
            return None
        value = self._values[index]
        return None if value is _BLANK else value

    def _set_raw(self, raw: Any) -> None:
        target = _BLANK if raw is None else raw
        for index, option in enumerate(self._values):
            if option is target or (
                option is not _BLANK and target is not _BLANK and same_value(option, target)
            ):
                self.dropdown.index = index
                return
        raise ValueError(f"{raw!r} is not one of the choices")


class CheckboxField(Field):
    def __init__(self, spec: FieldSpec) -> None:
        self.checkbox = w.Checkbox(value=bool(initial_raw(spec)), indent=False)
        super().__init__(spec, self.checkbox)
        self.checkbox.observe(self._changed, "value")

    def _get_raw(self) -> Any:
        return bool(self.checkbox.value)

    def _set_raw(self, raw: Any) -> None:
        self.checkbox.value = bool(raw)


class MediaField(TextField):
    """A URL box and a file picker; a chosen file (or a kernel object) becomes a LocalMedia."""

    def __init__(self, spec: FieldSpec) -> None:
        self.local: LocalMedia | None = None
        self.upload = w.FileUpload(
            accept=_ACCEPT.get(spec.media or "", ""), multiple=False, description="File"
        )
        self.file_label = w.HTML("")
        self.clear_button = w.Button(
            description="×", tooltip="forget the chosen file", layout=w.Layout(width="32px")
        )
        self._quiet = False
        self.preview = w.Image(format="jpeg")
        self.preview_link = w.HTML("")
        self.preview_box = w.HBox([self.preview, self.preview_link])
        self.preview_box.add_class("eachlabs-preview")
        super().__init__(spec, box_items=[self.upload, self.file_label, self.clear_button])
        self.row.children = (self.label, self.box, self.preview_box, self.help, self.error)
        self._widgets.extend([self.preview, self.preview_link, self.preview_box])
        self._show_local()
        self.reset()
        self.upload.observe(self._uploaded, "value")
        self.clear_button.on_click(lambda _b: self._clear_local())

    def _get_raw(self) -> Any:
        return self.local if self.local is not None else self.text.value

    def _set_raw(self, raw: Any) -> None:
        self._quiet = True
        try:
            if isinstance(raw, LocalMedia):
                self.local = raw
                self.text.value = ""
            else:
                self.local = None
                self.text.value = "" if raw is None else str(raw)
        finally:
            self._quiet = False
        self._show_local()
        self._changed()

    def _changed(self, _change: Any = None) -> None:
        if self._quiet:
            return
        if _change is not None and self.local is not None and self.text.value.strip():
            self.local = None  # typing a URL replaces the chosen file
            self._show_local()
        elif _change is not None:
            self._show_preview()
        super()._changed(_change)

    def _uploaded(self, change: Any) -> None:
        files = change["new"]
        if not files:
            return
        try:
            self.raw = local_media_from_upload(files[0])
        except Exception as exc:  # a malformed upload must not escape the callback
            self.show_error(f"could not read the file: {exc}")
        finally:
            self.upload.value = ()

    def _clear_local(self) -> None:
        self.raw = ""

    def _show_local(self) -> None:
        local = self.local
        if local is None:
            self.file_label.value = ""
            self.clear_button.layout.display = "none"
        else:
            self.file_label.value = html.escape(f"{local.filename} ({size_text(len(local.data))})")
            self.clear_button.layout.display = None
        self._show_preview()

    def _show_preview(self) -> None:
        """A small picture of the chosen image: an upload, a URL, or a result's URL."""
        data: bytes | None = None
        url = ""
        if self.spec.media == "image":
            if self.local is not None:
                data = self.local.data
            else:
                url = self.text.value.strip()
                data = PREVIEWS.get(url)
        jpeg = _preview_jpeg(data) if data else b""
        if jpeg:
            self.preview.value = jpeg
            self.preview.layout.display = None
            self.preview_link.value = ""
        else:
            self.preview.layout.display = "none"
            if url.startswith(("https://", "http://")):
                src = html.escape(url, quote=True)
                self.preview_link.value = f"<img src='{src}' alt='preview of the image URL'/>"
            else:
                self.preview_link.value = ""
        shown = bool(jpeg) or bool(self.preview_link.value)
        self.preview_box.layout.display = None if shown else "none"


#: URL -> the image's bytes, for previews of images the kernel already has (results).
PREVIEWS: OrderedDict[str, bytes] = OrderedDict()
_PREVIEWS_KEPT = 32


def remember_preview(url: str, data: bytes) -> None:
    """Let image fields preview ``url`` from ``data`` (the browser may not reach the URL)."""
    PREVIEWS[url] = data
    PREVIEWS.move_to_end(url)
    while len(PREVIEWS) > _PREVIEWS_KEPT:
        PREVIEWS.popitem(last=False)


def _preview_jpeg(data: bytes, height: int = 96) -> bytes:
    """The preview every view makes (``b""`` for what Pillow cannot read: no preview)."""
    from .._display.thumbs import thumbnail_from_bytes

    return thumbnail_from_bytes(data, height)


def local_media_from_upload(entry: Any) -> LocalMedia:
    """A :class:`LocalMedia` from one ``FileUpload.value`` entry (ipywidgets 8)."""
    data = bytes(entry["content"])
    content_type = entry.get("type") or sniff_content_type(data)
    return LocalMedia(data, content_type, entry.get("name") or "upload")


def size_text(n: int) -> str:
    """A file's size in the one unit the widgets use: megabytes of 10**6 bytes ("11.31 MB",
    "104.9 MB", "< 0.01 MB"), as the panel's upload area and its progress bar show them."""
    mb = n / 1e6
    if 0 < mb < 0.01:
        return "< 0.01 MB"
    return f"{mb:.2f} MB" if mb < 10 else f"{mb:.1f} MB"


def _option_label(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)  # the empty string
    if isinstance(value, (int, float)):
        return _num(value)
    return str(value)


def _num(value: Any) -> str:
    return repr(value) if isinstance(value, (int, float)) else str(value)


def make_field(spec: FieldSpec, *, rng: random.Random | None = None) -> Field:
    """The field widget for ``spec``."""
    if spec.kind == "dropdown":
        return DropdownField(spec)
    if spec.kind == "checkbox":
        return CheckboxField(spec)
    if spec.kind == "slider":
        return SliderField(spec)
    if spec.kind == "seed":
        return SeedField(spec, rng)
    if spec.kind == "media":
        return MediaField(spec)
    return TextField(spec)
