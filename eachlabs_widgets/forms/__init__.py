"""Input forms generated from a model's ``request_schema``.

``_fields`` turns a schema into :class:`FieldSpec` s and widget values into a payload (pure);
``_widgets`` holds one small factory per field kind; ``_form`` is the :class:`ModelForm` container.

Imports: ``_schema`` and ``_display`` only; ``panel`` builds on it.
"""

from ._fields import FieldSpec, field_specs, payload_from
from ._form import ModelForm

__all__ = ["FieldSpec", "ModelForm", "field_specs", "payload_from"]
