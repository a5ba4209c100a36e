"""Atomic writes of files and folders: readers see the old content or the new, never a mix.

A file's content goes to a temporary file ``.{name}.{8 random characters}.tmp`` in the
target's folder (so the final rename stays on one file system), is flushed and fsynced,
and then replaces the target with ``os.replace``. A folder (:func:`atomic_folder`) is
filled as a temporary sibling folder of the same name pattern, which then takes the
target's place as a whole.

On a failure the temporary file or folder is removed, the old one is left as it was, and
the error is one ``OSError`` that names the target and the cause (e.g. "No space left on
device"). A writer that is killed (``kill -9``, a crash) cannot remove its temporary; the
next write to the same target does (:func:`remove_leftovers`). While a writer runs it
holds an advisory lock (``flock``) on its temporary, so that only the leftovers of writers
that are gone are removed, never the file of one still writing.

Imports nothing from the package, so every layer may use it.
"""

import contextlib
import ctypes
import errno
import functools
import os
import re
import secrets
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks
    fcntl = None

__all__ = [
    "atomic_folder",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "remove_leftovers",
    "write_file",
]

#: Bytes per ``os.write`` call: a large buffer is written in pieces, without copies.
WRITE_CHUNK_BYTES = 1 << 24
#: Where locks are not available (Windows), a leftover counts as abandoned only once it
#: has not changed for this long (seconds): no writer of this package takes an hour.
UNLOCKED_LEFTOVER_AGE_S = 3600.0
# The random part that tempfile puts between prefix and suffix.
_RANDOM_PART = "[a-z0-9_]{8}"


def atomic_write(path, write: Callable[[Path], object]) -> Path:
    """Let ``write`` create the file at a temporary path, then move it to ``path``.

    Parameters
    ----------
    path : str or Path
        Target; parent folders are created.
    write : callable
        Called with the temporary path (an empty file, in the same folder as ``path``);
        it must write the whole content into that file, by name. Opening it for
        writing (truncating it) is fine; replacing or locking it is not, and HDF5 locks
        the files it opens: make HDF5 files in memory (as ``Posterior.save`` does).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OSError
        Naming ``path`` and the cause, if the file cannot be written; the old file is
        left as it was and no temporary file is left behind.
    """
    return _atomic_file(Path(path), lambda tmp, fd: write(tmp))


def atomic_write_bytes(path, data) -> Path:
    """Write ``data`` (bytes or a buffer) to ``path`` atomically (see :func:`atomic_write`).

    A large buffer (e.g. a ``memoryview``) is written in pieces of
    :data:`WRITE_CHUNK_BYTES`, without copying it.
    """
    return _atomic_file(Path(path), lambda tmp, fd: _write_all(fd, data))


