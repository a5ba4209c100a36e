"""The chunked Newton path for large data, forced onto small data by its module constants."""

import warnings

import numpy as np
import pytest
import statsmodels.api as sm

from bayeslogreg import fit_map, fit_mle
from bayeslogreg._jax import float64
from bayeslogreg._provenance import data_hash
from bayeslogreg._validation import check_X, check_y
from bayeslogreg.datasets import simulate
from bayeslogreg.estimators import _chunked
from bayeslogreg.estimators._newton import minimize_on_host
from bayeslogreg.estimators._objective import HostObjective, parameter_scale
from bayeslogreg.estimators._optimizer import CONVERGED
from bayeslogreg.exceptions import SeparationWarning
from bayeslogreg.priors import Cauchy, Flat, Laplace, Normal
from bayeslogreg.solvers import Newton


@pytest.fixture(scope="module")
def data():
    """3000 rows (several 700-row chunks and a remainder), features in mixed units."""
    sim = simulate(3000, [1.0, -0.5, 0.25, 0.0], intercept=0.3, seed=3)
    return sim.X * np.array([1.0, 100.0, 0.01, 3.0]), sim.y


@pytest.fixture
def chunked(monkeypatch):
    """Send every Newton fit down the chunked path, 700 rows per chunk."""
    monkeypatch.setattr(_chunked, "MIN_ROWS", 1)
    monkeypatch.setattr(_chunked, "CHUNK_ROWS", 700)


PRIORS = [
    ("mle", {}),
    ("map", {"prior": Laplace(0, 0.05)}),
    ("map", {"prior": Cauchy(0, 1), "intercept_prior": Flat()}),
]


def _fit(estimator, X, y, kwargs):
    return (fit_mle if estimator == "mle" else fit_map)(X, y, **kwargs)


