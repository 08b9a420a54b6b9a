"""``login()``: ask for the API key without echo and keep it in this process only.

In a notebook, ``getpass`` becomes a password prompt of the frontend (a kernel
``input_request`` with ``password: true``): what is typed travels on the stdin channel, never
into the cell's source or its outputs, so a saved notebook holds no trace of it. The key is
kept by :func:`configure` in this process's memory and forgotten when the kernel restarts.
"""

from __future__ import annotations

import getpass

from ._exceptions import ConfigurationError
from ._settings import Secret, configure

__all__ = ["login"]

PROMPT = "EachLabs API key (hidden; kept in this process only): "
NO_PROMPT = (
    "this frontend cannot ask for input (it runs the notebook without a person at it); set "
    "EACHLABS_API_KEY in the environment before starting Jupyter instead"
)


def _ask() -> Secret:
    """The key typed at a hidden prompt, stripped of surrounding blanks."""
    try:
        # looked up when called: a kernel replaces getpass.getpass with its own frontend prompt
        typed = getpass.getpass(PROMPT).strip()
    except EOFError:
        raise ConfigurationError(f"no key was typed: {NO_PROMPT}") from None
    except Exception as exc:
        if type(exc).__name__ == "StdinNotImplementedError":  # a kernel without stdin
            raise ConfigurationError(NO_PROMPT) from None
        raise
    try:
        return Secret(typed)
    except ConfigurationError as exc:  # says what is wrong without showing the key
        raise ConfigurationError(
            f"{exc} (a paste that went wrong?) Nothing changed; try again"
        ) from None


def login() -> None:
    """Ask for the EachLabs API key with a hidden prompt and use it for this process.

    The key is stripped of surrounding blanks, never echoed, and kept in memory only (as
    ``configure(api_key=…)`` does; it wins over ``EACHLABS_API_KEY``). When nothing is typed,
    the previous key (if any) stays.

    Raises :class:`ConfigurationError` when the frontend cannot ask (nbconvert, papermill,
    Voila: set ``EACHLABS_API_KEY`` before starting Jupyter there), or when the key holds a
    space or a control character inside (a paste that went wrong); the key is not shown.
    """
    secret = _ask()
    if not secret.reveal():
        print("No key typed; nothing changed.")
        return
    # _ask() has already refused a key with a space or a control character inside
    # (Secret checks every key, however it is given), without showing it.
    configure(api_key=secret.reveal())
    print("EachLabs API key set for this process (not saved anywhere; gone after a restart).")
