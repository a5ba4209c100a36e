"""HIGGS: from the gzipped UCI file to the comparison report, with each stage timed.

The UCI HIGGS data set has 11,000,000 simulated collision events: a 0/1 label (1 =
signal) then 28 features, in a CSV file without a header (``HIGGS.csv.gz``, 2.6 GB).
By UCI convention the last 500,000 rows are the test set. This script

1. loads the file with ``datasets.load_higgs``: the first run parses it into a
   memory-mapped cache beside it, later runs open the cache in milliseconds;
2. fits the MLE by Newton's method, and samples the posterior (Normal(0, 2.5) priors:
   the features are on scales near 1) by independence Metropolis-Hastings around the
   MAP (``sampler="imh"``, exact MCMC whose cost is a few passes over the data; the MAP
   it starts from is the report's MAP); ``--sampler nuts`` takes hours at 11M rows;
3. compares the three on the test rows (all of them by default) and writes the report,

and prints the time of each stage. Without a file it first writes a synthetic one of
the same format (``datasets.write_higgs_like``), whose labels follow a known logistic
model, and checks the fits against the true parameters. Give the real file as ``python
examples/higgs.py HIGGS.csv.gz``. Run ``python examples/higgs.py --help`` for options;
``--small`` is a quick run on 20,000 synthetic rows.
"""

import argparse
import time
from pathlib import Path

import numpy as np

import bayeslogreg as blr
from bayeslogreg.priors import Normal

#: Draws per chain (warm-up, kept) of each sampler, unless --num-samples says otherwise.
DRAWS = {"imh": (25, 300), "nuts": (500, 1000)}


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
        "--report-rows", type=int, help="test rows scored in the report (default all)"
    )
    parser.add_argument("--sampler", choices=sorted(DRAWS), default="imh")
    parser.add_argument("--num-samples", type=int, help="posterior draws per chain")
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
    seconds = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[stage] = now - clock
        clock = now

    train, test = blr.datasets.load_higgs(
        path, n_rows=args.n_rows, dtype=np.dtype(args.dtype), progress=not args.small
    )
    lap("load")
    print(
        f"loaded {path.name}: {train.X.shape[0]:,} training and {test.X.shape[0]:,} test rows, "
        f"{train.X.shape[1]} features, {train.X.dtype}"
    )

    names = {"feature_names": train.feature_names}
    priors = {"prior": Normal(0.0, 2.5), "intercept_prior": Normal(0.0, 10.0)}
    mle = blr.fit_mle(train.X, train.y, **names)
    lap("MLE")
    num_warmup, num_samples = DRAWS[args.sampler]
    if args.small:
        num_warmup, num_samples = min(num_warmup, 200), 200
    posterior = blr.sample_posterior(
        train.X,
        train.y,
        sampler=args.sampler,
        num_warmup=num_warmup,
        num_samples=args.num_samples or num_samples,
        seed=args.seed,
        # Per-row log-likelihoods of every draw: tens of GB at 11M rows.
        store_log_likelihood=False,
        **priors,
        **names,
    )
    lap(f"MAP and posterior ({posterior.sampler_name})")
    map_fit = posterior.map_estimate
    for fit in (mle, map_fit):
        print(
            f"{fit.estimator.upper()}: {fit.method}, {fit.n_iter} iterations, "
            f"{fit.n_passes} passes over the data, converged {fit.converged}, "
            f"{fit.fit_time:.1f} s"
        )
    worst = posterior.summary()
    print(
        f"posterior ({posterior.sampler_name}): {posterior.num_chains} chains x "
        f"{posterior.num_samples} draws in {posterior.fit_time:.1f} s (MAP included); R-hat "
        f"at most {worst['r_hat'].max():.3f}, bulk ESS at least {worst['ess_bulk'].min():.0f}"
    )

    X_test, y_test = test.X, test.y
    if args.report_rows is not None and args.report_rows < len(y_test):
        rows = np.random.default_rng(args.seed).permutation(len(y_test))[: args.report_rows]
        rows.sort()
        X_test, y_test = X_test[rows], y_test[rows]
    report = blr.compare([mle, map_fit, posterior], X_test, y_test, title=f"HIGGS: {path.name}")
    lap(f"comparison on {len(y_test):,} test rows")
    print(report.metrics[["auc", "auc_lower", "auc_upper", "log_loss"]].round(4).to_string())
    report.save(args.out / "report")
    lap("report written (HTML, Markdown, figures)")
    figure = args.out / "report" / "figures" / "forest.png"
    print(f"report written to {args.out / 'report'}")
    for stage, value in seconds.items():
        print(f"{stage:<44} {value:7.1f} s")
    print(f"{'total':<44} {sum(seconds.values()):7.1f} s")

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
        "seconds": seconds,
    }
    if truth is not None:
        z = np.abs(mle.params - truth) / mle.stderr
        print(f"MLE against the true parameters: largest |error| / se = {z.max():.2f}")
        result["max_z_mle"] = float(z.max())
    return result


if __name__ == "__main__":
    main()
