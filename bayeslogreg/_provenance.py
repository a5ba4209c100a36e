"""Where a result came from: installed versions and a hash of the data.

This module imports nothing from the package, so every layer can use it.
"""

import hashlib
import os
import platform
import sys
import threading
from importlib import metadata

import numpy as np

__all__ = ["ChunkedDataHash", "data_hash", "data_hash_in_background", "versions"]

_PACKAGES = ("bayeslogreg", "jax", "numpyro", "arviz", "numpy", "optax")


def versions() -> dict[str, str]:
    """Installed versions of Python and of the packages results depend on."""
    found = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def data_hash(*arrays) -> str:
    """SHA-256 (hex) of the arrays' shapes, dtypes and bytes, in C order.

    About 1.4 GB/s on one core of an ordinary x86-64 machine. The bytes are read in
    place (a memory map stays a memory map), never copied.
    """
    digest = ChunkedDataHash()
    for array in arrays:
        digest.start(array.shape, array.dtype)
        digest.update(array)
    return digest.hexdigest()


class ChunkedDataHash:
    """:func:`data_hash` fed one array after another, each in row chunks, in order.

    ``start(shape, dtype)`` before each array's chunks; the result equals
    ``data_hash`` of the whole arrays.
    """

    def __init__(self):
        self._digest = hashlib.sha256()

    def start(self, shape, dtype) -> None:
        """Begin an array of this shape and dtype."""
        self._digest.update(f"{tuple(shape)}{np.dtype(dtype).str}".encode())

    def update(self, chunk) -> None:
        """Add the next rows of the current array (its bytes in C order)."""
        chunk = np.ascontiguousarray(chunk)
        self._digest.update(memoryview(chunk.reshape(-1)).cast("B"))

    def hexdigest(self) -> str:
        """Return the SHA-256 so far, as 64 hexadecimal digits."""
        return self._digest.hexdigest()


def data_hash_in_background(*arrays) -> str:
    """:func:`data_hash`, at the lowest CPU priority, for a thread beside a fit.

    On Linux the calling thread is niced to 19 first, so the hash takes cycles the fit
    leaves idle instead of sharing the cores with it (``docs/design.md`` has the
    measurement). Use it only in a thread that ends with the fit (e.g. a one-worker pool
    per fit).
    """
    if sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        except OSError:  # not allowed here: hash at the inherited priority
            pass
    return data_hash(*arrays)
