"""The same seed gives the same numbers, bit for bit; results say where they came from.

Equality here is ``np.array_equal`` / exact frame equality, never a tolerance: a rerun
with the same seed, data and versions must repeat every floating-point operation.
Only wall-clock timings (``fit_time`` and ``ess_per_second``) may differ.
"""

import hashlib
import json
import platform
import warnings
from importlib import metadata

import numpy as np
import pandas as pd
import pytest

import bayeslogreg as blr
from bayeslogreg import ConvergenceWarning, fit_map, fit_mle, sample_posterior
from bayeslogreg.datasets import simulate, train_test_split
from bayeslogreg.diagnostics import posterior_predictive_check, predictive_metrics
from bayeslogreg.metrics import auc_ci
from bayeslogreg.report.provenance import data_hash
from bayeslogreg.solvers import SGD

# Same shape and settings as in test_numerics.py, so that a joint run compiles once.
DATA = simulate(400, [1.0, -0.7, 0.5], intercept=0.3, seed=5)
# Short stochastic runs: reproducibility does not need convergence.
SETTINGS = {
    "newton": "newton",
    "lbfgs": "lbfgs",
    "gd": "gd",
    "sgd": SGD(epochs=1),
    "minibatch": SGD(batch_size=32, epochs=1),
}
TIMINGS = ["fit_time", "ess_per_second"]


