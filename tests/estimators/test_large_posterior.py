import warnings

import jax
import numpy as np
import pytest
from scipy import stats

from bayeslogreg import ConvergenceWarning, _arviz, model, sample_posterior
from bayeslogreg.datasets import simulate
from bayeslogreg.estimators import _large_posterior, nuts
from bayeslogreg.priors import Flat, Laplace, Normal
from bayeslogreg.samplers import IMH

# Each comparison with a Monte Carlo estimate allows K standard errors (of both runs where
# both are random): with fixed seeds the tests are reproducible, and a correct sampler
# fails one comparison with probability ~6e-5.
K = 4.0


def test_log_sigmoid_matches_jax_everywhere():
    t = np.concatenate([np.linspace(-800, 800, 20001), [-1e300, -40.0, 0.0, 40.0, 1e300]])
    with jax.enable_x64(True):
        ours = np.asarray(_large_posterior._log_sigmoid(t))
        theirs = np.asarray(jax.nn.log_sigmoid(t))
    assert np.isfinite(ours).all()
    # Both are exact to a few ulps; they differ only by rounding.
    np.testing.assert_allclose(ours, theirs, rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_log_posterior_batch_matches_the_model(monkeypatch, dtype):
    # Blocks of 4 x 16 numbers: 7 row blocks, the last one short.
    monkeypatch.setattr(_large_posterior, "_BLOCK_ELEMENTS", 64)
    data = simulate(1601, [1.0, -0.5, 0.25], intercept=0.3, seed=3)
    X, y = data.X.astype(dtype), data.y.astype(dtype)
    prior, intercept_prior = Laplace(0.5, 2.0), Normal(0.0, 10.0)
    params = np.random.default_rng(0).normal(size=(16, 4))
    with jax.enable_x64(True):
        ours = _large_posterior.log_posterior_batch(params, X, y, intercept_prior, prior)
        expected = [
            model.log_likelihood_sum(p, X.astype(np.float64), y.astype(np.float64))
            + intercept_prior.log_density(p[0])
            + prior.log_density(p[1:])
            for p in params
        ]
    assert ours.dtype == np.float64
    # Same float64 arithmetic summed in a different order: agreement to rounding.
    np.testing.assert_allclose(ours, np.asarray(expected), rtol=1e-12)


def test_accept_reject_follows_the_weights():
    rng = np.random.default_rng(0)
    state, prob, accepted = _large_posterior._accept_reject(rng, np.zeros((3, 5)))
    assert accepted.all() and (prob == 1).all()
    np.testing.assert_array_equal(state, np.tile(np.arange(5), (3, 1)))
    # A proposal of zero weight is never accepted; one of higher weight always is.
    log_weights = np.array([[0.0, -np.inf, 1.0, -np.inf, 0.5]])
    state, prob, accepted = _large_posterior._accept_reject(rng, log_weights)
    np.testing.assert_array_equal(state, [[0, 0, 2, 2, state[0, 4]]])
    np.testing.assert_array_equal(accepted[0, :4], [True, False, True, False])
    np.testing.assert_allclose(prob[0], [1.0, 0.0, 1.0, 0.0, np.exp(-0.5)])


def test_imh_at_moderate_n_is_efficient_and_close_to_laplace():
    data = simulate(20_000, [1.0, -0.5, 0.25, 0.0], intercept=0.3, seed=8)
    post = sample_posterior(data.X, data.y, sampler="imh", num_warmup=20, num_samples=300, seed=2)
    summary = post.summary()
    acceptance = np.asarray(post.idata["sample_stats"]["accepted"]).mean()
    # Simulated on a Gaussian target of this dimension the t_50 proposal is accepted
    # ~0.9 of the time; well below that would mean a wrong centre or scale.
    assert acceptance > 0.8
    assert summary["ess_bulk"].min() > 600
    assert post.sampler == IMH() and repr(post).startswith("Posterior(IMH, 4 chains")
    laplace = post.map_estimate
    np.testing.assert_array_less(np.abs(summary["mean"] - laplace.params), K * summary["mcse_mean"])
    np.testing.assert_array_less(np.abs(summary["sd"] - laplace.stderr), K * summary["mcse_sd"])


def test_imh_posterior_has_the_usual_shape_and_is_reproducible():
    data = simulate(200, [1.0, -1.0], seed=4, feature_names=["a", "b"])
    kwargs = {"sampler": "imh", "num_chains": 2, "num_warmup": 10, "num_samples": 400}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = sample_posterior(data.X, data.y, feature_names=data.feature_names, seed=5, **kwargs)
        b = sample_posterior(data.X, data.y, feature_names=data.feature_names, seed=5, **kwargs)
        c = sample_posterior(data.X, data.y, seed=6, store_log_likelihood=False, **kwargs)
    np.testing.assert_array_equal(a.draws, b.draws)
    assert not np.array_equal(a.draws, c.draws)
    assert a.draws.shape == (2, 400, 3)
    assert a.num_divergences == 0
    assert a.summary().index.tolist() == ["intercept", "a", "b"]
    log_lik = np.asarray(a.idata["log_likelihood"]["y"])
    assert log_lik.shape == (2, 400, 200)
    # The stored log posterior of each draw is log-likelihood plus log prior there: the
    # default priors, Normal(0, 2.5 / sd) on each coefficient and Normal(0, 2.5) on the
    # log-odds at the columns' means.
    lp = np.asarray(a.idata["sample_stats"]["lp"])
    sd, mean = data.X.std(axis=0, ddof=1), data.X.mean(axis=0)
    coef, at_means = a.draws[..., 1:], a.draws[..., 0] + a.draws[..., 1:] @ mean
    log_prior = stats.norm.logpdf(coef, scale=2.5 / sd).sum(axis=-1)
    log_prior += stats.norm.logpdf(at_means, scale=2.5)
    np.testing.assert_allclose(lp, log_lik.sum(axis=-1) + log_prior, rtol=1e-12)
    assert not _arviz.has_group(c.idata, "log_likelihood")


def test_unknown_sampler_is_refused():
    data = simulate(50, [1.0], seed=1)
    with pytest.raises(ValueError, match=r"sampler must be one of \['imh', 'nuts'\]"):
        sample_posterior(data.X, data.y, sampler="hmcecs")


def test_too_many_pointwise_log_likelihoods_are_refused(monkeypatch):
    monkeypatch.setattr(nuts, "MAX_POINTWISE_ELEMENTS", 1000)
    data = simulate(50, [1.0], seed=1)
    with pytest.raises(ValueError, match="store_log_likelihood=False"):
        sample_posterior(data.X, data.y, sampler="imh", num_samples=10)


def test_a_singular_laplace_covariance_is_refused():
    data = simulate(50, [1.0], seed=1)
    with pytest.raises(ValueError, match="not positive definite"):
        _large_posterior.sample_independence_mh(
            data.X,
            data.y,
            mode=np.zeros(2),
            cov=np.zeros((2, 2)),
            intercept_prior=Flat(),
            prior=Flat(),
            num_chains=1,
            num_warmup=1,
            num_samples=4,
            seed=0,
        )
