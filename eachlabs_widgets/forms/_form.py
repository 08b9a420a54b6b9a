"""``ModelForm``: one container of field widgets exposing one value dict."""

from __future__ import annotations

import copy
import html
import random
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import ipywidgets as w
import traitlets

from ._fields import FieldSpec, field_specs, initial_raw, payload_from, unknown_keys
from ._widgets import Field, make_field, remember_preview

__all__ = ["ModelForm"]


class ModelForm(w.VBox):
    """An input form generated from a model's ``request_schema``.

    ``value`` is the payload ready to send: only the schema's keys, each of its declared type;
    empty optional fields are left out (the service default applies), and so are invalid ones
    (see ``errors``). A media field holds a URL string, or a :class:`LocalMedia` for a chosen
    file or a kernel object (bytes, a path, a PIL image) given through ``value``; the client
    uploads those before sending.

    Setting ``value`` makes the form send that: each field shows its key's value, and a key that
    is missing (or ``None``) empties its field, so the service default applies — except fields
    that cannot be empty (a checkbox, a dropdown without a blank entry) and required ones, which
    show their default. Keys that name no field, and values a field cannot hold (a choice not
    offered, an unreadable file), are not applied: they are listed in ``ignored`` and shown above
    the form. ``form.value = form.value`` changes nothing. :meth:`update` sets some fields only;
    :meth:`reset` puts every field back to its default. The ``value=`` argument is applied with
    :meth:`update`, on top of the defaults.

    Observe ``payload`` (the current value), ``errors`` or ``valid`` to react to edits, e.g. to
    disable a Generate button while the form is invalid.

    A pristine form shows no "required" errors: a field shows one once the user has edited it,
    or after :meth:`reveal_errors` (what Generate calls). ``errors`` always lists every problem.
    :meth:`show_service_errors` puts the service's messages on their fields until edited.

    ``request_schema`` may also be a whole model detail (``{"slug", "title", "request_schema"}``);
    ``model`` (a slug or title) is shown as the form's heading.
    """

    valid = traitlets.Bool(True, help="True when no field has an error.").tag(sync=False)
    errors = traitlets.Dict(help="Field name -> problem, for the fields that have one.").tag(
        sync=False
    )
    payload = traitlets.Dict(help="The current value; observe it to follow edits.").tag(sync=False)
    ignored = traitlets.Dict(
        help="Keys of the last value set that were not applied -> why (unknown, not allowed)."
    ).tag(sync=False)

    def __init__(
        self,
        request_schema: Mapping[str, Any] | None,
        *,
        model: str | None = None,
        value: Mapping[str, Any] | None = None,
        rng: random.Random | None = None,
        **kwargs: Any,
    ) -> None:
        schema: Any = request_schema
        self.model_slug: str | None = None
        if isinstance(schema, Mapping) and isinstance(schema.get("request_schema"), Mapping):
            slug = schema.get("slug")
            self.model_slug = slug if isinstance(slug, str) else None
            model = model or schema.get("title") or schema.get("slug")
            schema = schema["request_schema"]
        self.schema: Mapping[str, Any] = schema if isinstance(schema, Mapping) else {}
        self.model = model
        self.specs: tuple[FieldSpec, ...] = tuple(field_specs(self.schema))
        self.fields: dict[str, Field] = {
            spec.name: make_field(spec, rng=rng) for spec in self.specs
        }
        self._holding = False
        self.touched: set[str] = set()
        self.revealed = False
        self._service_errors: dict[str, str] = {}

        self.heading = w.HTML(f"<b>{html.escape(str(model))}</b>" if model else "")
        self.notice = w.HTML("")
        visible = [f.row for f in self.fields.values() if not f.spec.advanced]
        advanced = [f.row for f in self.fields.values() if f.spec.advanced]
        children: list[w.Widget] = [self.heading, self.notice]
        if not self.specs:
            children.append(w.HTML("<i>This model declares no parameters.</i>"))
        children.extend(visible)
        self.advanced: w.Accordion | None = None
        if advanced:
            self._advanced_box = w.VBox(advanced)
            self.advanced = w.Accordion(
                children=[self._advanced_box], titles=("Advanced",), selected_index=None
            )
            children.append(self.advanced)
        super().__init__(children=children, **kwargs)

        for field in self.fields.values():
            field.on_change(self._on_field_change)
        self._refresh()
        if value is not None:
            self.update(value)

    # -- the value ----------------------------------------------------------------------------
    @property
    def value(self) -> dict[str, Any]:
        """The payload: schema keys only, declared types; empty and invalid fields left out."""
        return copy.deepcopy(dict(self.payload))

    @value.setter
    def value(self, value: Mapping[str, Any]) -> None:
        self._set(value, replace=True)

    def update(self, values: Mapping[str, Any]) -> None:
        """Set only the fields named in ``values`` (``value = …`` sets them all)."""
        self._set(values, replace=False)

    def _set(self, values: Mapping[str, Any], *, replace: bool) -> None:
        if not isinstance(values, Mapping):
            raise TypeError(f"ModelForm.value takes a dict, not {type(values).__name__}")
        ignored = {
            key: "unknown parameter (not in this model's schema)"
            for key in unknown_keys(self.specs, values)
        }
        with self._hold():
            for name, field in self.fields.items():
                if name not in values and not replace:
                    continue
                item = values.get(name)
                if item is None:
                    field.clear()
                    continue
                try:
                    field.value = item
                except ValueError as exc:  # a value the field cannot hold: not applied
                    ignored[name] = str(exc)
                    if replace:
                        field.clear()
        self.ignored = ignored

    def reset(self) -> None:
        """Every field back to its default; forgets ``ignored``."""
        with self._hold():
            for field in self.fields.values():
                field.reset()
        self.ignored = {}

    # -- events -------------------------------------------------------------------------------
    @contextmanager
    def _hold(self) -> Iterator[None]:
        """Refresh once after many field changes."""
        outer = self._holding
        self._holding = True
        try:
            yield
        finally:
            self._holding = outer
            if not outer:
                self._refresh()

    def _on_field_change(self, field: Field) -> None:
        if not self._holding:  # an edit in the browser (the form's own sets hold)
            self.touched.add(field.spec.name)
            self._service_errors.pop(field.spec.name, None)
            self._refresh()

    def _refresh(self) -> None:
        try:
            payload, errors = payload_from(self.specs, {n: f.raw for n, f in self.fields.items()})
        except Exception as exc:  # never let a callback raise into the widget dispatcher
            self.notice.value = _notice([f"internal error: {exc!r}"])
            self.valid = False
            return
        for name, field in self.fields.items():
            problem = self._service_errors.get(name) or errors.get(name)
            if problem == "required" and not (self.revealed or name in self.touched):
                problem = None  # a pristine form is not a list of errors
            field.show_error(problem)
        with self.hold_trait_notifications():
            self.errors = errors
            self.payload = payload
            self.valid = not errors

    def reveal_errors(self) -> dict[str, str]:
        """Show every field's problem, "required" included (Generate was pressed)."""
        self.revealed = True
        self._refresh()
        return dict(self.errors)

    def show_service_errors(self, problems: Mapping[str, str]) -> None:
        """Show the service's message on each named field (until that field is edited)."""
        self._service_errors = {k: str(v) for k, v in problems.items() if k in self.fields}
        self._refresh()

    def label_of(self, name: str) -> str:
        """The human label of field ``name`` ("Inference steps"), or ``name``."""
        field = self.fields.get(name)
        return field.spec.title if field is not None else name

    def carry_from(self, other: ModelForm) -> list[str]:
        """Take the values ``other`` holds that differ from its defaults, for fields of this
        form with the same name and declared type that accept them (the prompt, the seed, a
        size this model offers…). Returns the names taken."""
        kept: list[str] = []
        with self._hold():
            for name, theirs in other.fields.items():
                mine = self.fields.get(name)
                if mine is None or mine.spec.type != theirs.spec.type:
                    continue
                if mine.spec.kind != theirs.spec.kind and "media" in (
                    mine.spec.kind,
                    theirs.spec.kind,
                ):
                    continue
                raw = theirs.raw
                if raw == initial_raw(theirs.spec) and name not in other.touched:
                    continue  # the other model's default is not a choice the user made
                value = theirs.value
                if value is None:
                    continue
                try:
                    mine.value = value
                except ValueError:
                    continue  # not offered here (an enum without that size)
                if mine.check() is not None:
                    mine.reset()
                    continue
                kept.append(name)
                if name in other.touched:
                    self.touched.add(name)
        return kept

    @staticmethod
    def remember_preview(url: str, data: bytes) -> None:
        """Let image fields preview ``url`` from ``data`` (e.g. a result used as input)."""
        remember_preview(url, data)

    @traitlets.observe("ignored")
    def _show_ignored(self, change: Any) -> None:
        self.notice.value = _notice([f"{key}: {why}" for key, why in change["new"].items()])

    def close(self) -> None:
        for field in self.fields.values():
            field.close()
        for widget in (
            self.heading,
            self.notice,
            self.advanced,
            getattr(self, "_advanced_box", None),
        ):
            if widget is not None:
                widget.close()
        super().close()


def _notice(lines: list[str]) -> str:
    if not lines:
        return ""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    return f'<div class="eachlabs-line eachlabs-note">Not applied:<ul style="margin:0">{items}</ul></div>'