def quietly(func, *args, **kwargs):
    """Call ``func``; short runs may not converge, which is not what is tested here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return func(*args, **kwargs)


def assert_same_point_estimate(a, b):
    for field in ("params", "cov", "history"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    for field in ("log_likelihood", "log_posterior", "grad_norm", "n_iter", "n_passes", "seed"):
        assert getattr(a, field) == getattr(b, field), field


@pytest.mark.parametrize("fit", [fit_mle, fit_map])
@pytest.mark.parametrize("method", list(SETTINGS))
def test_point_fits_repeat_bit_for_bit(fit, method):
    kwargs = {"solver": SETTINGS[method], "seed": 11}
    first, second = (quietly(fit, DATA.X, DATA.y, **kwargs) for _ in range(2))
    assert_same_point_estimate(first, second)
    assert first.seed == 11
    if method in ("sgd", "minibatch"):
        # The seed drives the row shuffling: another seed, another path.
        other = quietly(fit, DATA.X, DATA.y, **{**kwargs, "seed": 12})
        assert not np.array_equal(other.params, first.params)


# --- The whole pipeline: fits, NUTS, comparison on held-out data --------------------------

TEST = simulate(200, [1.0, -0.7, 0.5], intercept=0.3, seed=6)
NUTS = {"num_chains": 2, "num_warmup": 100, "num_samples": 100}


def pipeline(seed: int) -> dict:
    fits = {
        "MLE": fit_mle(DATA.X, DATA.y, seed=seed),
        "MAP": fit_map(DATA.X, DATA.y, seed=seed),
        "posterior": quietly(sample_posterior, DATA.X, DATA.y, seed=seed, **NUTS),
    }
    return {"fits": fits, "comparison": blr.compare(fits, TEST.X, TEST.y)}


@pytest.fixture(scope="module")
def runs():
    """The pipeline twice with seed 3 (NUTS compiles anew on each run: ~5-10 s each)."""
    return pipeline(3), pipeline(3)


def test_same_seed_gives_the_same_split():
    first, second = (train_test_split(DATA.X, DATA.y, seed=2) for _ in range(2))
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    other = train_test_split(DATA.X, DATA.y, seed=1)
    assert not np.array_equal(other[0], first[0])


def test_same_seed_gives_the_same_posterior_draws(runs):
    # That another seed gives other draws is checked in estimators/test_nuts.py
    # (a third NUTS run here would cost another ~6 s of compilation).
    first, second = runs
    a, b = first["fits"]["posterior"], second["fits"]["posterior"]
    np.testing.assert_array_equal(a.draws, b.draws)
    assert a.num_divergences == b.num_divergences
    pd.testing.assert_frame_equal(a.summary(), b.summary(), check_exact=True)
    for group in ("sample_stats", "log_likelihood"):
        for name, values in a.idata[group].items():
            np.testing.assert_array_equal(values.values, b.idata[group][name].values)


def test_comparison_tables_repeat_bit_for_bit(runs):
    a, b = (run["comparison"] for run in runs)
    pd.testing.assert_frame_equal(
        a.metrics.drop(columns=TIMINGS), b.metrics.drop(columns=TIMINGS), check_exact=True
    )
    pd.testing.assert_frame_equal(a.coefficients, b.coefficients, check_exact=True)
    pd.testing.assert_frame_equal(a.tests, b.tests, check_exact=True)
    timings = ["fit_time", "time_ratio"]
    pd.testing.assert_frame_equal(
        a.approximations.drop(columns=timings),
        b.approximations.drop(columns=timings),
        check_exact=True,
    )
    pd.testing.assert_frame_equal(a.predictions(), b.predictions(), check_exact=True)
    pd.testing.assert_frame_equal(a.posterior_metrics(), b.posterior_metrics(), check_exact=True)
    assert a.findings() == b.findings()


def without_timings(comparison) -> str:
    payload = comparison.to_dict()
    for row in payload["metrics"]:
        for column in TIMINGS:
            del row[column]
    for row in payload["approximations"]:
        del row["fit_time"], row["time_ratio"]
    return json.dumps(payload, indent=2, allow_nan=False)


def test_comparison_json_repeats_except_timings(runs):
    a, b = (run["comparison"] for run in runs)
    assert without_timings(a) == without_timings(b)
    # Timings are the only difference allowed, and they are in the JSON.
    assert all("fit_time" in row for row in json.loads(a.to_json())["metrics"])


def test_seeded_diagnostics_repeat_and_depend_on_the_seed(runs):
    first, _ = runs
    X_test, y_test = TEST.X, TEST.y
    draws = [run["fits"]["posterior"].flat_draws for run in runs]
    pd.testing.assert_frame_equal(
        predictive_metrics(draws[0], X_test, y_test),
        predictive_metrics(draws[1], X_test, y_test),
        check_exact=True,
    )
    checks = [posterior_predictive_check(d, X_test, y_test, seed=5) for d in draws]
    np.testing.assert_array_equal(
        checks[0].replicated_bin_positives, checks[1].replicated_bin_positives
    )
    other = posterior_predictive_check(draws[0], X_test, y_test, seed=6)
    assert not np.array_equal(other.replicated_bin_positives, checks[0].replicated_bin_positives)

    prob = first["comparison"].predictions()["posterior"].to_numpy()
    intervals = [
        auc_ci(y_test, prob, method="bootstrap", n_bootstrap=500, seed=seed) for seed in (8, 8, 9)
    ]
    assert intervals[0] == intervals[1]  # every field, exactly
    assert (intervals[0].lower, intervals[0].upper) != (intervals[2].lower, intervals[2].upper)


# --- Provenance ---------------------------------------------------------------------------


def test_comparison_records_versions_seeds_and_the_data_hash(runs):
    first, second = runs
    provenance = first["comparison"].provenance
    assert provenance == second["comparison"].provenance
    versions = provenance["versions"]
    assert versions["python"] == platform.python_version()
    for package in ("bayeslogreg", "jax", "numpyro", "arviz", "numpy", "optax"):
        assert versions[package] == metadata.version(package)
    assert provenance["seeds"] == {"MLE": 3, "MAP": 3, "posterior": 3}
    # The SHA-256 of the test data as the comparison holds it (float64 X and 0/1 y),
    # recomputed here from the documented recipe: shape, dtype, then the C-order bytes.
    digest = hashlib.sha256()
    for array in (TEST.X, TEST.y.astype(np.float64)):
        digest.update(f"{array.shape}{array.dtype.str}".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    assert provenance["test_data_sha256"] == digest.hexdigest()
    assert json.loads(first["comparison"].to_json())["provenance"] == provenance


def test_point_and_posterior_results_record_seed_versions_and_data_hash(runs):
    train_hash = data_hash(DATA.X, DATA.y.astype(np.float64))
    for name, fit in runs[0]["fits"].items():
        assert fit.seed == 3, name
        assert fit.data_sha256 == train_hash, name
        assert fit.versions == runs[0]["comparison"].provenance["versions"], name
    fit_hashes = runs[0]["comparison"].provenance["fit_data_sha256"]
    assert fit_hashes == {"MLE": train_hash, "MAP": train_hash, "posterior": train_hash}


def test_data_hash_changes_with_any_value_and_with_the_dtype():
    X, y = TEST.X, TEST.y.astype(np.float64)
    reference = data_hash(X, y)
    assert data_hash(X.copy(), y.copy()) == reference
    assert data_hash(np.asfortranarray(X), y) == reference  # layout does not matter
    flipped = y.copy()
    flipped[0] = 1 - flipped[0]
    nudged = X.copy()
    nudged[5, 1] = np.nextafter(nudged[5, 1], np.inf)
    others = {
        data_hash(X, flipped),
        data_hash(nudged, y),
        data_hash(X.astype(np.float32), y),
        data_hash(X[:-1], y[:-1]),
        data_hash(X.reshape(-1, 1), y),
    }
    assert reference not in others and len(others) == 5
