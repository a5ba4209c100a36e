"""Effort vs blockbuster role: judge guesses, check a gradient, recover the true values.

The data (``datasets.load_effort``) are simulated: effort x ~ Uniform(0, 3) thousand
hours, and an actor lands a blockbuster role with P = sigmoid(-5 + 3 x). This script

1. asks which of two guesses of (intercept, slope) is less wrong: the one with the
   larger log-likelihood;
2. computes the gradient of the log-likelihood at a guess with ``jax.grad`` and checks
   it against the analytic gradient X~^T (y - p), where X~ is X with a column of ones;
3. fits MLE, MAP and NUTS and checks that they recover the true values;
4. writes the comparison report (``bayeslogreg.compare(...).save``) and a figure of the
   data with the guessed, true and fitted curves.

Run ``python examples/effort.py --help`` for options; ``--small`` is a quick run.
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

GUESSES = {"guess A": (-3.0, 1.0), "guess B": (-6.0, 4.0)}


def jax_log_likelihood(params, X, y):
    """Sum of log p(y_i | x_i), params = (intercept, *coef); log_sigmoid keeps it finite."""
    eta = params[0] + X @ params[1:]
    return jnp.sum(jax.nn.log_sigmoid((2.0 * y - 1.0) * eta))


def analytic_gradient(params, X, y):
    """X~^T (y - p), with X~ = [1, X] and p = sigmoid(X~ @ params)."""
    X_tilde = np.column_stack([np.ones(len(X)), X])
    return X_tilde.T @ (y - expit(X_tilde @ params))


def curves_figure(data, curves) -> Figure:
    fig = Figure(figsize=(7.0, 4.5), layout="constrained")
    ax = fig.subplots()
    jitter = np.random.default_rng(0).uniform(-0.03, 0.03, len(data.y))
    ax.scatter(data.X[:, 0], data.y + jitter, s=4, color="0.4", alpha=0.4, label="data (jittered)")
    grid = np.linspace(0.0, 3.0, 301)
    for i, (label, (intercept, slope)) in enumerate(curves.items()):
        style = "--" if label.startswith("guess") else "-"
        ax.plot(grid, expit(intercept + slope * grid), style, color=f"C{i}", label=label)
    ax.set(xlabel="effort (thousand hours)", ylabel="P(blockbuster role)")
    ax.set_title("guesses, truth and fits")
    ax.legend(fontsize="small")
    return fig


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out", type=Path, default=Path("examples-output/effort"), help="figure folder"
    )
    parser.add_argument("--n-samples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--level", type=float, default=0.95, help="probability of the posterior intervals"
    )
    parser.add_argument("--small", action="store_true", help="short chains, for tests")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    train = blr.datasets.load_effort(args.n_samples, seed=args.seed)
    test = blr.datasets.load_effort(args.n_samples, seed=args.seed + 1)
    true = np.array([train.intercept, *train.coef])
    X, y = train.X, train.y.astype(np.float64)
    print(
        f"{len(y)} actors, {int(y.sum())} landed a blockbuster role; "
        f"true (intercept, slope) = ({true[0]:g}, {true[1]:g})"
    )

    guess_log_likelihood = {}
    for name, (intercept, slope) in GUESSES.items():
        guess_log_likelihood[name] = blr.log_likelihood(X, y, intercept, [slope])
        print(f"{name} {(intercept, slope)}: log-likelihood {guess_log_likelihood[name]:.2f}")
    better = max(guess_log_likelihood, key=guess_log_likelihood.get)
    print(f"{better} is less wrong: its log-likelihood is higher.")

    gradients = {}
    with jax.enable_x64(True):
        grad = jax.jit(jax.grad(jax_log_likelihood))
        for name, guess in GUESSES.items():
            params = np.array(guess, dtype=np.float64)
            by_jax = np.asarray(grad(jnp.asarray(params), jnp.asarray(X), jnp.asarray(y)))
            gradients[name] = (by_jax, analytic_gradient(params, X, y))
    max_gradient_difference = max(float(np.max(np.abs(a - b))) for a, b in gradients.values())
    for name, (by_jax, by_hand) in gradients.items():
        print(
            f"gradient at {name}: jax.grad {np.round(by_jax, 6)}, "
            f"X~^T (y - p) {np.round(by_hand, 6)}"
        )
    print(f"largest |jax - analytic| difference: {max_gradient_difference:.3g}")

    kw = {"feature_names": train.feature_names}
    prior = {"prior": Normal(0.0, 2.5), "intercept_prior": Normal(0.0, 10.0)}
    mle = blr.fit_mle(X, y, **kw)
    map_fit = blr.fit_map(X, y, **prior, **kw)
    draws = {"num_chains": 2, "num_warmup": 300, "num_samples": 300} if args.small else {}
    posterior = blr.sample_posterior(X, y, seed=args.seed, **prior, **draws, **kw)
    summary = posterior.summary(level=args.level)
    lower, upper = summary["ci_lower"].to_numpy(), summary["ci_upper"].to_numpy()
    inside = (lower <= true) & (true <= upper)
    for i, name in enumerate(mle.param_names):
        print(
            f"{name:>9}: true {true[i]:+.2f} | MLE {mle.params[i]:+.3f} | "
            f"MAP {map_fit.params[i]:+.3f} | posterior mean {posterior.params[i]:+.3f}, "
            f"{args.level:.0%} HDI [{lower[i]:+.3f}, {upper[i]:+.3f}]"
            f" {'contains' if inside[i] else 'MISSES'} the true value"
        )

    report = blr.compare([mle, map_fit, posterior], test.X, test.y, train=(X, y))
    report.save(args.out / "report")
    fig = curves_figure(
        train,
        {
            **GUESSES,
            "true": tuple(true),
            "MLE": tuple(mle.params),
            "posterior mean": tuple(posterior.params),
        },
    )
    fig.savefig(args.out / "effort-curves.png", dpi=100)
    print(f"Report written to {args.out / 'report'}, figure to {args.out / 'effort-curves.png'}")
    return {
        "guess_log_likelihood": guess_log_likelihood,
        "better_guess": better,
        "max_gradient_difference": max_gradient_difference,
        "mle": np.asarray(mle.params),
        "map": np.asarray(map_fit.params),
        "posterior_mean": np.asarray(posterior.params),
        "posterior_interval": np.column_stack([lower, upper]),
        "true": true,
        "true_inside_interval": bool(inside.all()),
        "figures": [args.out / "effort-curves.png"],
        "report": args.out / "report",
    }


if __name__ == "__main__":
    main()
