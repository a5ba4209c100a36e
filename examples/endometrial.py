"""MLE, Firth, MAP, variational inference and NUTS on data the MLE cannot fit.

The endometrial data (79 patients, Heinze and Schemper 2002; shipped with the package):
high histology grade against neovasculation (NV, 0/1), pulsatility index (PI) and
endometrium height (EH). No patient with NV = 1 has a low grade, so NV separates the
data quasi-completely and the MLE does not exist: ``fit_mle`` warns and its NV
coefficient runs away. Firth's penalised likelihood (MAP under the Jeffreys prior,
R's ``logistf``) is finite, with profile penalised-likelihood intervals; MAP with the
default priors, full-rank ADVI and NUTS give the Bayesian answers, and ``compare()``
says how far each shortcut lies from the NUTS posterior.

Run ``python examples/endometrial.py --help`` for options.
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import bayeslogreg as blr
from bayeslogreg import priors
from bayeslogreg.datasets import load_endometrial
from bayeslogreg.report.figures import figure_to_png, forest_figure


def fit_all(X, y, names, *, small: bool, seed: int) -> dict:
    """Fit the five estimators; the MLE's separation warning is kept, not raised."""
    chains = {"num_chains": 2, "num_warmup": 300, "num_samples": 500} if small else {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mle = blr.fit_mle(X, y, feature_names=names)
    for warning in caught:
        print(f"MLE: {type(warning.message).__name__}: {str(warning.message)[:160]}...")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", blr.ApproximationWarning)  # k-hat is in the table
        vi = blr.fit_vi(X, y, feature_names=names, method="fullrank", seed=seed)
    return {
        "MLE": mle,
        "Firth": blr.fit_map(X, y, prior=priors.Jeffreys(), feature_names=names),
        "MAP": blr.fit_map(X, y, feature_names=names),
        "VI": vi,
        "NUTS": blr.sample_posterior(X, y, feature_names=names, seed=seed, **chains),
    }


def main(argv=None) -> dict:
    """Fit, print the tables, write the forest figure; return what the tests check."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="short chains, for tests")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("examples-output/endometrial"))
    args = parser.parse_args(argv)
    data = load_endometrial()
    X, y, names = data.X, data.y, list(data.feature_names)
    fits = fit_all(X, y, names, small=args.small, seed=args.seed)

    firth = fits["Firth"]
    profile = firth.conf_int(method="profile", X=X, y=y)
    table = pd.DataFrame(
        {
            "Firth": firth.params,
            "Wald lower": firth.conf_int()[:, 0],
            "Wald upper": firth.conf_int()[:, 1],
            "profile lower": profile[:, 0],
            "profile upper": profile[:, 1],
        },
        index=firth.param_names,
    )
    print("\nFirth's estimate with Wald and profile penalised-likelihood 95% intervals:")
    print(table.round(4).to_string())

    comparison = blr.compare(fits, X, y, title="Endometrial data: five estimators")
    estimates = comparison.coefficients.xs("estimate", axis=1, level="quantity")
    print("\nEstimates (the MLE's NV is where its optimizer stopped, not an estimate):")
    print(estimates.round(3).to_string())
    print("\nDistance to the NUTS posterior, in its posterior sds:")
    columns = ["method", "same_model", "max_abs_shift_sd", "sd_ratio_min", "sd_ratio_max"]
    print(comparison.approximations[columns].round(3).to_string())

    args.out.mkdir(parents=True, exist_ok=True)
    shown = {n: e for n, e in fits.items() if n != "MLE"}  # its NV interval is unbounded
    intervals = {
        name: tuple(
            comparison.coefficients[name][q].to_numpy() for q in ("estimate", "lower", "upper")
        )
        for name in shown
    }
    path = args.out / "endometrial_forest.png"
    path.write_bytes(figure_to_png(forest_figure(intervals, list(estimates.index))))
    print(f"\nwrote {path}")
    return {
        "fits": fits,
        "profile": profile,
        "approximations": comparison.approximations,
        "figures": [path],
        "nv_index": firth.param_names.index("NV"),
    }


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    main()
