"""The demo: MLE, MAP and NUTS on the effort data, side by side with the truth.

``bayeslogreg demo`` prints what :func:`run_demo` computes, formatted by
:func:`format_demo`.
"""

import time
from dataclasses import dataclass

import pandas as pd

from bayeslogreg.datasets import Dataset, load_effort
from bayeslogreg.estimators.nuts import Posterior
from bayeslogreg.estimators.point import PointEstimate
from bayeslogreg.metrics import roc_auc
from bayeslogreg.model import log_likelihood
from bayeslogreg.priors import Normal
from bayeslogreg.report.workflow import fit_one

__all__ = ["GUESSES", "DemoResult", "demo_figure", "format_demo", "run_demo"]

#: Two naive guesses (intercept, slope) whose log-likelihoods the demo compares.
GUESSES = {"guess A (-3, 1)": (-3.0, 1.0), "guess B (-6, 4)": (-6.0, 4.0)}


@dataclass(frozen=True)
class DemoResult:
    """Everything the demo prints.

    parameters : one row per parameter (true value, estimates, uncertainty, R-hat, ESS)
    fits : one row per estimator and guess (train log-likelihood, test AUC, seconds)
    """

    train: Dataset
    test: Dataset
    mle: PointEstimate
    map: PointEstimate
    posterior: Posterior
    parameters: pd.DataFrame
    fits: pd.DataFrame
    seconds: float


def run_demo(
    n_samples: int = 1000,
    *,
    seed: int = 0,
    num_warmup: int = 1000,
    num_samples: int = 1000,
    num_chains: int = 4,
) -> DemoResult:
    """Fit the effort data (train: ``seed``, held-out test: ``seed + 1``) three ways."""
    start = time.perf_counter()
    train, test = load_effort(n_samples, seed=seed), load_effort(n_samples, seed=seed + 1)
    X, y, names = train.X, train.y, train.feature_names
    mle, map_fit, posterior = (
        fit_one(
            estimator,
            X,
            y,
            feature_names=names,
            prior=Normal(0.0, 2.5),
            intercept_prior=Normal(0.0, 10.0),
            seed=seed,
            num_chains=num_chains,
            num_warmup=num_warmup,
            num_samples=num_samples,
        )
        for estimator in ("mle", "map", "nuts")
    )
    summary = posterior.summary(level=0.95)
    parameters = pd.DataFrame(
        {
            "true": [train.intercept, *train.coef],
            "mle": mle.params,
            "mle_se": mle.stderr,
            "map": map_fit.params,
            "map_se": map_fit.stderr,
            "post_mean": summary["mean"].to_numpy(),
            "post_sd": summary["sd"].to_numpy(),
            "hdi_lower": summary["ci_lower"].to_numpy(),
            "hdi_upper": summary["ci_upper"].to_numpy(),
            "r_hat": summary["r_hat"].to_numpy(),
            "ess_bulk": summary["ess_bulk"].to_numpy(),
        },
        index=pd.Index(mle.param_names, name="parameter"),
    )
    rows = {}
    for name, fit in (("MLE", mle), ("MAP", map_fit), ("posterior mean", posterior)):
        rows[name] = (
            log_likelihood(X, y, fit.intercept, fit.coef),
            roc_auc(test.y, fit.predict_proba(test.X)),
            fit.fit_time,
        )
    for name, (intercept, slope) in GUESSES.items():
        rows[name] = (log_likelihood(X, y, intercept, [slope]), float("nan"), float("nan"))
    fits = pd.DataFrame.from_dict(
        rows, orient="index", columns=["train_log_likelihood", "test_auc", "seconds"]
    )
    fits.index.name = "estimate"
    seconds = time.perf_counter() - start
    return DemoResult(train, test, mle, map_fit, posterior, parameters, fits, seconds)


def _pm(value: float, spread: float) -> str:
    return f"{value:7.3f} ± {spread:.3f}"


def format_demo(result: DemoResult) -> str:
    """Plain-text report of a :class:`DemoResult`, as ``bayeslogreg demo`` prints it."""
    post = result.posterior
    p = result.parameters
    table = pd.DataFrame(
        {
            "true": p["true"].map("{:.2f}".format),
            "MLE ± se": [_pm(v, s) for v, s in zip(p["mle"], p["mle_se"], strict=True)],
            "MAP ± se": [_pm(v, s) for v, s in zip(p["map"], p["map_se"], strict=True)],
            "posterior mean ± sd": [
                _pm(v, s) for v, s in zip(p["post_mean"], p["post_sd"], strict=True)
            ],
            "95% HDI": [
                f"[{lo:.3f}, {hi:.3f}]"
                for lo, hi in zip(p["hdi_lower"], p["hdi_upper"], strict=True)
            ],
            "R-hat": p["r_hat"].map("{:.3f}".format),
            "bulk ESS": p["ess_bulk"].map("{:.0f}".format),
        },
        index=p.index,
    )
    fits = result.fits.copy()
    fits["train_log_likelihood"] = fits["train_log_likelihood"].map("{:.2f}".format)
    fits["test_auc"] = fits["test_auc"].map(lambda v: "" if v != v else f"{v:.4f}")
    fits["seconds"] = fits["seconds"].map(lambda v: "" if v != v else f"{v:.2f}")
    train, test = result.train, result.test
    lines = [
        "bayeslogreg demo: effort (thousands of hours, Uniform(0, 3)) -> landed a blockbuster role",
        f"train: {len(train.y)} simulated rows ({int(train.y.sum())} ones); held-out test: "
        f"{len(test.y)} rows; true intercept {train.intercept:g}, true slope {train.coef[0]:g}",
        f"MAP prior: coef ~ {result.map.prior!r}, intercept ~ {result.map.intercept_prior!r}; "
        f"NUTS: {post.num_chains} chains x {post.num_samples} draws after {post.num_warmup} "
        f"warm-up, {post.num_divergences} divergences",
        "",
        table.to_string(),
        "",
        "Which guess is less wrong? Log-likelihood on the training data (higher is better),",
        "and AUC on the held-out rows:",
        fits.to_string(),
        "",
        f"total time {result.seconds:.1f} s",
    ]
    return "\n".join(lines)


def demo_figure(result: DemoResult):
    """Draw the effort data's log-likelihood and log-posterior over (intercept, slope).

    The MLE and the MAP are marked, with the Laplace ellipses at the MAP and the NUTS
    draws on the posterior panel: the figure shown in the README.
    """
    from bayeslogreg.report.figures import surface_figure

    return surface_figure(
        result.train.X,
        result.train.y,
        prior=result.map.prior,
        intercept_prior=result.map.intercept_prior,
        mle=result.mle,
        map_=result.map,
        map_cov=result.map.cov,
        draws=result.posterior.draws,
    )
