"""Fit a dose-response table of counts: k of n beetles killed at each dose.

Bliss's (1935) beetle data: 481 flour beetles exposed for five hours to one of eight
concentrations of carbon disulphide (log10 mg/l), and how many of each group died. The
table has eight rows; a 0/1 fit would need 481. ``trials=`` fits the counts directly
(``y`` = the deaths, ``trials`` = the beetles per dose), named as columns of the frame
in a formula, and gives the same estimates and standard errors as the 481 expanded rows.
The dose enters as ``I((dose - 1.8) * 10)``: tenths of a log10 unit above 1.8, so the
slope is on a scale where the default Normal(0, 2.5) prior means something.

It prints the MLE, the MAP and the posterior side by side, the residual deviance (as R's
``glm`` reports it) with its degrees of freedom, and the LD50 (the dose that kills half)
with a 95% interval from the posterior draws; the figure shows the observed proportions
with the fitted curve and the posterior's 95% band.

Run ``python examples/dose_response.py --help`` for options.
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

import bayeslogreg as blr

#: Bliss (1935), as tabulated in Dobson & Barnett, An Introduction to Generalized Linear
#: Models, table 7.2: log10 CS2 concentration, beetles exposed, beetles killed.
DOSE = [1.6907, 1.7242, 1.7552, 1.7842, 1.8113, 1.8369, 1.8610, 1.8839]
EXPOSED = [59, 60, 62, 56, 63, 59, 62, 60]
KILLED = [6, 13, 18, 28, 52, 53, 61, 60]
FORMULA = "killed ~ I((dose - 1.8) * 10)"


def beetles() -> pd.DataFrame:
    """Return the table: one row per dose, with the beetles exposed and killed."""
    return pd.DataFrame({"dose": DOSE, "exposed": EXPOSED, "killed": KILLED})


def expanded(table: pd.DataFrame) -> pd.DataFrame:
    """Return the same data as one 0/1 row per beetle (481 rows)."""
    dose = np.repeat(table.dose, table.exposed)
    killed = np.concatenate(
        [np.arange(n) < k for n, k in zip(table.exposed, table.killed, strict=True)]
    )
    return pd.DataFrame({"dose": dose.to_numpy(), "killed": killed.astype(int)})


def ld50_draws(posterior, grid: np.ndarray) -> np.ndarray:
    """Return each posterior draw's LD50: the first dose of ``grid`` where p >= 0.5."""
    _, probs = posterior.predict_proba(pd.DataFrame({"dose": grid}), return_draws=True)
    return grid[np.argmax(probs >= 0.5, axis=1)]


def figure(table, mle, posterior, grid) -> Figure:
    """Observed proportions, the MLE's curve and the posterior's 95% band."""
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    new = pd.DataFrame({"dose": grid})
    _, draws = posterior.predict_proba(new, return_draws=True)
    lower, upper = np.quantile(draws, [0.025, 0.975], axis=0)
    ax.fill_between(grid, lower, upper, alpha=0.3, label="posterior 95% band")
    ax.plot(grid, mle.predict_proba(new), label="MLE")
    ax.plot(table.dose, table.killed / table.exposed, "o", label="observed k / n")
    ax.set_xlabel("dose (log10 mg/l CS2)")
    ax.set_ylabel("proportion killed")
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=0, help="seed of the posterior's chains")
    parser.add_argument("--small", action="store_true", help="short chains, for tests")
    parser.add_argument("--out", type=Path, default=Path("examples-output/dose_response"))
    args = parser.parse_args(argv)

    table = beetles()
    print(f"{len(table)} doses, {table.exposed.sum()} beetles, {table.killed.sum()} killed")
    mle = blr.fit_mle(FORMULA, data=table, trials="exposed")
    rows = blr.fit_mle(FORMULA, data=expanded(table))
    gap = np.max(np.abs(mle.params - rows.params))
    print(f"the table and its {rows.n_rows} expanded rows give the same MLE (to {gap:.1e})")
    fit_map = blr.fit_map(FORMULA, data=table, trials="exposed")
    chains, draws = (2, 300) if args.small else (4, 1000)
    with warnings.catch_warnings():
        if args.small:  # short chains warn about their effective sample size
            warnings.simplefilter("ignore", blr.ConvergenceWarning)
        posterior = blr.sample_posterior(
            FORMULA,
            data=table,
            trials="exposed",
            num_chains=chains,
            num_samples=draws,
            seed=args.seed,
        )
    side_by_side = pd.DataFrame(
        {
            "MLE": mle.params,
            "MLE se": mle.stderr,
            "MAP": fit_map.params,
            "posterior mean": posterior.draws.mean(axis=(0, 1)),
            "posterior sd": posterior.draws.std(axis=(0, 1)),
        },
        index=mle.param_names,
    )
    print(side_by_side.round(3).to_string())
    dof = len(table) - len(mle.params)
    print(f"residual deviance {mle.deviance:.2f} on {dof} degrees of freedom (R's glm)")

    grid = np.linspace(min(DOSE) - 0.02, max(DOSE) + 0.02, 2001)
    ld50 = ld50_draws(posterior, grid)
    low, high = np.quantile(ld50, [0.025, 0.975])
    mle_ld50 = 1.8 - mle.params[0] / (10 * mle.params[1])
    print(
        f"LD50: {mle_ld50:.4f} log10 mg/l (MLE); posterior median {np.median(ld50):.4f}, "
        f"95% interval [{low:.4f}, {high:.4f}]"
    )

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "dose_response.png"
    figure(table, mle, posterior, grid).savefig(path, dpi=60 if args.small else 120)
    print(f"wrote {path}")
    return {
        "table": table,
        "mle": mle,
        "expanded_mle": rows,
        "map": fit_map,
        "posterior": posterior,
        "ld50_mle": float(mle_ld50),
        "ld50_interval": (float(low), float(high)),
        "figures": [path],
    }


if __name__ == "__main__":
    main()
