"""Where the journal lives when the folder meant for it cannot be written.

A read-only container, ``HOME=/nonexistent`` (a service user), a home that is a file, or a
shared JupyterHub image whose home belongs to someone else: the folder
:func:`~.._settings.home` names cannot be made or written. The journal is a help, not a
requirement, so it moves to the first of these that can be written, in this order:

1. ``EACHLABS_HOME``, or the platform's user data dir when it is not set (the wanted place);
2. the platform's user data dir (when ``EACHLABS_HOME`` was set and cannot be written);
3. ``$XDG_RUNTIME_DIR/eachlabs-widgets`` (private to the user; emptied at logout: not kept);
4. ``eachlabs-widgets-<user>`` in the system's temporary folder (made private to the user and
   checked to be ours; not kept);
5. a new private temporary folder for this process (not kept).

The choice is made once per wanted place and process (so changing the working folder or a
file appearing later does not move the journal mid-session); :func:`journal_place` with
``make=False`` answers without creating anything (for ``doctor()``).
"""

from __future__ import annotations

import contextlib
import getpass
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .. import _settings
from .store import JournalError

__all__ = ["JOURNAL_NAME", "Place", "journal_place"]

JOURNAL_NAME = "journal.sqlite3"
APP = "eachlabs-widgets"


@dataclass(frozen=True)
class Place:
    """Where the journal is: ``folder``; where it was meant to be: ``wanted``, set by
    ``wanted_by`` (``EACHLABS_HOME`` or the platform's user data dir); ``origin`` says which
    fallback ``folder`` is, ``kept`` whether it survives a restart, ``why`` why ``wanted``
    could not be used (None when ``folder`` is ``wanted``)."""

    folder: Path
    wanted: Path
    wanted_by: str
    origin: str
    kept: bool
    why: str | None = None

    @property
    def moved(self) -> bool:
        return self.why is not None

    @property
    def journal(self) -> Path:
        return self.folder / JOURNAL_NAME

    def explain(self) -> str:
        """One sentence for a warning or the doctor: where, why, and whether it is kept."""
        if not self.moved:
            return f"{self.folder} ({self.wanted_by})"
        keep = (
            "kept"
            if self.kept
            else "not kept: what it records is lost at logout or restart; set EACHLABS_HOME "
            "to a writable folder to keep it"
        )
        return (
            f"{self.wanted} ({self.wanted_by}) cannot be written ({self.why}); the journal is "
            f"in {self.folder} instead ({self.origin}), {keep}"
        )


def _platform_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP, appauthor=False))


def _why(exc: OSError) -> str:
    where = f": {exc.filename}" if exc.filename else ""
    return f"{exc.strerror or exc or type(exc).__name__}{where}"


def _check(folder: Path, make: bool) -> str | None:
    """Why ``folder`` cannot hold the journal, or None when it can. With ``make`` it is
    created and probed with a file; without, only looked at."""
    journal = folder / JOURNAL_NAME
    if not folder.is_absolute():
        # "~" left as is: no HOME and no passwd entry (a container run as an arbitrary uid);
        # it would land in whatever the working folder is
        return f"no home folder: {folder} is not a full path (is HOME set?)"
    if make:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder, prefix=".probe-"):
                pass
        except OSError as exc:
            return _why(exc)
    elif folder.exists() and not folder.is_dir():
        return f"Not a directory: {folder}"
    elif not folder.exists():
        parent = next((p for p in folder.parents if p.exists()), None)
        if parent is None or not parent.is_dir():
            return f"Not a directory: {parent}"
        if not os.access(parent, os.W_OK | os.X_OK):
            return f"Permission denied: {parent}"
        return None
    elif not os.access(folder, os.W_OK | os.X_OK):
        return f"Permission denied: {folder}"
    if journal.exists() and not os.access(journal, os.R_OK | os.W_OK):
        return f"Permission denied: {journal}"
    return None


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name (a uid without a passwd entry, as in some containers)
        return str(os.getuid()) if hasattr(os, "getuid") else "user"


def _private_temp(make: bool) -> Path | None:
    """``<tmp>/eachlabs-widgets-<user>``, if it is (or can be made) a folder of ours that no one
    else can write: another user could otherwise plant it first."""
    try:
        folder = Path(tempfile.gettempdir()) / f"{APP}-{_user()}"
        if not make:
            return folder
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode):
        return None
    if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & 0o022):
        return None
    return folder


def _candidates(make: bool) -> list[tuple[Path, str, bool]]:
    """(folder, origin, kept) in the order tried after the wanted place."""
    found: list[tuple[Path, str, bool]] = []
    if os.environ.get("EACHLABS_HOME"):
        with contextlib.suppress(Exception):  # no home folder either: the next place
            found.append((_platform_dir(), "the platform's user data dir", True))
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        found.append((Path(runtime) / APP, "$XDG_RUNTIME_DIR", False))
    temp = _private_temp(make)
    if temp is not None:
        found.append((temp, "a temporary folder", False))
    return found


_chosen: dict[Path, Place] = {}


def journal_place(*, make: bool = True) -> Place:
    """Where the journal is (see the module's docstring for the order). With ``make`` the
    folder is created and the choice kept for the process; without, nothing is created and a
    choice not made yet is only foreseen."""
    try:
        wanted, why = _settings.home(), None
    except Exception as exc:  # platformdirs finds no home folder (no HOME, no passwd entry)
        wanted, why = Path("~", APP), f"no home folder: {exc}"
    known = _chosen.get(wanted)
    if known is not None:
        return known
    wanted_by = "EACHLABS_HOME" if os.environ.get("EACHLABS_HOME") else "the default"
    why = why or _check(wanted, make)
    if why is None:
        place = Place(wanted, wanted, wanted_by, wanted_by, True)
    else:
        place = _fallback(wanted, wanted_by, why, make)
    if make:
        _chosen[wanted] = place
    return place


def _fallback(wanted: Path, wanted_by: str, why: str, make: bool) -> Place:
    for folder, origin, kept in _candidates(make):
        if folder != wanted and _check(folder, make) is None:
            return Place(folder, wanted, wanted_by, origin, kept, why)
    try:
        if make:
            folder = Path(tempfile.mkdtemp(prefix=f"{APP}-"))
        else:
            folder = Path(tempfile.gettempdir()) / f"{APP}-XXXXXXXX"
            problem = _check(folder, make=False)
            if problem is not None:
                raise OSError(problem)
    except OSError as exc:  # not even a temporary folder can be written: nowhere to keep it
        raise JournalError(
            f"the journal cannot be kept anywhere: {wanted} ({wanted_by}) cannot be written "
            f"({why}), nor any fallback ({_why(exc)}); set EACHLABS_HOME to a writable folder",
            path=wanted / JOURNAL_NAME,
        ) from None
    return Place(folder, wanted, wanted_by, "a temporary folder of this process", False, why)