def atomic_write_text(path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_write`)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def write_file(path, data) -> Path:
    """Create the file ``path`` with ``data``, flushed to disk; not atomic.

    For files inside a folder that no reader sees yet, e.g. the one that
    :func:`atomic_folder` yields. Fails if ``path`` exists.
    """
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


@contextlib.contextmanager
def atomic_folder(path) -> Iterator[Path]:
    """Write a folder as a whole: fill the empty folder this yields; it then becomes ``path``.

    The yielded folder is a temporary sibling of ``path``. When the ``with`` block ends
    without an exception, it takes the place of ``path`` in one step where the system
    can (Linux ``renameat2(RENAME_EXCHANGE)``): at every instant a reader finds at
    ``path`` either the old folder or the new one, complete. Elsewhere the old folder
    is first renamed aside, so that for a moment there is no folder at ``path``, but
    never a mix. The old folder is then deleted.

    If the block raises, or the swap fails, the temporary folder is deleted and the old
    one is left as it was; an ``OSError`` is raised again as one naming ``path``.

    Examples
    --------
    >>> with atomic_folder("report") as folder:  # doctest: +SKIP
    ...     write_file(folder / "index.html", b"<p>hello</p>")
    """
    path = Path(os.path.realpath(path))  # a link to a folder: replace the folder
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(path)
        staging, fd = _create_locked(path, folder=True)
    except OSError as exc:
        raise _save_error(path, exc, kind="folder") from None
    try:
        try:
            os.chmod(staging, 0o777 & ~_umask())
            yield staging
            _swap_in(staging, path)
        except BaseException as exc:
            _discard(staging)
            if isinstance(exc, OSError):
                raise _save_error(path, exc, kind="folder") from None
            raise
    finally:
        if fd is not None:
            os.close(fd)
    _discard(staging)  # now the old folder, if there was one


def remove_leftovers(path) -> list[Path]:
    """Delete the temporaries that killed writers of ``path`` left beside it.

    Only entries named exactly ``.{name}.{8 random characters}.tmp`` (files or
    folders; never links) in the folder of ``path`` are candidates, and of those only
    the ones whose writer is gone: a running writer holds a lock on its temporary.
    Entries that cannot be examined or removed are left alone.

    Returns
    -------
    list of Path
        The entries removed.
    """
    path = Path(path)
    pattern = re.compile(re.escape(f".{path.name}.") + _RANDOM_PART + re.escape(".tmp"))
    try:
        with os.scandir(path.parent) as entries:
            names = [entry.name for entry in entries if pattern.fullmatch(entry.name)]
    except OSError:
        return []
    return [path.parent / name for name in names if _remove_if_abandoned(path.parent / name)]


# ----------------------------------------------------------------------------- internals


def _save_error(path, exc: OSError, *, kind: str = "file") -> OSError:
    """Make the one error of a failed save: it names ``path`` and the cause.

    It keeps the errno, so ``OSError(errno, ...)`` is the matching subclass
    (``PermissionError`` for EACCES and so on).
    """
    cause = exc.strerror or str(exc)
    message = f"could not save {path}: {cause}; an earlier {kind} there is left as it was."
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        message += " Free some space on that disk, or save somewhere else."
    return OSError(exc.errno, message) if exc.errno is not None else OSError(message)


def _atomic_file(path: Path, fill: Callable[[Path, int], object]) -> Path:
    """Create a locked temporary beside ``path``, ``fill(tmp, fd)`` it, fsync, rename."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(path)
        tmp, fd = _create_locked(path, folder=False)
    except OSError as exc:
        raise _save_error(path, exc) from None
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        fill(tmp, fd)
        # fd was opened for writing: Windows flushes only writable handles.
        os.fsync(fd)
        if fcntl is None:  # Windows cannot rename a file that is open (and holds no lock)
            os.close(fd)
            fd = None
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _save_error(path, exc) from None
        raise
    finally:
        if fd is not None:
            os.close(fd)
    return path


def _write_all(fd: int, data) -> None:
    view = memoryview(data).cast("B")
    while view:
        view = view[os.write(fd, view[:WRITE_CHUNK_BYTES]) :]


def _create_locked(path: Path, *, folder: bool) -> tuple[Path, int | None]:
    """Make an empty temporary file or folder beside ``path``, locked while it is open.

    Returns its path and an open descriptor that holds the lock (None for a folder on
    Windows, which cannot open folders). Closing the descriptor, or the process ending
    in any way, releases the lock.
    """
    options = {"dir": path.parent, "prefix": f".{path.name}.", "suffix": ".tmp"}
    while True:
        if folder:
            tmp = tempfile.mkdtemp(**options)
            if fcntl is None:
                return Path(tmp), None
            fd = os.open(tmp, os.O_RDONLY)
        else:
            fd, tmp = tempfile.mkstemp(**options)
        if fcntl is not None:
            with contextlib.suppress(OSError):  # a file system without locks: go unlocked
                fcntl.flock(fd, fcntl.LOCK_EX)
        # Another writer's cleanup may have removed it in the instant before the lock.
        if _is_same(tmp, fd):
            return Path(tmp), fd
        os.close(fd)


def _is_same(path, fd: int) -> bool:
    """Whether ``path`` still names the file or folder open as ``fd``."""
    try:
        named, held = os.lstat(path), os.fstat(fd)
    except OSError:
        return False
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


def _remove_if_abandoned(leftover: Path) -> bool:
    """Remove a leftover file or folder if no writer holds it; say whether it was removed."""
    try:
        info = os.lstat(leftover)
        if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
            return False
        if fcntl is None:
            if time.time() - info.st_mtime < UNLOCKED_LEFTOVER_AGE_S:
                return False
            return _discard(leftover)
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        fd = os.open(leftover, flags)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails while its writer lives
        return _is_same(leftover, fd) and _discard(leftover)
    except OSError:
        return False
    finally:
        os.close(fd)


def _discard(entry: Path) -> bool:
    """Delete a file or folder tree, as far as possible; say whether it is gone."""
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            entry.unlink(missing_ok=True)
    return not os.path.lexists(entry)


def _swap_in(staging: Path, path: Path) -> None:
    """Put the folder ``staging`` at ``path``; the old one ends at ``staging``, or is gone."""
    try:
        os.rename(staging, path)  # no folder at path yet, or an empty one
        return
    except OSError as exc:
        if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY) or not path.is_dir():
            raise
    if _exchange(staging, path):
        return
    # No atomic exchange here: the old folder goes aside (locked, so that no cleanup takes
    # it), then the new one in. Between the two renames there is no folder at path.
    aside = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
    old_fd = None if fcntl is None else os.open(path, os.O_RDONLY)
    try:
        if old_fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(old_fd, fcntl.LOCK_EX)
        os.rename(path, aside)
        try:
            os.rename(staging, path)
        except BaseException:
            os.rename(aside, path)
            raise
        _discard(aside)
    finally:
        if old_fd is not None:
            os.close(old_fd)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step; False where the system or file system cannot."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    at_cwd, rename_exchange = -100, 2  # AT_FDCWD, RENAME_EXCHANGE from <fcntl.h>, <stdio.h>
    if renameat2(at_cwd, os.fsencode(a), at_cwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code))


@functools.cache
def _renameat2():
    """Return the C library's renameat2 (Linux 3.15+, glibc 2.28+), or None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None
    path_at = [ctypes.c_int, ctypes.c_char_p]
    function.argtypes = [*path_at, *path_at, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def _umask() -> int:
    """Return the process umask (mkstemp makes files 0600; results should be readable)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask
