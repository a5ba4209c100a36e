"""Compare five optimizers of the same log-likelihood: work done against distance to go.

Newton, L-BFGS, full-batch gradient ascent ("gd"), stochastic ("sgd", one row per step)
and mini-batch gradient ascent maximise the log-likelihood of one simulated data set.
The figure plots the gap to Newton's optimum against passes over the data and against
seconds. Passes: ``PointEstimate.history`` has one entry per iteration (per epoch for
sgd and minibatch). A full-batch iteration reads the data once plus once per extra
line-search trial, and the fit reports only the total (``n_passes``, the first
evaluation included), so its passes are spread evenly over its iterations. An epoch of
sgd or minibatch is one pass of gradient steps; the library also evaluates the full
log-likelihood after each epoch to fill ``history`` and test convergence, and counts
that in ``n_passes`` (1 + 2 per epoch), but the figure plots the gradient work alone.
Seconds: each method is fitted twice and the second fit's ``fit_time`` (JAX compilation
excluded) is spread evenly over its iterations.

Run ``python examples/optimizers.py --help`` for options.
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import bayeslogreg as blr

METHODS = ("newton", "lbfgs", "gd", "sgd", "minibatch")
STOCHASTIC = ("sgd", "minibatch")


def fit_twice(X, y, method: str, epochs: int, stochastic_tol: float, seed: int):
    """Fit by ``method``; the second, timed fit runs with the JAX code already compiled.

    Library defaults otherwise (tol 1e-8 for the full-batch methods). A fit that stops
    short of its tol gives a ConvergenceWarning, printed here.
    """
    solver = blr.solvers.SHORTHANDS[method]
    if method in STOCHASTIC:
        solver = blr.solvers.SGD(batch_size=solver.batch_size, epochs=epochs, tol=stochastic_tol)
    kw = {"solver": solver, "seed": seed}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", blr.ConvergenceWarning)
        blr.fit_mle(X, y, **kw)
        fit = blr.fit_mle(X, y, **kw)
    for warning in caught[len(caught) // 2 :]:
        print(f"{method}: {warning.category.__name__}: {warning.message}")
    return fit


def progress(fit) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Objective, cumulative passes and cumulative seconds at each ``history`` entry."""
    history = np.asarray(fit.history, dtype=float)
    steps = np.arange(history.size)
    if fit.method in STOCHASTIC:
        passes = steps.astype(float)  # one pass of gradient steps per epoch
    else:
        passes = 1.0 + steps * (fit.n_passes - 1) / max(fit.n_iter, 1)
    seconds = fit.fit_time * steps / max(fit.n_iter, 1)
    return history, passes, seconds


def convergence_panels(curves: dict, best: float) -> Figure:
    """Gap to the optimum against passes over the data (left) and seconds (right)."""
    fig = Figure(figsize=(11, 4.4), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    floor = np.finfo(float).eps * abs(best)
    for name, (history, passes, seconds) in curves.items():
        gap = np.maximum(best - history, floor)
        style = {"marker": "o" if gap.size <= 30 else "", "markersize": 3, "label": name}
        axes[0].plot(passes, gap, **style)
        axes[1].plot(seconds, gap, **style)
    xlabels = ("passes over the data", "seconds (compilation excluded)")
    for ax, xlabel in zip(axes, xlabels, strict=True):
        ax.set(yscale="log", xlabel=xlabel)
        ax.grid(True, alpha=0.3)
    axes[0].set_xscale("symlog", linthresh=1.0)
    axes[1].set_xscale("symlog", linthresh=1e-3)
    for ax in axes:
        ax.set_xlim(left=0.0)
    axes[0].set_ylabel("log-likelihood gap to Newton's optimum (nats)")
    axes[0].legend(fontsize="small")
    fig.suptitle("maximising one log-likelihood five ways")
    return fig


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-samples", type=int, default=20_000)
    parser.add_argument("--n-features", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=100, help="epochs of sgd and minibatch")
    parser.add_argument(
        "--stochastic-tol",
        type=float,
        default=1e-3,
        help="tol of sgd and minibatch (the library's default; smaller runs more epochs)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--small", action="store_true", help="small data, few epochs, for tests")
    parser.add_argument("--out", type=Path, default=Path("examples-output/optimizers"))
    args = parser.parse_args(argv)
    n_samples, epochs = (2000, 30) if args.small else (args.n_samples, args.epochs)

    rng = np.random.default_rng(args.seed)
    coef = rng.normal(0.0, 1.0, size=args.n_features)
    data = blr.datasets.simulate(n_samples, coef, intercept=-0.5, seed=args.seed)
    print(f"simulated {n_samples} rows, {args.n_features} features")

    fits = {
        method: fit_twice(data.X, data.y, method, epochs, args.stochastic_tol, args.seed)
        for method in METHODS
    }
    optimum = fits["newton"]
    results, curves = {}, {}
    print(
        f"{'method':>10} {'log-lik':>16} {'n_iter':>7} {'n_passes':>9} {'conv':>5} "
        f"{'seconds':>8} {'|params - newton|':>18}"
    )
    for method, fit in fits.items():
        distance = float(np.max(np.abs(fit.params - optimum.params)))
        results[method] = {
            "log_likelihood": float(fit.log_likelihood),
            "n_iter": int(fit.n_iter),
            "n_passes": int(fit.n_passes),
            "converged": bool(fit.converged),
            "fit_time": float(fit.fit_time),
            "distance_to_newton": distance,
        }
        curves[method] = progress(fit)
        print(
            f"{method:>10} {fit.log_likelihood:16.8f} {fit.n_iter:7d} {fit.n_passes:9d} "
            f"{fit.converged!s:>5} {fit.fit_time:8.3f} {distance:18.2e}"
        )
    print("distance: largest absolute difference of any parameter from Newton's estimate.")
    print(
        f"sgd and minibatch stop at tol={args.stochastic_tol:g} or after {epochs} epochs: "
        "their error is mostly the noise of the stochastic gradients, so they end near, "
        "not at, the optimum."
    )

    fig = convergence_panels(curves, optimum.log_likelihood)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "convergence.png"
    fig.savefig(path, dpi=60 if args.small else 120)
    print(f"wrote {path}")
    return {"methods": results, "newton_params": optimum.params, "figures": [path]}


if __name__ == "__main__":
    main()
