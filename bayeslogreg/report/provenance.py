"""Where a result came from: package versions, a hash of the data, the seeds."""

import hashlib
import platform
from importlib import metadata

import numpy as np

__all__ = ["data_hash", "provenance", "versions"]

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
    """SHA-256 (hex) of the arrays' shapes, dtypes and bytes, in C order."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.shape}{array.dtype.str}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def provenance(X, y, *, seeds: dict) -> dict:
    """Versions, the SHA-256 of the test data ``(X, y)`` and the seeds, as plain values."""
    return {"versions": versions(), "test_data_sha256": data_hash(X, y), "seeds": dict(seeds)}
