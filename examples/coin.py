"""A biased coin: the likelihood, its maximum, and logistic regression with no features.

The coin is flipped ten times: H, H, T, H, T, H, H, H, T, H (7 heads, 3 tails). With
p = P(heads), the likelihood of that sequence is p^7 (1 - p)^3. This script

1. draws the likelihood and the log-likelihood over p;
2. finds their maximum, p = 7/10, in closed form (k / n) and by gradient ascent on the
   log-likelihood, with the gradient from ``jax.grad``;
3. finds the same p as an intercept-only logistic regression: ``fit_mle`` with X of
   shape (10, 0), where p = sigmoid(intercept) and intercept = log(7 / 3);
4. shows what a Normal(0, s) prior on the intercept does: the MAP is pulled towards
   p = 0.5, more so the narrower the prior, and NUTS gives the whole posterior of p.

Run ``python examples/coin.py --help`` for options; ``--small`` is a quick run.
"""

import argparse
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from matplotlib.figure import Figure
from scipy.special import expit

import bayeslogreg as blr
from bayeslogreg.priors import Normal

FLIPS = "HHTHTHHHTH"
PRIOR_SCALES = (10.0, 2.0, 1.0, 0.5, 0.2)


def coin_log_likelihood(p, heads, tails):
    """Log of p^heads (1 - p)^tails, the log-likelihood of the flips at P(heads) = p."""
    return heads * jnp.log(p) + tails * jnp.log1p(-p)


def gradient_ascent(heads, tails, *, start=0.5, learning_rate=0.01, steps=200):
    """Maximise the coin's log-likelihood by plain gradient ascent; return the path of p."""
    grad = jax.jit(jax.grad(coin_log_likelihood))
    path = [start]
    with jax.enable_x64(True):
        p = jnp.float64(start)
        for _ in range(steps):
            p = p + learning_rate * grad(p, heads, tails)
            path.append(float(p))
    return np.array(path)


def likelihood_figure(heads, tails, path) -> Figure:
    grid = np.linspace(0.001, 0.999, 999)
    likelihood = grid**heads * (1 - grid) ** tails
    fig = Figure(figsize=(10.0, 4.0), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.plot(grid, likelihood, color="C0")
    left.axvline(heads / (heads + tails), color="C3", linestyle="--", label="p = k / n = 0.7")
    left.set(xlabel="p = P(heads)", ylabel="likelihood", title="p^7 (1 - p)^3")
    left.legend()
    log_lik = heads * np.log(grid) + tails * np.log1p(-grid)
    right.plot(grid, log_lik, color="C0")
    shown = path[: min(len(path), 30)]
    right.plot(
        shown,
        heads * np.log(shown) + tails * np.log1p(-shown),
        "o-",
        color="C1",
        markersize=3,
        label=f"gradient ascent, first {len(shown) - 1} steps",
    )
    right.set(xlabel="p", ylabel="log-likelihood", title="7 log p + 3 log(1 - p)")
    right.set_ylim(log_lik.max() - 10, log_lik.max() + 1)
    right.legend()
    return fig


def prior_figure(p_mle, p_map, posterior_p, posterior_scale) -> Figure:
    fig = Figure(figsize=(10.0, 4.0), layout="constrained")
    left, right = fig.subplots(1, 2)
    scales = list(p_map)
    left.semilogx(scales, [p_map[s] for s in scales], "o-", color="C3", label="MAP")
    left.axhline(p_mle, color="black", linestyle="--", label="MLE = 0.7")
    left.axhline(0.5, color="0.5", linestyle=":", label="prior centre, p = 0.5")
    left.set(xlabel="prior scale s of intercept ~ Normal(0, s)", ylabel="p = sigmoid(intercept)")
    left.set_title("a narrower prior pulls p towards 0.5")
    left.legend()
    right.hist(posterior_p, bins=40, density=True, color="C1", alpha=0.7, label="NUTS draws")
    right.axvline(p_mle, color="black", linestyle="--", label="MLE")
    right.axvline(p_map[posterior_scale], color="C3", label=f"MAP, s = {posterior_scale:g}")
    right.axvline(posterior_p.mean(), color="C1", label="posterior mean")
    right.set(
        xlabel="p", ylabel="density", title=f"posterior of p, intercept ~ N(0, {posterior_scale:g})"
    )
    right.legend()
    return fig


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out", type=Path, default=Path("examples-output/coin"), help="folder for the figures"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--posterior-scale", type=float, default=1.0, help="prior scale s used for NUTS"
    )
    parser.add_argument("--small", action="store_true", help="short chains, for tests")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    y = np.array([1 if flip == "H" else 0 for flip in FLIPS])
    heads, tails = int(y.sum()), int(len(y) - y.sum())
    print(f"Flips {' '.join(FLIPS)}: {heads} heads, {tails} tails.")

    p_closed_form = heads / (heads + tails)
    print(f"Closed form: d/dp [k log p + (n - k) log(1 - p)] = 0 gives p = k / n = {p_closed_form}")

    path = gradient_ascent(heads, tails)
    p_gradient_ascent = float(path[-1])
    print(
        f"Gradient ascent (jax.grad, step 0.01, {len(path) - 1} steps from 0.5): "
        f"p = {p_gradient_ascent:.10f}"
    )

    # No features at all: the model is y ~ Bernoulli(sigmoid(intercept)).
    X = np.zeros((len(y), 0))
    mle = blr.fit_mle(X, y)
    p_mle = float(expit(mle.intercept))
    print(
        f"Intercept-only logistic regression (X of shape {X.shape}): intercept = "
        f"{mle.intercept:.6f} = log(7/3) = {np.log(heads / tails):.6f}, "
        f"p = sigmoid(intercept) = {p_mle:.10f}"
    )

    print("A Normal(0, s) prior on the intercept pulls the MAP towards p = 0.5:")
    p_map = {}
    for scale in PRIOR_SCALES:
        fit = blr.fit_map(X, y, intercept_prior=Normal(0.0, scale))
        p_map[scale] = float(expit(fit.intercept))
        print(f"  s = {scale:>4g}: intercept = {fit.intercept:+.4f}, p = {p_map[scale]:.4f}")

    draws = {"num_chains": 2, "num_warmup": 300, "num_samples": 300} if args.small else {}
    posterior = blr.sample_posterior(
        X, y, intercept_prior=Normal(0.0, args.posterior_scale), seed=args.seed, **draws
    )
    posterior_p = expit(posterior.flat_draws[:, 0])
    low, high = np.quantile(posterior_p, [0.025, 0.975])
    print(
        f"Posterior of p with s = {args.posterior_scale:g} ({posterior_p.size} NUTS draws): "
        f"mean {posterior_p.mean():.3f}, 95% interval [{low:.3f}, {high:.3f}]; "
        "ten flips leave p very uncertain."
    )

    figures = {
        "coin-likelihood.png": likelihood_figure(heads, tails, path),
        "coin-prior.png": prior_figure(p_mle, p_map, posterior_p, args.posterior_scale),
    }
    for name, fig in figures.items():
        fig.savefig(args.out / name, dpi=100)
    print(f"Figures written to {args.out}: {', '.join(figures)}")
    return {
        "p_closed_form": p_closed_form,
        "p_gradient_ascent": p_gradient_ascent,
        "p_mle": p_mle,
        "p_map": p_map,
        "p_posterior_mean": float(posterior_p.mean()),
        "p_posterior_interval": (float(low), float(high)),
        "figures": [args.out / name for name in figures],
    }


if __name__ == "__main__":
    main()
