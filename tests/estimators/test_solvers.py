"""Solver objects, their shorthands and deprecated keywords, and the one Newton's two drivers."""

import re
import warnings

import numpy as np
import pytest

from bayeslogreg import ConvergenceWarning, distributed, fit_map, fit_mle
from bayeslogreg._jax import float64
from bayeslogreg.datasets import simulate
from bayeslogreg.estimators._chunked import ChunkedData
from bayeslogreg.estimators._newton import minimize_in_memory, minimize_on_host
from bayeslogreg.estimators._objective import HostObjective, Problem, parameter_scale
from bayeslogreg.priors import Laplace, Normal, StudentT
from bayeslogreg.solvers import LBFGS, SGD, SHORTHANDS, GradientAscent, Newton

DATA = simulate(600, [1.0, -0.5, 0.25], intercept=0.2, seed=5)


def assert_same_fit(a, b):
    for field in ("params", "cov", "history"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert (a.method, a.n_iter, a.n_passes, a.converged) == (
        b.method,
        b.n_iter,
        b.n_passes,
        b.converged,
    )


def quietly(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return func(*args, **kwargs)


@pytest.mark.parametrize("name", list(SHORTHANDS))
def test_each_shorthand_is_its_default_object(name):
    by_name = quietly(fit_map, DATA.X, DATA.y, solver=name, seed=2)
    by_object = quietly(fit_map, DATA.X, DATA.y, solver=SHORTHANDS[name], seed=2)
    assert_same_fit(by_name, by_object)
    assert by_name.method == name


def test_auto_is_newton_for_few_parameters():
    assert_same_fit(fit_mle(DATA.X, DATA.y), fit_mle(DATA.X, DATA.y, solver=Newton()))


def test_sgd_names_itself_by_its_batch_size():
    assert SGD().name == "sgd"
    assert SGD(batch_size=64).name == "minibatch"
    fit = quietly(fit_mle, DATA.X, DATA.y, solver=SGD(batch_size=64, epochs=3))
    assert fit.method == "minibatch" and fit.n_iter == 3


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ({"method": "gd"}, {"solver": "gd"}),
        ({"tol": 1e-11}, {"solver": Newton(tol=1e-11)}),
        ({"method": "newton", "max_iter": 2}, {"solver": Newton(max_iter=2)}),
        ({"method": "lbfgs", "max_iter": 3}, {"solver": LBFGS(max_iter=3)}),
        (
            {"method": "minibatch", "batch_size": 16, "epochs": 4, "learning_rate": 0.2},
            {"solver": SGD(batch_size=16, epochs=4, learning_rate=0.2)},
        ),
        (
            {"method": "sgd", "epochs": 2, "average": False},
            {"solver": SGD(epochs=2, average=False)},
        ),
    ],
)
def test_deprecated_keywords_warn_and_give_the_new_forms_numbers(old, new):
    with pytest.warns(FutureWarning) as record:
        before = quietly(fit_mle, DATA.X, DATA.y, seed=4, **old)
    after = quietly(fit_mle, DATA.X, DATA.y, seed=4, **new)
    assert_same_fit(before, after)
    messages = " ".join(str(warning.message) for warning in record)
    assert "deprecated" in messages and "solver=" in messages


def test_deprecation_says_which_object_to_write():
    written = "solver=bayeslogreg.solvers.SGD(learning_rate=0.5, batch_size=32, epochs=3)"
    with pytest.warns(
        FutureWarning, match=re.escape(f"method=, epochs= are deprecated; pass {written}")
    ):
        quietly(fit_mle, DATA.X, DATA.y, method="minibatch", epochs=3)
    with pytest.warns(FutureWarning, match=re.escape("pass solver='newton'")):
        fit_mle(DATA.X, DATA.y, method="newton")


def test_unknown_keywords_are_a_type_error():
    with pytest.raises(
        TypeError, match="fit_mle\\(\\) got an unexpected keyword argument 'maxiter'"
    ):
        fit_mle(DATA.X, DATA.y, maxiter=10)


def test_the_sharded_fit_runs_newton_only():
    with pytest.raises(ValueError, match="runs Newton's method only"):
        distributed.fit_mle(DATA.X, DATA.y, solver="gd")
    with pytest.warns(FutureWarning, match=re.escape("solvers.Newton(tol=1e-10)")):
        old = distributed.fit_mle(DATA.X, DATA.y, tol=1e-10)
    assert_same_fit(old, distributed.fit_mle(DATA.X, DATA.y, solver=Newton(tol=1e-10)))


@pytest.mark.parametrize(
    "priors",
    [
        (Normal(0, 10), Normal(0, 1.0)),
        (Normal(0, 10), Laplace(0, 0.05)),
        (StudentT(3, 0, 5), StudentT(3, 0, 1)),
    ],
    ids=["normal", "laplace", "student"],
)
@pytest.mark.parametrize("hess0", [False, True], ids=["exact", "from-a-guess"])
def test_the_jitted_and_the_host_driver_take_the_same_newton_steps(priors, hess0):
    # One Newton step, two loops: on the device (one program) and on the host over row
    # chunks. The same steps give the same iterates, to rounding of the sums' order.
    X, y = DATA.X, DATA.y.astype(np.float64)
    scale = parameter_scale(X)
    start = np.zeros(X.shape[1] + 1)
    with float64():
        in_memory, hess_in_memory = minimize_in_memory(
            Problem(X, y, *priors, scale), start, 1e-10, 100
        )
        data = ChunkedData(X, y, 128)
        objective = HostObjective(data, *priors, scale)
        guess = None
        if hess0:  # a poor guess: quasi-Newton steps on it, then exact ones
            guess = -0.5 * data.loglik_grad_hess(start)[2] / len(y) + 0.1 * np.eye(len(start))
        on_host, hess_on_host = minimize_on_host(objective, start, 1e-10, 100, guess)
    assert int(in_memory.status) == int(on_host.status) == 0
    np.testing.assert_allclose(on_host.params, in_memory.params, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(hess_on_host, hess_in_memory, rtol=1e-9, atol=1e-14)
    if not hess0:
        assert int(in_memory.n_iter) == int(on_host.n_iter)
        np.testing.assert_allclose(
            on_host.history[: int(on_host.n_iter) + 1],
            in_memory.history[: int(in_memory.n_iter) + 1],
            rtol=1e-12,
        )


def test_solvers_are_hashable_values():
    assert Newton(tol=1e-9) == Newton(tol=1e-9)
    assert len({Newton(), Newton(), LBFGS(), GradientAscent()}) == 3
    with pytest.raises(AttributeError):
        Newton().tol = 1.0
