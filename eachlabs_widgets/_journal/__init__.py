"""What is kept: the journal of every prediction, and the output files on disk.

- ``journal``: ``Journal`` and ``JournalEntry``: a row per prediction, written when it is
  created and updated as it ends.
- ``store``: the SQLite file itself: its thread, locking, schema and recovery from damage.
- ``ticket``: a waitable handle on a write that runs on the store's thread.
- ``files``: output files and their ``.json`` sidecars: names that never collide, atomic writes.
- ``place``: where the journal lives when the folder meant for it cannot be written.
- ``metadata``: A1111's ``parameters`` text (and the EXIF block that carries it), other tools
  read it from our images.
- ``readers``: a picture's settings read back: ours, A1111, ComfyUI, InvokeAI.
- ``search``: the FTS5 index of prompts, kept in step by triggers; ``marks``: stars and tags;
  ``lineage``: the run each run was made from (``parent``) and the chain back to the root.

Imports: the package's ``_exceptions`` and ``_settings``, and ``_schema`` (a file's type).
"""
