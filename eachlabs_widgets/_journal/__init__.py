"""What is kept: the journal of every prediction, and the output files on disk.

- ``journal``: ``Journal`` and ``JournalEntry``: a row per prediction, written when it is
  created and updated as it ends.
- ``store``: the SQLite file itself: its thread, locking, schema and recovery from damage.
- ``ticket``: a waitable handle on a write that runs on the store's thread.
- ``files``: output files and their ``.json`` sidecars: names that never collide, atomic writes.
- ``place``: where the journal lives when the folder meant for it cannot be written.

Imports: the package's ``_exceptions`` and ``_settings``, and ``_schema`` (a file's type).
"""
