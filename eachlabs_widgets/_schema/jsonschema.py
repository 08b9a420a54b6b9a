"""``jsonschema``, imported without the optional modules of its format checkers.

When ``rfc3987_syntax`` is installed (Jupyter's own dependencies bring it), ``import
jsonschema`` compiles some forty grammars for its ``iri`` format checker: about 3 s of CPU,
ten times the rest of the import. The other optional checkers (``arrow`` through
``isoduration``, ``webcolors``, ``uri_template``…) cost about a third of what remains. This
package never checks formats, so those optional modules are hidden for the duration of the
import (jsonschema then leaves those formats unchecked in this process, as it does wherever
they are not installed), and are importable again right after. One already imported is left
alone.
"""

from __future__ import annotations

import sys

#: What ``jsonschema._format`` imports, if it can, for format checkers this package never uses.
FORMAT_MODULES = (
    "rfc3987_syntax",
    "rfc3987",
    "rfc3986_validator",
    "rfc3339_validator",
    "isoduration",
    "fqdn",
    "webcolors",
    "jsonpointer",
    "uri_template",
)

if "jsonschema" not in sys.modules:
    hidden = [name for name in FORMAT_MODULES if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import jsonschema  # noqa: F401
    finally:
        for name in hidden:
            del sys.modules[name]

# After the quiet import above, on purpose.
from jsonschema import ValidationError  # noqa: E402
from jsonschema.exceptions import best_match  # noqa: E402
from jsonschema.protocols import Validator  # noqa: E402
from jsonschema.validators import Draft202012Validator, extend, validator_for  # noqa: E402

__all__ = [
    "Draft202012Validator",
    "ValidationError",
    "Validator",
    "best_match",
    "extend",
    "validator_for",
]
