"""Valid priors of any strength: the MAP, its covariance and the posterior stay right.

A prior far narrower than the data's information (scale 1e-8) used to break the fits:
the optimizers' coordinates and the singular-matrix test were relative to the largest
curvature, the prior's. Each case here is checked against an independent computation:
the exact Hessian of the log posterior in NumPy, and scikit-learn's or SciPy's optimum.
"""

import numpy as np
import pytest
from scipy import special
from sklearn.linear_model import LogisticRegression

from bayeslogreg import fit_map, sample_posterior
from bayeslogreg.datasets import simulate
from bayeslogreg.priors import Flat, Normal

DATA = simulate(500, [0.85, -0.85], intercept=0.5, seed=1)
SCALES = [1e-8, 1e-4, 1.0, 1e4, 1e8]
SOLVERS = ["newton", "lbfgs", "gd"]


def normal_map_reference(X, y, intercept_scale, coef_scale):
    """MAP under Normal(0, s) priors by plain Newton in NumPy on the exact objective.

    The log posterior is strictly concave and Newton's full steps from 0 converge on it;
    ``np.linalg.solve`` is indifferent to the scale of the prior's precision. Returns the
    mode and the inverse of the exact negative Hessian of the log posterior there.
    """
    Xt = np.column_stack([np.ones(len(y)), X])
    precision = np.r_[intercept_scale**-2.0, np.full(X.shape[1], coef_scale**-2.0)]

    def gradient_hessian(theta):
        p = special.expit(Xt @ theta)
        gradient = Xt.T @ (y - p) - precision * theta
        hessian = (Xt * (p * (1 - p))[:, None]).T @ Xt + np.diag(precision)
        return gradient, hessian

    theta = np.zeros(Xt.shape[1])
    for _ in range(50):
        gradient, hessian = gradient_hessian(theta)
        theta = theta + np.linalg.solve(hessian, gradient)
    return theta, np.linalg.inv(gradient_hessian(theta)[1])


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("scale", SCALES)
def test_intercept_prior_of_any_scale_gives_the_right_map(solver, scale):
    # filterwarnings=error: no "not identified" and no non-convergence warning either.
    fit = fit_map(
        DATA.X, DATA.y, prior=Normal(0, 2.5), intercept_prior=Normal(0, scale), solver=solver
    )
    mode, cov = normal_map_reference(DATA.X, DATA.y, scale, 2.5)
    assert fit.converged
    # The solvers stop at a per-row gradient of 1e-8 in unit-scale coordinates: a few
    # 1e-8 of a standard error from the mode.
    sd = np.sqrt(np.diag(cov))
    assert np.all(np.abs(fit.params - mode) <= 1e-6 * (np.abs(mode) + sd))
    np.testing.assert_allclose(fit.cov, cov, rtol=1e-5, atol=1e-12 * np.abs(cov).max())


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("scale", SCALES)
def test_coefficient_prior_of_any_scale_matches_scikit_learn(solver, scale):
    fit = fit_map(DATA.X, DATA.y, prior=Normal(0, scale), intercept_prior=Flat(), solver=solver)
    reference = LogisticRegression(C=scale**2, solver="newton-cholesky", tol=1e-14, max_iter=1000)
    reference.fit(DATA.X, DATA.y)
    expected = np.r_[reference.intercept_, reference.coef_.ravel()]
    assert fit.converged
    # scikit-learn's own stopping rule leaves ~1e-9 relative; coefficients forced to
    # ~1e-17 by the narrowest prior are compared on the scale of the prior.
    np.testing.assert_allclose(fit.params, expected, rtol=1e-6, atol=1e-3 * min(scale, 1.0))


def test_a_pinned_intercept_leaves_the_coefficients_of_the_model_without_one():
    fit = fit_map(DATA.X, DATA.y, intercept_prior=Normal(0, 1e-8), prior=Flat())
    no_intercept = LogisticRegression(
        C=np.inf, fit_intercept=False, solver="newton-cholesky", tol=1e-14
    ).fit(DATA.X, DATA.y)
    assert abs(fit.intercept) < 1e-12
    np.testing.assert_allclose(fit.coef, no_intercept.coef_.ravel(), rtol=1e-6)


@pytest.mark.slow
def test_nuts_under_a_pinning_intercept_prior_mixes_and_matches_the_laplace_fit():
    post = sample_posterior(
        DATA.X,
        DATA.y,
        intercept_prior=Normal(0, 1e-8),
        num_chains=2,
        num_warmup=200,
        num_samples=400,
        seed=3,
    )
    summary = post.summary()
    assert summary["r_hat"].max() <= 1.01
    assert abs(post.intercept) < 1e-7
    laplace = post.map_estimate
    # Nearly Gaussian posterior at n = 500: means within 0.2 sd of the mode (Monte Carlo
    # error ~ 0.04 sd at these ESS, plus the posterior's skew).
    shift = np.abs(post.coef - laplace.coef) / laplace.stderr[1:]
    assert shift.max() < 0.2
