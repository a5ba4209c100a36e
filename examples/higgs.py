"""HIGGS: load a large UCI-format file, fit MLE, MAP and the posterior, write the report.

The UCI HIGGS data set has 11,000,000 simulated collision events: a 0/1 label (1 =
signal) then 28 features, in a CSV file without a header (``HIGGS.csv.gz``, 2.6 GB).
By UCI convention the last 500,000 rows are the test set. This script

1. loads the file with ``datasets.load_higgs``: the first run parses it into a
   memory-mapped cache beside it, later runs open the cache in milliseconds;
2. fits the MLE and the MAP (Normal(0, 2.5) priors: the features are on scales near 1)
   by Newton's method, and samples the posterior;
3. compares the three on (a sample of) the test rows and writes the report.

Without a file it first writes a synthetic one of the same format
(``datasets.write_higgs_like``), whose labels follow a known logistic model, and checks
the fits against the true parameters. Give the real file as ``python examples/higgs.py
HIGGS.csv.gz``. Run ``python examples/higgs.py --help`` for options; ``--small`` is a
quick run on 20,000 synthetic rows.
"""

import argparse
import time
from pathlib import Path

import numpy as np

import bayeslogreg as blr
from bayeslogreg.priors import Normal


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", type=Path, nargs="?", help="HIGGS.csv.gz (default: synthetic)")
    parser.add_argument(
        "--n-rows", type=int, help="read only the first rows (default all; synthetic: 1,000,000)"
    )
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument(
        "--report-rows", type=int, default=100_000, help="test rows scored in the report"
    )
    parser.add_argument("--num-samples", type=int, default=1000, help="posterior draws per chain")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--small", action="store_true", help="20,000 synthetic rows, for tests")
    parser.add_argument("--out", type=Path, default=Path("examples-output/higgs"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    truth = None
    path = args.path
    if path is None:
        n_rows = 20_000 if args.small else (args.n_rows or 1_000_000)
        path = args.out / f"HIGGS_like_{n_rows}.csv.gz"
        if not path.exists():  # written once: later runs reuse the file and its cache
            print(f"writing {n_rows:,} synthetic rows in the UCI format to {path}")
            blr.datasets.write_higgs_like(path, n_rows, seed=args.seed)
        truth = np.array([blr.datasets.HIGGS_LIKE_INTERCEPT, *blr.datasets.HIGGS_LIKE_COEF])
    start = time.perf_counter()
    train, test = blr.datasets.load_higgs(
        path, n_rows=args.n_rows, dtype=np.dtype(args.dtype), progress=not args.small
    )
    print(
        f"loaded {path.name}: {train.X.shape[0]:,} training and {test.X.shape[0]:,} test rows, "
        f"{train.X.shape[1]} features, {train.X.dtype} ({time.perf_counter() - start:.1f} s)"
    )

    names = {"feature_names": train.feature_names}
    priors = {"prior": Normal(0.0, 2.5), "intercept_prior": Normal(0.0, 10.0)}
    mle = blr.fit_mle(train.X, train.y, **names)
    map_fit = blr.fit_map(train.X, train.y, **priors, **names)
    for fit in (mle, map_fit):
        print(
            f"{fit.estimator.upper()}: {fit.method}, {fit.n_iter} iterations, "
            f"{fit.n_passes} passes over the data, converged {fit.converged}, "
            f"{fit.fit_time:.1f} s"
        )
    draws = {"num_warmup": 200, "num_samples": 200} if args.small else {}
    draws = draws or {"num_samples": args.num_samples}
    posterior = blr.sample_posterior(train.X, train.y, seed=args.seed, **draws, **priors, **names)
    worst = posterior.summary()
    print(
        f"posterior: {posterior.num_chains} chains x {posterior.num_samples} draws in "
        f"{posterior.fit_time:.1f} s; R-hat at most {worst['r_hat'].max():.3f}, "
        f"bulk ESS at least {worst['ess_bulk'].min():.0f}"
    )

    rows = np.random.default_rng(args.seed).permutation(len(test.y))[: args.report_rows]
    rows.sort()
    report = blr.compare(
        [mle, map_fit, posterior], test.X[rows], test.y[rows], title=f"HIGGS: {path.name}"
    )
    print(report.metrics[["auc", "auc_lower", "auc_upper", "log_loss"]].round(4).to_string())
    report.save(args.out / "report")
    figure = args.out / "report" / "figures" / "forest.png"
    print(f"report written to {args.out / 'report'}")

    result = {
        "mle": mle.params,
        "mle_stderr": mle.stderr,
        "map": map_fit.params,
        "posterior_mean": posterior.params,
        "posterior_sd": posterior.stderr,
        "converged": bool(mle.converged and map_fit.converged),
        "auc": report.metrics["auc"].to_dict(),
        "report": args.out / "report",
        "figures": [figure],
        "truth": truth,
    }
    if truth is not None:
        z = np.abs(mle.params - truth) / mle.stderr
        print(f"MLE against the true parameters: largest |error| / se = {z.max():.2f}")
        result["max_z_mle"] = float(z.max())
    return result


if __name__ == "__main__":
    main()
