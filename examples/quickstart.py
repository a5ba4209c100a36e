"""Fit the effort data by MLE, MAP and NUTS and print the three summaries side by side.

Run ``python examples/quickstart.py --help`` for options; ``--small`` is a quick run.
"""

import argparse

import pandas as pd

import bayeslogreg as blr
from bayeslogreg.priors import Normal


def main(argv=None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-samples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--small", action="store_true", help="short chains, for tests")
    args = parser.parse_args(argv)

    data = blr.datasets.load_effort(args.n_samples, seed=args.seed)
    kw = {"feature_names": data.feature_names}
    draws = {"num_warmup": 300, "num_samples": 500} if args.small else {}
    mle = blr.fit_mle(data.X, data.y, **kw)
    map_fit = blr.fit_map(data.X, data.y, prior=Normal(0, 2.5), **kw)
    post = blr.sample_posterior(data.X, data.y, prior=Normal(0, 2.5), seed=args.seed, **draws, **kw)
    table = pd.concat(
        {
            "true": pd.Series([data.intercept, *data.coef], index=mle.param_names),
            "MLE": mle.summary()["estimate"],
            "MLE se": mle.summary()["std_err"],
            "MAP": map_fit.summary()["estimate"],
            "MAP se": map_fit.summary()["std_err"],
            "posterior mean": post.summary()["mean"],
            "posterior sd": post.summary()["sd"],
        },
        axis=1,
    )
    print(table.round(3).to_string())
    return table


if __name__ == "__main__":
    main()
