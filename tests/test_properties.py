"""Properties that must hold on any data: Hypothesis draws the data.

Each test keeps array shapes fixed, so JAX compiles once per test and Hypothesis only
changes the numbers. The settings are deterministic (``derandomize``, no example
database) so that CI sees the same examples on every run.
"""

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from bayeslogreg import fit_map, fit_mle, log_likelihood
from bayeslogreg._jax import float64
from bayeslogreg.estimators._objective import Problem, smooth_value
from bayeslogreg.metrics import roc_auc
from bayeslogreg.model import log_likelihood_rows, log_likelihood_sum
from bayeslogreg.priors import Cauchy, Flat, Normal, StudentT
from bayeslogreg.solvers import Newton

# deadline=None: the first example of a test pays for JAX compilation.
CI = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# --- Data -------------------------------------------------------------------------------

N_RANDOM, N_FEATURES = 24, 2
# Three affinely independent rows (with the intercept), each present with both labels:
# any (intercept, coef) that separates the data must be 0 on all three, so it is 0, and
# the MLE exists and is unique whatever the other rows are.
ANCHORS = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])

features = hnp.arrays(
    np.float64,
    (N_RANDOM, N_FEATURES),
    elements=st.floats(-3, 3, allow_subnormal=False).map(lambda v: round(v, 3)),
)
labels = hnp.arrays(np.int64, N_RANDOM, elements=st.integers(0, 1))


def non_separated(X, y):
    X = np.vstack([ANCHORS, ANCHORS, X])
    y = np.concatenate([np.zeros(len(ANCHORS), int), np.ones(len(ANCHORS), int), y])
    return X, y


# --- AUC --------------------------------------------------------------------------------

# Scores on a grid of 1/100 in (0, 1): many ties, and grid points stay distinct under
# every transform below, so exactly the same ranks (ties included) go in.
grid_scores = st.lists(
    st.tuples(st.booleans(), st.integers(1, 99), st.integers(1, 99)), min_size=1, max_size=40
)


def auc_inputs(rows):
    y = np.array([0, 1] + [int(label) for label, _, _ in rows])
    first = np.array([30, 60] + [a for _, a, _ in rows]) / 100
    second = np.array([60, 30] + [b for _, _, b in rows]) / 100
    return y, first, np.vstack([first, second])  # one score, and two "draws"


INCREASING = {
    "exp": np.exp,
    "cubic": lambda p: p**3 - 2.0,
    "logit": lambda p: np.log(p) - np.log1p(-p),
}


@settings(CI, max_examples=80)
@given(grid_scores)
def test_auc_is_invariant_to_strictly_increasing_transforms(rows):
    y, score, draws = auc_inputs(rows)
    auc, per_draw = roc_auc(y, score), roc_auc(y, draws)
    for transform in INCREASING.values():
        # AUC is a function of ranks only: the same ranks give the same float, exactly.
        assert roc_auc(y, transform(score)) == auc
        np.testing.assert_array_equal(roc_auc(y, transform(draws)), per_draw)


@settings(CI, max_examples=80)
@given(grid_scores)
def test_auc_of_one_minus_p_is_one_minus_auc(rows):
    y, score, draws = auc_inputs(rows)
    # Reversing the ranks turns each concordant pair into a discordant one; tied pairs
    # count 1/2 either way. Only 1 - auc is rounded: 1e-12 is ~1e4 ulps of room.
    assert roc_auc(y, 1 - score) == pytest.approx(1 - roc_auc(y, score), abs=1e-12)
    np.testing.assert_allclose(roc_auc(y, 1 - draws), 1 - roc_auc(y, draws), rtol=0, atol=1e-12)


# --- Log-likelihood ---------------------------------------------------------------------

wide_params = hnp.arrays(
    np.float64, N_FEATURES + 1, elements=st.floats(-1e3, 1e3, allow_subnormal=False)
)


@settings(CI, max_examples=60)
@given(features, labels, wide_params)
def test_log_likelihood_is_finite_and_at_most_zero(X, y, params):
    # |eta| reaches ~7e3 here, beyond where exp(eta) overflows.
    total = log_likelihood(X, y, params[0], params[1:])
    with float64():
        rows = np.asarray(log_likelihood_rows(params, X, y.astype(float)))
    assert np.isfinite(total) and total <= 0.0
    assert np.isfinite(rows).all() and (rows <= 0.0).all()
    # Terms all <= 0: the sum is accurate to n ulps of its size, whatever the order.
    assert total == pytest.approx(rows.sum(), rel=N_RANDOM * np.finfo(float).eps, abs=1e-300)


perturbations = hnp.arrays(np.float64, N_FEATURES + 1, elements=st.floats(-1, 1))


