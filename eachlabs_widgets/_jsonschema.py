"""``jsonschema``, imported without its optional IRI grammar.

When ``rfc3987_syntax`` is installed (Jupyter's own dependencies bring it), ``import
jsonschema`` compiles some forty grammars for its ``iri`` format checker: about 3 s of CPU,
ten times the rest of the import. This package never checks formats, so that one optional
module is hidden for the duration of the import (jsonschema then leaves the ``iri`` format
unchecked in this process, as it does wherever the module is not installed), and is
importable again right after.
"""

from __future__ import annotations

import sys

if "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules:
    sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]
    try:
        import jsonschema  # noqa: F401
    finally:
        del sys.modules["rfc3987_syntax"]

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import Draft202012Validator, extend, validator_for

__all__ = [
    "Draft202012Validator",
    "ValidationError",
    "Validator",
    "best_match",
    "extend",
    "validator_for",
]
