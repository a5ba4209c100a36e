"""Four students: the log-likelihood surface over (intercept, slope), with MLE and MAP.

Hours studied 3, 2, 0, 4 with grades F, P, F, P (P = 1). The model is
P(pass) = sigmoid(intercept + slope * hours). With two parameters the log-likelihood is
a surface: this script draws it (and the log posterior) with the MLE, the MAP, the
Laplace ellipses at the MAP and NUTS posterior draws on top.

Whether an MLE exists depends on separation: if some line in hours split the F's from
the P's, the likelihood would keep rising as the slope grows and there would be no
maximum. Here the F at 3 hours sits between the P's at 2 and 4 hours: the classes
overlap, so the surface has a peak and the MLE is finite.

Run ``python examples/four_students.py --help`` for options; ``--small`` is a quick run.
"""

import argparse
from pathlib import Path

import numpy as np

import bayeslogreg as blr
from bayeslogreg.priors import Normal
from bayeslogreg.report.figures import surface_figure
from bayeslogreg.separation import detect_separation

HOURS = np.array([3.0, 2.0, 0.0, 4.0])
GRADES = "FPFP"


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out", type=Path, default=Path("examples-output/four_students"), help="figure folder"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prior-scale", type=float, default=2.5, help="slope ~ Normal(0, s)")
    parser.add_argument("--small", action="store_true", help="short chains, for tests")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    X = HOURS[:, None]
    y = np.array([1 if grade == "P" else 0 for grade in GRADES])
    for hours, grade in zip(HOURS, GRADES, strict=True):
        print(f"  {hours:g} hours -> {grade}")

    separation = detect_separation(X, y, feature_names=["hours"])
    separated = separation is not None
    if separated:
        print(f"The classes are separated ({separation.kind}): the MLE does not exist.")
    else:
        print(
            "No line in hours separates F from P (the F at 3 hours lies between the P's at "
            "2 and 4), so the log-likelihood has a finite maximum: the MLE exists."
        )

    mle = blr.fit_mle(X, y, feature_names=["hours"])
    print(
        f"MLE: intercept {mle.intercept:+.6f}, slope {mle.coef[0]:+.6f} "
        f"(s.e. {mle.stderr[0]:.2f}, {mle.stderr[1]:.2f}), log-likelihood {mle.log_likelihood:.4f}"
    )
    prior, intercept_prior = Normal(0.0, args.prior_scale), Normal(0.0, 10.0)
    priors = {"prior": prior, "intercept_prior": intercept_prior, "feature_names": ["hours"]}
    map_fit = blr.fit_map(X, y, **priors)
    print(
        f"MAP (slope ~ {prior!r}, intercept ~ {intercept_prior!r}): intercept "
        f"{map_fit.intercept:+.4f}, slope {map_fit.coef[0]:+.4f}"
    )
    draws = {"num_chains": 2, "num_warmup": 300, "num_samples": 300} if args.small else {}
    posterior = blr.sample_posterior(X, y, seed=args.seed, **priors, **draws)
    summary = posterior.summary()
    for name, row in summary.iterrows():
        print(
            f"Posterior {name}: mean {row['mean']:+.3f}, sd {row['sd']:.3f}, "
            f"95% HDI [{row['ci_lower']:+.3f}, {row['ci_upper']:+.3f}]"
        )
    print(
        "With four students the surface is broad: the Laplace ellipse and the draws span "
        "slopes from negative to strongly positive; the data barely pin the slope down."
    )

    fig = surface_figure(
        X,
        y,
        prior=prior,
        intercept_prior=intercept_prior,
        mle=mle,
        map_=map_fit,
        map_cov=map_fit.cov,
        draws=posterior.draws,
    )
    path = args.out / "four-students-surface.png"
    fig.savefig(path, dpi=100)
    print(f"Figure written to {path}")
    return {
        "separated": separated,
        "mle": np.asarray(mle.params),
        "mle_stderr": np.asarray(mle.stderr),
        "mle_converged": bool(mle.converged),
        "mle_log_likelihood": float(mle.log_likelihood),
        "map": np.asarray(map_fit.params),
        "posterior_mean": np.asarray(posterior.params),
        "figures": [path],
    }


if __name__ == "__main__":
    main()
