"""A model's ``request_schema`` and the inputs checked against it.

- ``inputs``: the one entry point: coercion, validation and the seed of one call's inputs.
- ``rules``: every rule a schema states, compiled once per schema (``jsonschema`` underneath).
- ``coerce``: values by a property's declared ``type`` (the catalogue writes some as strings).
- ``jsonschema``: the validator classes, without ``jsonschema``'s costly format checkers.
- ``jsonsafe``: what JSON can carry, and why a value cannot be sent.
- ``category``: what kind of model a catalogue entry is (the list carries no category).
- ``media``: what a file input takes (paths, bytes, images, URLs) and how it is uploaded.
- ``lora``: the one table of which model loads which trainer's LoRAs, ``Lora``, and ``loras``
  inputs (API.md, "LoRA training").
- ``trainset``: a training set zipped to fit the upload limit (images scaled down).

Imports: the package's ``_exceptions`` only. ``inputs`` calls the helpers below it, which never
call back up into it; ``media`` imports nothing of the package.
"""
