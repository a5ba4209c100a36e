"""Where a comparison came from: package versions, hashes of the data, the seeds."""

from bayeslogreg._provenance import data_hash, versions

__all__ = ["data_hash", "provenance", "versions"]


def provenance(X, y, *rows, estimates: dict) -> dict:
    """Versions, hashes and seeds of a comparison, as plain values.

    The SHA-256 of the test data ``(X, y)`` and the per-row ``rows`` given with them
    (weights, offsets), and per estimator (name -> result in
    ``estimates``) its seed and the SHA-256 of the data it was fitted on.
    """
    return {
        "versions": versions(),
        "test_data_sha256": data_hash(X, y, *rows),
        "seeds": {name: e.seed for name, e in estimates.items()},
        "fit_data_sha256": {name: e.data_sha256 for name, e in estimates.items()},
    }