@pytest.mark.parametrize(("estimator", "kwargs"), PRIORS)
def test_chunked_path_equals_in_memory_path(data, estimator, kwargs, monkeypatch):
    X, y = data
    reference = _fit(estimator, X, y, kwargs)
    monkeypatch.setattr(_chunked, "MIN_ROWS", 1)
    monkeypatch.setattr(_chunked, "CHUNK_ROWS", 700)
    fit = _fit(estimator, X, y, kwargs)
    # Same iteration on the same objective; only the order of the row sums differs
    # (chunks of 700 rows against blocks of ~36k), which moves results by ~1e-15.
    assert fit.converged and reference.converged
    np.testing.assert_allclose(fit.params, reference.params, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fit.cov, reference.cov, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(fit.history, reference.history, rtol=1e-12)
    assert fit.log_likelihood == pytest.approx(reference.log_likelihood, rel=1e-12)
    assert (fit.n_iter, fit.n_passes) == (reference.n_iter, reference.n_passes)
    assert fit.grad_norm == pytest.approx(reference.grad_norm, rel=1e-4, abs=1e-12)
    assert fit.data_sha256 == reference.data_sha256


def test_chunked_mle_matches_statsmodels(data, chunked):
    X, y = data
    fit = fit_mle(X, y)
    reference = sm.Logit(y, sm.add_constant(X)).fit(method="newton", tol=1e-14, disp=0)
    # As in test_point: both stop ~1e-8 from the exact optimum.
    np.testing.assert_allclose(fit.params, reference.params, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(fit.stderr, reference.bse, rtol=1e-5)
    assert fit.log_likelihood == pytest.approx(reference.llf, rel=1e-12)


def test_float32_data_agree_with_float64_fit(data, chunked):
    X, y = data
    X32 = X.astype(np.float32)
    fit32 = fit_mle(X32, y)
    # Accumulated in float64, so the only difference is the data's own rounding: the
    # optimum of the float32-rounded X differs by ~(relative rounding 6e-8) x (condition).
    fit64 = fit_mle(X32.astype(np.float64), y)
    np.testing.assert_allclose(fit32.params, fit64.params, rtol=1e-10, atol=1e-12)
    assert fit32.params.dtype == np.float64 and fit32.cov.dtype == np.float64
    original = fit_mle(X, y)
    np.testing.assert_allclose(fit32.params, original.params, rtol=1e-4, atol=1e-4)


def test_memmap_input_is_accepted(data, chunked, tmp_path):
    X, y = data
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    fit = fit_mle(mapped, y)
    np.testing.assert_array_equal(fit.params, fit_mle(X, y).params)
    assert fit.data_sha256 == data_hash(X, y.astype(np.float64))


def test_chunked_separation_and_iteration_limit(chunked):
    X = np.array([[-2.0], [-1.0], [-0.5], [0.5], [1.0], [2.0]])
    with pytest.warns(SeparationWarning):
        fit = fit_mle(X, [0, 0, 0, 1, 1, 1], solver=Newton(max_iter=5))
    assert not fit.converged and fit.n_iter == 5


def test_blocked_checks_equal_whole_array_checks(monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 3)) * [1e-3, 1.0, 1e3]
    expected = parameter_scale(X)
    monkeypatch.setattr("bayeslogreg.estimators._objective.SCALE_BLOCK_ROWS", 64)
    np.testing.assert_array_equal(parameter_scale(X), expected)
    monkeypatch.setattr("bayeslogreg._validation.FINITE_BLOCK_ROWS", 64)
    X[300, 2], X[700, 0], X[701, 1] = np.inf, np.nan, np.nan
    with pytest.raises(ValueError, match="in 3 rows; the first is inf at row 300, column 2"):
        check_X(X)
    np.testing.assert_array_equal(check_y([True, False, True]), [1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match=r"got values \[0, 2\]"):
        check_y([0, 2, 0])
    with pytest.raises(ValueError, match="only class 1"):
        check_y([1.0, 1.0])


def test_data_hash_reads_in_place():
    X = np.arange(12.0).reshape(3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        digest = data_hash(X, X.T, np.array([True, False]))
    assert digest == data_hash(X, np.ascontiguousarray(X.T), np.array([True, False]))
    assert digest != data_hash(X, X, np.array([True, False]))


@pytest.mark.parametrize(("estimator", "kwargs"), [("mle", {}), ("map", {"prior": Normal(0, 0.5)})])
def test_warm_start_from_a_subsample_reaches_the_same_optimum(data, chunked, estimator, kwargs):
    X, y = data
    hessian_passes = []  # over all rows (not the subsample's), per fit
    full_pass = _chunked.ChunkedData.loglik_grad_hess

    def counted(self, params):
        hessian_passes[-1] += len(self.X) == len(X)
        return full_pass(self, params)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_chunked.ChunkedData, "loglik_grad_hess", counted)
        hessian_passes.append(0)
        reference = _fit(estimator, X, y, {**kwargs, "init": np.zeros(X.shape[1] + 1)})
        patch.setattr(_chunked, "WARM_START_MIN_ROWS", 1)
        patch.setattr(_chunked, "WARM_START_ROWS", 1000)
        hessian_passes.append(0)
        fit = _fit(estimator, X, y, kwargs)
    # Both stop at a per-row gradient below 1e-8 of the same objective, so they agree to
    # ~1e-8 relative (the Hessian is well conditioned in unit-scale coordinates).
    assert fit.converged
    np.testing.assert_allclose(fit.params, reference.params, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(fit.stderr, reference.stderr, rtol=1e-6)
    # From the warm start, steps use the subsample's Hessian (BFGS-updated) and only the
    # last pass computes the full one, for the standard errors.
    assert hessian_passes[1] == 1 < hessian_passes[0]


@pytest.mark.parametrize("hess_factor", [1.3, 0.2])
def test_newton_from_a_poor_hessian_guess_reaches_the_exact_newton_optimum(data, hess_factor):
    # hess0 scaled by 1.3 (steps too short: BFGS repairs it) or by 0.2 (steps 5x too
    # long: the line search and then exact Hessians take over); both must end where
    # exact Newton ends, with the exact Hessian there.
    X, y = data
    chunks = _chunked.ChunkedData(X, y, 700)
    scale = parameter_scale(X)
    start = np.zeros(X.shape[1] + 1)
    objective = HostObjective(chunks, Flat(), Flat(), scale)
    with float64():
        exact, exact_hess = minimize_on_host(objective, start, 1e-10, 100)
        hess0 = -hess_factor * chunks.loglik_grad_hess(start)[2] / len(y)  # f = -loglik / n
        guessed, guessed_hess = minimize_on_host(objective, start, 1e-10, 100, hess0)
    assert guessed.status == exact.status == CONVERGED
    np.testing.assert_allclose(guessed.params, exact.params, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(guessed_hess, exact_hess, rtol=1e-8)