@settings(CI, max_examples=15)
@given(features, labels, perturbations, st.integers(-7, 0))
def test_mle_has_the_largest_log_likelihood(X, y, direction, exponent):
    X, y = non_separated(X, y)
    fit = fit_mle(X, y, solver=Newton(tol=1e-12))
    assert fit.converged
    other = fit.params + 10.0**exponent * direction
    best = log_likelihood(X, y, fit.intercept, fit.coef)
    assert best == pytest.approx(fit.log_likelihood, rel=1e-14)
    # Near the optimum the loss of a step of 1e-7 is ~1e-14 * n, below rounding of the
    # sum: allow 32 ulps of |log L| for it.
    slack = 32 * np.finfo(float).eps * abs(best)
    assert best >= log_likelihood(X, y, other[0], other[1:]) - slack


@settings(CI, max_examples=8)
@given(features, labels)
def test_map_tends_to_the_mle_as_the_prior_widens(X, y):
    X, y = non_separated(X, y)
    mle = fit_mle(X, y, solver=Newton(tol=1e-12))
    shifts = {
        s: fit_map(
            X, y, prior=Normal(0, s), intercept_prior=Flat(), solver=Newton(tol=1e-12)
        ).params
        - mle.params
        for s in (1e1, 1e2, 1e3, 1e4)
    }
    gaps = [np.abs(shift).max() for shift in shifts.values()]
    assert all(a > b for a, b in zip(gaps, gaps[1:], strict=False))
    # To first order the prior's gradient [0, coef] / s**2 moves the optimum by
    # -cov @ [0, coef] / s**2; the next order is smaller by another factor ~1 / s**2, and
    # both fits are within ~1e-12 of their optima, so 1% of the largest entry is ample.
    predicted = -mle.cov @ np.r_[0.0, mle.coef] / 1e4**2
    np.testing.assert_allclose(shifts[1e4], predicted, rtol=0, atol=1e-2 * gaps[-1])
    assert gaps[-1] < 1e-6


@settings(CI, max_examples=8)
@given(features, labels, st.permutations(range(N_RANDOM + 2 * len(ANCHORS))))
def test_row_order_does_not_change_the_estimates(X, y, order):
    X, y = non_separated(X, y)
    order = np.asarray(order)
    for fit in (
        lambda X, y: fit_mle(X, y, solver=Newton(tol=1e-12)),
        lambda X, y: fit_map(
            X, y, prior=Normal(0, 1.0), intercept_prior=Flat(), solver=Newton(tol=1e-12)
        ),
    ):
        a, b = fit(X, y), fit(X[order], y[order])
        # Only the order of the sums changes (~1e-16 relative per sum, amplified by the
        # conditioning of the information matrix), and both fits stop at a gradient of
        # 1e-12 per row: 1e-10 leaves a wide margin.
        np.testing.assert_allclose(b.params, a.params, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(b.stderr, a.stderr, rtol=1e-8)
        assert b.log_likelihood == pytest.approx(a.log_likelihood, rel=1e-12)


# --- Gradients --------------------------------------------------------------------------

moderate_params = hnp.arrays(np.float64, N_FEATURES + 1, elements=st.floats(-3, 3))
PRIORS = [(Normal(0, 10.0), Normal(0.5, 2.0)), (StudentT(3, 0, 2.5), Cauchy(0, 1.0))]

# Jitted once at module level (not per example), so that each prior pair compiles once.
_loglik = jax.jit(log_likelihood_sum)
_loglik_grad = jax.jit(jax.grad(log_likelihood_sum))
_posterior = jax.jit(smooth_value)
_posterior_grad = jax.jit(jax.grad(smooth_value))


def central_differences(f, params, h):
    basis = np.eye(len(params))
    return np.array([(f(params + h * e) - f(params - h * e)) / (2 * h) for e in basis])


@settings(CI, max_examples=30)
@given(features, labels, moderate_params, st.sampled_from(range(len(PRIORS))))
def test_autodiff_gradient_matches_central_differences(X, y, params, which):
    intercept_prior, prior = PRIORS[which]
    y = y.astype(float)
    h = 1e-5
    with float64():
        problem = Problem(jax.numpy.asarray(X), jax.numpy.asarray(y), intercept_prior, prior)
        grad_loglik = np.asarray(_loglik_grad(params, X, y))
        fd_loglik = central_differences(lambda p: float(_loglik(p, X, y)), params, h)
        # The MAP objective: minus the log posterior per row, priors included.
        grad_posterior = np.asarray(_posterior_grad(params, problem))
        fd_posterior = central_differences(lambda p: float(_posterior(p, problem)), params, h)
    # Truncation h**2 / 6 * |f'''| <= 1e-10 * n * 27 / 6 ~ 1e-8 for |x| <= 3; rounding
    # eps * |f| / h <= 2e-16 * 1e3 / 1e-5 ~ 2e-8. 1e-6 leaves a factor of ~30.
    np.testing.assert_allclose(grad_loglik, fd_loglik, rtol=1e-7, atol=1e-6)
    # The objective is per row (divided by n): the same relative accuracy.
    np.testing.assert_allclose(grad_posterior, fd_posterior, rtol=1e-7, atol=1e-6 / len(y))
