"""When the classes are separated the MLE does not exist; a proper prior repairs that.

Two hand-made data sets of one feature (a dose): in the first every 0 lies below every 1
(complete separation); in the second a 0 and a 1 share the dose 0 (quasi-complete
separation). Along the separating direction the log-likelihood rises for ever towards 0,
so there is no maximum: ``fit_mle`` returns ``converged=False``, a ``separation``
attribute and a SeparationWarning, printed here. Adding the log density of a weakly
informative prior, Normal(0, 2.5) or Cauchy(0, 2.5) on the slope (and the default
Normal(0, 10) on the intercept), bends the curve down: MAP is finite and the posterior
proper, so NUTS can sample it. The figure draws both curves along the separating
direction.

Run ``python examples/separation.py --help`` for options.
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from scipy import stats

import bayeslogreg as blr
from bayeslogreg.priors import Cauchy, Normal

DOSE = np.array([-2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0])
LABELS = np.array([0, 0, 0, 0, 1, 1, 1, 1])
INTERCEPT_PRIOR = Normal(0, 10)  # fit_map's default, written out for the figure
PRIORS = {
    "Normal(0, 2.5)": (Normal(0, 2.5), stats.norm(0, 2.5)),
    "Cauchy(0, 2.5)": (Cauchy(0, 2.5), stats.cauchy(0, 2.5)),
}


def data_sets() -> dict:
    """Return the completely and the quasi-completely separated data, as (X, y)."""
    quasi = DOSE.copy()
    quasi[3:5] = 0.0  # a 0 and a 1 at the same dose: tied on the separating line
    return {
        "complete": (DOSE.reshape(-1, 1), LABELS),
        "quasi-complete": (quasi.reshape(-1, 1), LABELS),
    }


def caught(call, *args, **kwargs):
    """Run ``call``, returning its result and the warnings it gave (not raised, listed)."""
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        result = call(*args, **kwargs)
    return result, records


def log_densities_along(direction, X, y, t):
    """Log-likelihood and log posteriors (up to constants) at ``params = t * direction``."""
    loglik = np.array([blr.log_likelihood(X, y, s * direction[0], s * direction[1:]) for s in t])
    intercept = stats.norm(0, 10).logpdf(t * direction[0])
    posteriors = {
        name: loglik + intercept + density.logpdf(np.outer(t, direction[1:])).sum(axis=1)
        for name, (_, density) in PRIORS.items()
    }
    return loglik, posteriors


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--small", action="store_true", help="short chains, for tests")
    parser.add_argument("--out", type=Path, default=Path("examples-output/separation"))
    args = parser.parse_args(argv)
    draws = {
        "num_chains": 2,
        "num_warmup": 200,
        "num_samples": 200,
        "sampler": blr.samplers.NUTS(max_tree_depth=6),
    }
    draws = draws if args.small else {}

    fig = Figure(figsize=(11, 4.4), layout="constrained")
    axes = fig.subplots(1, 2)
    results = {}
    for ax, (name, (X, y)) in zip(axes, data_sets().items(), strict=True):
        print(f"\n=== {name} separation: dose {X[:, 0].tolist()}, y {y.tolist()}")
        mle, records = caught(blr.fit_mle, X, y, feature_names=["dose"])
        for record in records:
            print(f"fit_mle warned: {record.category.__name__}: {record.message}")
        print(f"MLE converged={mle.converged}, params {mle.params.round(2)} (not an estimate)")
        print(
            f"separation: kind {mle.separation.kind!r}, features {mle.separation.features}, "
            f"tied rows {mle.separation.n_tied}"
        )
        entry = {
            "kind": mle.separation.kind,
            "mle_converged": bool(mle.converged),
            "map": {},
            "posterior_mean": {},
            "posterior_median": {},
            "map_converged": {},
        }
        for prior_name, (prior, _) in PRIORS.items():
            kw = {"prior": prior, "intercept_prior": INTERCEPT_PRIOR, "feature_names": ["dose"]}
            fit, records = caught(blr.fit_map, X, y, **kw)
            entry["map"][prior_name] = fit.params
            entry["map_converged"][prior_name] = bool(fit.converged)
            if args.small and (name, prior_name) != ("complete", "Normal(0, 2.5)"):
                # Each NUTS run compiles anew (~15 s on 2 cores); --small samples once.
                print(
                    f"prior {prior_name}: MAP {fit.params.round(3)} "
                    f"(converged={fit.converged}); --small samples only the complete data "
                    "under Normal(0, 2.5)"
                )
                continue
            post, post_records = caught(blr.sample_posterior, X, y, seed=args.seed, **draws, **kw)
            for record in records + post_records:
                print(f"{prior_name} warned: {record.category.__name__}: {record.message}")
            summary = post.summary()
            median = np.median(post.flat_draws, axis=0)
            print(
                f"prior {prior_name}: MAP {fit.params.round(3)} (converged={fit.converged}); "
                f"posterior mean {summary['mean'].to_numpy().round(3)}, "
                f"median {median.round(3)}, sd {summary['sd'].to_numpy().round(3)}"
            )
            entry["posterior_median"][prior_name] = median
            entry["posterior_mean"][prior_name] = summary["mean"].to_numpy()
        results[name] = entry
        if "Cauchy(0, 2.5)" in entry["posterior_mean"]:
            print(
                "Under the Cauchy prior the slope's posterior tail falls only as 1/slope^2 "
                "(the likelihood tends to a constant), so its posterior mean does not exist: "
                "the sample mean is large and unstable; report the median instead."
            )

        direction = mle.separation.direction
        t = np.linspace(0.0, 30.0, 301)
        loglik, posteriors = log_densities_along(direction, X, y, t)
        ax.plot(t, loglik, color="black", label="log-likelihood (no maximum)")
        for i, (prior_name, values) in enumerate(posteriors.items()):
            ax.plot(t, values, color=f"C{i}", label=f"log posterior, {prior_name}")
            ax.plot(t[np.argmax(values)], values.max(), "o", color=f"C{i}")
        ax.axhline(0.0, color="grey", linewidth=0.8, linestyle=":")
        ax.set(
            xlabel="distance t along the separating direction",
            ylabel="nats",
            title=f"{name}: params = t x {direction.round(2).tolist()}",
            ylim=(-15, 1),
        )
        ax.legend(fontsize="small", loc="lower right")

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "separating_direction.png"
    fig.savefig(path, dpi=60 if args.small else 120)
    print(f"\nwrote {path}")
    return {**results, "figures": [path]}


if __name__ == "__main__":
    main()
