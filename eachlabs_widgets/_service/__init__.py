"""Talking to EachLabs: HTTP, retries, capacity, polling, downloads, and the clients.

- ``http``: the one place that does HTTP: the shared client per loop, redirects, error mapping.
- ``retry``: what is retried and how long to wait; ``coalesce``: one request for concurrent
  lookups; ``limiter``: call order and the in-flight ceiling learned from 429s; ``budget``:
  what creates may still spend (the session's budget, the batch's ``--max-cost``).
- ``polling``: the poll schedule and what each model's durations teach; ``status``: what a
  status word means; ``prediction``: a poll answer as a ``Prediction``; ``cancels``: what
  the service said of each cancel this process asked for.
- ``client``: ``AsyncEachLabs``, every endpoint and the create, wait, download flow;
  ``sync_client``: ``EachLabs``; ``sync``: running a coroutine from synchronous code.
- ``download``: output files streamed to disk under the size cap; ``warm``: the TLS context
  built in the background; ``trace``: a redacted record of a client's requests and answers.
- ``network``: the transport under every request: the proxy and CA certificates in force, read
  per request; ``proxies``: ``HTTP(S)_PROXY``/``ALL_PROXY``/``NO_PROXY`` as people write them;
  ``trust``: which CA certificates verify the service, and the error when they do not.
- ``uploads``: the files uploaded for a trainer, until they are deleted; upload progress.
- ``rerun``: the runner a client gives its ``Generation`` s (``vary``, ``remix``), and the hook
  through which the notebook wing shows those runs.

Imports: the package's ``_exceptions``, ``_settings``, ``_version``, ``_embedded`` (and the
``emulator`` it starts), ``_schema``, ``_journal`` and ``_generation``. Nothing here draws.
"""
