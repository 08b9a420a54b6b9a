"""How results look in a notebook: pure presentation, no network and no event loop.

- ``render``: a ``Generation`` and ``Results`` as HTML and text, thumbnails, captions, colours.
- ``thumbs``: the one function that makes every view's preview of a picture.
- ``card``: the live card of one prediction (status, bar, time left, Cancel).
- ``tiles``: a cell's live cards laid out like the result that replaces them.
- ``sheet``: a grid as one labelled PNG with A1111's ``parameters`` text (``Results.sheet``).
- ``tables``: HTML and text tables (models, a schema's inputs, history, settings).
- ``cellsyntax``: the text of a ``%%eachgen`` cell, shared by the magic and the panel's Copy.
- ``markup``: HTML outputs shown as written (no math typesetting of ``$`` amounts).

Imports: the package's ``_exceptions``, ``_schema`` and ``_journal``. This wing stands below
``_generation`` and ``_service``, so a ``Generation`` (which the client makes) draws itself;
what runs predictions in a cell is ``_notebook``, above the service.
"""
