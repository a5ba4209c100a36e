"""Atomic file writes: readers see the old file or the new one, never half of one.

The content goes to a temporary file in the target's folder (so the final rename stays
on one file system), is flushed and fsynced, and then replaces the target with
``os.replace``. On any failure the temporary file is removed and the old file is left
as it was. Imports nothing from the package, so every layer may use it.
"""

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_write_text"]


def atomic_write(path, write: Callable[[Path], object]) -> Path:
    """Let ``write`` create the file at a temporary path, then move it to ``path``.

    Parameters
    ----------
    path : str or Path
        Target; parent folders are created.
    write : callable
        Called with the temporary path (an empty file, in the same folder as ``path``);
        it must write the whole content there, by name (e.g. a NetCDF writer).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        write(Path(tmp))
        # Opened for writing: Windows flushes only writable handles.
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    """Return the process umask (mkstemp makes files 0600; results should be readable)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`); return ``path``."""
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_write`)."""
    return atomic_write_bytes(path, text.encode("utf-8"))
