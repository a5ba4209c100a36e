import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

from bayeslogreg import log_likelihood
from bayeslogreg._jax import float64
from bayeslogreg.model import (
    log_likelihood_rows,
    log_likelihood_sum,
    log_likelihood_sum_feature_major,
    loglik_value_grad_hess,
)

mpmath.mp.dps = 50


def brute_force_row(eta: float, y: int) -> float:
    """log P(y | eta) = -log(1 + exp(-s eta)), s = 2y - 1, in 50-digit arithmetic."""
    sign = 1 if y == 1 else -1
    return float(-mpmath.log(1 + mpmath.exp(-sign * mpmath.mpf(eta))))


@pytest.mark.parametrize("eta", [30.0, -30.0, 700.0, -700.0, 1e4, -1e4, 0.0, 1e-3])
@pytest.mark.parametrize("label", [0, 1])
def test_per_row_log_likelihood_matches_high_precision(eta, label):
    with float64():
        value = float(
            log_likelihood_rows(jnp.array([eta, 0.0]), jnp.zeros((1, 1)), jnp.array([label]))[0]
        )
    expected = brute_force_row(eta, label)
    assert np.isfinite(value)
    # Relative 1e-14: log_sigmoid is accurate to a few ulps over the whole range, including
    # log P = -9.36e-14 at eta = 30, where y*eta - softplus(eta) would lose 4% to cancellation.
    assert value == pytest.approx(expected, rel=1e-14, abs=1e-300)


def test_total_log_likelihood_is_finite_at_extreme_linear_predictors():
    X = np.array([[1.0], [-1.0], [1.0], [-1.0]])
    y = np.array([1, 0, 0, 1])
    total = log_likelihood(X, y, 0.0, [1e4])
    assert np.isfinite(total)
    assert total == pytest.approx(2 * brute_force_row(-1e4, 1), rel=1e-14)


def test_log_likelihood_agrees_with_direct_formula(well_posed):
    X, y = well_posed.X, well_posed.y
    eta = 0.3 + X @ well_posed.coef
    p = 1 / (1 + np.exp(-eta))
    direct = np.sum(y * np.log(p) + (1 - y) * np.log1p(-p))
    assert log_likelihood(X, y, 0.3, well_posed.coef) == pytest.approx(direct, rel=1e-12)


def test_better_guess_has_higher_log_likelihood(well_posed):
    X, y = well_posed.X, well_posed.y
    assert log_likelihood(X, y, 0.3, well_posed.coef) > log_likelihood(X, y, 0.0, np.zeros(4))
    assert log_likelihood(X, y, 0.0, np.zeros(4)) == pytest.approx(len(y) * np.log(0.5))


def test_blocked_sums_equal_one_block(well_posed):
    X, y = well_posed.X, well_posed.y.astype(float)
    params = np.array([0.1, 0.5, -0.2, 0.3, 0.05])
    with float64():
        whole = loglik_value_grad_hess(params, X, y, block_rows=len(y))
        for block_rows in (300, 500):  # with and without a remainder block
            blocked = loglik_value_grad_hess(params, X, y, block_rows=block_rows)
            for a, b in zip(whole, blocked, strict=True):
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n_rows", [7, 5000])
def test_feature_major_value_and_gradient_equal_the_row_major_ones(n_rows):
    rng = np.random.default_rng(n_rows)
    # Margins up to |40|: both branches of the shared exp(-|m|), and tails near 0.
    X = rng.normal(size=(n_rows, 5)) * 8.0
    y = rng.integers(0, 2, n_rows)
    with float64():
        params = jnp.asarray(rng.normal(size=6))
        value, grad = jax.value_and_grad(log_likelihood_sum_feature_major)(
            params, jnp.asarray(X.T.copy()), jnp.asarray(2.0 * y - 1.0)
        )
        expected, expected_grad = jax.value_and_grad(log_likelihood_sum)(
            params, jnp.asarray(X), jnp.asarray(y)
        )
    # The same terms by other formulas and in another order: a few ulps per term.
    np.testing.assert_allclose(value, expected, rtol=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-11, atol=1e-10)


def test_gradient_and_hessian_match_finite_differences(well_posed):
    X, y = well_posed.X[:200], well_posed.y[:200].astype(float)
    params = np.array([0.1, 0.5, -0.2, 0.3, 0.05])
    with float64():
        value, grad, hess = loglik_value_grad_hess(jnp.asarray(params), X, y)
        f = jax.jit(lambda p: log_likelihood_sum(p, X, y))
        h = 1e-6
        basis = np.eye(len(params))
        fd_grad = np.array([(f(params + h * e) - f(params - h * e)) / (2 * h) for e in basis])
        g = jax.jit(jax.grad(lambda p: log_likelihood_sum(p, X, y)))
        fd_hess = np.array([(g(params + h * e) - g(params - h * e)) / (2 * h) for e in basis])
        direct = float(f(params))
    # Central differences with h = 1e-6 on values of size ~1e2 are good to ~1e-7.
    np.testing.assert_allclose(grad, fd_grad, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(hess, fd_hess, rtol=1e-6, atol=1e-6)
    assert float(value) == pytest.approx(direct, rel=1e-14)


def test_float32_data_are_accumulated_in_float64(well_posed):
    X64, y = well_posed.X, well_posed.y
    X32 = X64.astype(np.float32)
    coef = well_posed.coef
    reference = log_likelihood(X32.astype(np.float64), y, 0.3, coef)
    # Same float32 numbers, float64 arithmetic: only summation order may differ.
    assert log_likelihood(X32, y, 0.3, coef) == pytest.approx(reference, rel=1e-12)


def test_log_likelihood_rejects_bad_coefficients(well_posed):
    with pytest.raises(ValueError, match=r"coef must have shape \(4,\)"):
        log_likelihood(well_posed.X, well_posed.y, 0.0, [1.0, 2.0])
    with pytest.raises(ValueError, match="finite"):
        log_likelihood(well_posed.X, well_posed.y, np.nan, np.zeros(4))


def test_importing_does_not_switch_on_global_x64():
    import bayeslogreg  # noqa: F401

    assert jnp.ones(1).dtype == jnp.float32
