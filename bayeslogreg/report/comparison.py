"""Compare fitted estimators on the same held-out data: tables, figures, reports.

:func:`compare` takes any mix of :class:`~bayeslogreg.PointEstimate` and
:class:`~bayeslogreg.Posterior` and returns a :class:`Comparison` with three tables
(coefficients, predictive metrics, paired DeLong tests), figures on demand, and the
Markdown, HTML and JSON reports.
"""

import dataclasses
import itertools
import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bayeslogreg import _arviz
from bayeslogreg._validation import (
    align_y,
    check_choice,
    check_level,
    check_text,
    check_threshold,
    check_y,
)
from bayeslogreg.diagnostics import loo, predictive_metrics, roc_band
from bayeslogreg.estimators.nuts import Posterior
from bayeslogreg.estimators.point import PointEstimate
from bayeslogreg.estimators.vi import KHAT_THRESHOLD, VariationalPosterior
from bayeslogreg.metrics import (
    auc_ci,
    brier_score,
    calibration_curve,
    delong_test,
    expected_calibration_error,
    log_loss,
    rates,
    roc_curve,
)
from bayeslogreg.priors import Flat, Jeffreys
from bayeslogreg.report import render
from bayeslogreg.report._approximations import approximation_table, reference_name
from bayeslogreg.report._heldout import HeldOutRows, held_out_rows
from bayeslogreg.report.provenance import provenance

__all__ = ["Comparison", "compare", "paired_delong_tests"]

_DEFAULT_NAMES = {"mle": "MLE", "map": "MAP"}
#: A posterior's per-draw quantities on the rows (its per-draw metrics, the ROC band, the
#: marginal effects) cost draws x rows; past this many, each chain is thinned evenly...
_DRAW_ROWS_BUDGET = 2**26
#: ... to no fewer draws than this (all of them when there are fewer).
_MIN_SCORED_DRAWS = 200


def _is_firth(estimate) -> bool:
    """Whether ``estimate`` is a MAP under the Jeffreys prior (Firth's estimate)."""
    return isinstance(estimate, PointEstimate) and isinstance(estimate.prior, Jeffreys)


def _interval_kind(estimate) -> str:
    if isinstance(estimate, Posterior):
        return "HDI"
    if _is_firth(estimate):  # logistf's: the inverse Fisher information at the estimate
        return "Wald (Firth)"
    return "Wald" if estimate.estimator == "mle" else "Laplace"


def _describe(estimate) -> str:
    """One line saying what an estimate is, e.g. ``MAP (newton), Normal(0, 2.5) prior``.

    A fit of a formula adds it and the reference levels of its categorical factors.
    """
    if isinstance(estimate, VariationalPosterior):
        text = (
            f"variational approximation ({estimate.sampler_name}, {estimate.num_samples} "
            f"draws, Pareto k-hat {estimate.pareto_k:.2f}), "
            f"coef ~ {estimate.prior!r}, intercept ~ {estimate.intercept_prior!r}"
        )
    elif isinstance(estimate, Posterior):
        text = (
            f"posterior ({estimate.sampler_name}, {estimate.num_chains} chains x "
            f"{estimate.num_samples} draws), "
            f"coef ~ {estimate.prior!r}, intercept ~ {estimate.intercept_prior!r}"
        )
    else:
        text = f"{estimate.estimator.upper()} ({estimate.method})"
        if estimate.estimator == "map":
            text += f", coef ~ {estimate.prior!r}, intercept ~ {estimate.intercept_prior!r}"
    return text if estimate.formula is None else f"{text}; {estimate.formula.describe()}"


def _result_of(estimate):
    """Return the result of a fitted scikit-learn estimator (its ``result_``), else itself."""
    result = getattr(estimate, "result_", None)
    return result if isinstance(result, PointEstimate | Posterior) else estimate


def _named(estimates) -> dict:
    """``{name: estimate}`` from a mapping or a sequence (names made from the kind)."""
    if isinstance(estimates, PointEstimate | Posterior) or hasattr(estimates, "result_"):
        estimates = [estimates]
    if isinstance(estimates, Mapping):
        named = {str(name): _result_of(est) for name, est in estimates.items()}
        if len(named) < len(estimates):
            keys = [name for name in estimates if list(map(str, estimates)).count(str(name)) > 1]
            raise ValueError(
                f"estimate names {keys} are the same once written as text "
                f"({sorted({str(k) for k in keys})}); give each estimate its own name."
            )
    else:
        named, counts = {}, {}
        for est in map(_result_of, estimates):
            if isinstance(est, Posterior):
                base = "posterior"
            elif _is_firth(est):
                base = "Firth"
            else:
                base = _DEFAULT_NAMES.get(getattr(est, "estimator", None), "estimate")
            counts[base] = counts.get(base, 0) + 1
            named[base if counts[base] == 1 else f"{base} {counts[base]}"] = est
    if not named:
        raise ValueError("compare() needs at least one fitted estimate; got none.")
    for name, est in named.items():
        if not isinstance(est, PointEstimate | Posterior):
            raise ValueError(
                f"compare() takes PointEstimate and Posterior results; {name!r} is a "
                f"{type(est).__name__}. Fit it with fit_mle, fit_map or sample_posterior."
            )
    features = {est.feature_names for est in named.values()}
    if len(features) > 1:
        raise ValueError(
            "The estimates were fitted on different features "
            f"({' vs '.join(str(list(f)) for f in features)}); compare fits of one model."
        )
    return named


def _coefficients(named: dict, level: float) -> pd.DataFrame:
    """Estimates and intervals per estimator, plus shifts in posterior sd units."""
    first = next(iter(named.values()))
    columns = {}
    reference = named.get(reference_name(named))
    for name, est in named.items():
        lower, upper = est.conf_int(level).T
        columns[(name, "estimate")] = est.params
        columns[(name, "lower")] = lower
        columns[(name, "upper")] = upper
        columns[(name, "sd")] = est.stderr
        if reference is not None and est is not reference:
            columns[(name, "shift_sd")] = (est.params - reference.params) / reference.stderr
    table = pd.DataFrame(columns, index=pd.Index(first.param_names, name="parameter"))
    table.columns = pd.MultiIndex.from_tuples(table.columns, names=["estimator", "quantity"])
    return table


def _thinned(posterior: Posterior, n_rows: int) -> Posterior:
    """``posterior`` with each chain thinned evenly to fit :data:`_DRAW_ROWS_BUDGET`.

    Itself when its draws x ``n_rows`` fit, or it has at most :data:`_MIN_SCORED_DRAWS`.
    """
    keep = max(_MIN_SCORED_DRAWS, _DRAW_ROWS_BUDGET // max(n_rows, 1))
    per_chain = -(-keep // posterior.num_chains)
    if per_chain >= posterior.num_samples:
        return posterior
    index = np.linspace(0, posterior.num_samples - 1, per_chain).round().astype(np.int64)
    return dataclasses.replace(posterior, draws=posterior.draws[:, index])


@dataclass(frozen=True)
class _Scores:
    """Predictions of one estimator on the test rows.

    ``per_draw`` and ``band`` come from a posterior's draws, each chain thinned evenly on
    large test sets (:func:`_thinned`).
    """

    prob: np.ndarray
    per_draw: pd.DataFrame | None = None
    band: object = None


def _score(estimate, rows: HeldOutRows, threshold: float, level: float, chunk_size) -> _Scores:
    prob = estimate._predict(rows.X, rows.offset)
    if not isinstance(estimate, Posterior):
        return _Scores(prob)
    draws = _thinned(estimate, len(rows.y)).flat_draws
    given = {"sample_weight": rows.weight, "offset": rows.offset, "chunk_size": chunk_size}
    per_draw = predictive_metrics(draws, rows.X, rows.y, threshold=threshold, **given)
    band = roc_band(draws, rows.X, rows.y, level=level, **given)
    return _Scores(prob, per_draw, band)


def _metrics_row(estimate, scores: _Scores, rows: HeldOutRows, threshold, level, n_bins: int):
    y, weighted = rows.y, {"sample_weight": rows.weight}
    auc = auc_ci(y, scores.prob, level=level, **weighted)
    counts = rates(y, scores.prob, threshold=threshold, **weighted)
    row = {
        "auc": auc.auc,
        "auc_lower": auc.lower,
        "auc_upper": auc.upper,
        "auc_post_lower": np.nan,
        "auc_post_upper": np.nan,
        "log_loss": log_loss(y, scores.prob, **weighted),
        "brier": brier_score(y, scores.prob, **weighted),
        "ece": float(expected_calibration_error(y, scores.prob, n_bins=n_bins, **weighted)),
        "accuracy": counts["accuracy"],
        "precision": counts["precision"],
        "recall": counts["recall"],
        "specificity": counts["specificity"],
        "fit_time": estimate.fit_time,
        "converged": True,
        "r_hat_max": np.nan,
        "ess_bulk_min": np.nan,
        "ess_per_second": np.nan,
        "divergences": np.nan,
        "elpd_loo": np.nan,
        "elpd_loo_se": np.nan,
        "p_loo": np.nan,
        "max_pareto_k": np.nan,
    }
    if isinstance(estimate, VariationalPosterior):  # independent draws: no chains to mix
        tail = (1 - level) / 2
        row["auc_post_lower"], row["auc_post_upper"] = np.quantile(
            scores.per_draw["auc"], [tail, 1 - tail]
        )
        row["ess_bulk_min"] = float(estimate.summary()["ess_bulk"].min())
        row["ess_per_second"] = row["ess_bulk_min"] / estimate.fit_time
        row["converged"] = bool(estimate.pareto_k <= KHAT_THRESHOLD)
        row.update(_loo_columns(estimate))
    elif isinstance(estimate, Posterior):
        tail = (1 - level) / 2
        row["auc_post_lower"], row["auc_post_upper"] = np.quantile(
            scores.per_draw["auc"], [tail, 1 - tail]
        )
        summary = estimate.summary()
        row["r_hat_max"] = float(summary["r_hat"].max())
        row["ess_bulk_min"] = float(summary["ess_bulk"].min())
        row["ess_per_second"] = row["ess_bulk_min"] / estimate.fit_time
        row["divergences"] = estimate.num_divergences
        row["converged"] = bool(row["r_hat_max"] < 1.01 and estimate.num_divergences == 0)
        row.update(_loo_columns(estimate))
    else:
        row["converged"] = bool(estimate.converged)
    return row


def _loo_columns(posterior: Posterior) -> dict:
    """PSIS-LOO on the training rows; empty when the posterior cannot give it.

    A posterior sampled without the per-row log-likelihood, or too large for exact LOO,
    is scored by the held-out log-loss alone (``-log_loss`` is its held-out elpd per row).
    The Pareto-k warning is not repeated here: ``max_pareto_k`` carries it into the
    findings.
    """
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="PSIS-LOO may be unreliable")
            result = loo(posterior)
    except ValueError:
        return {}
    return {
        "elpd_loo": result.elpd,
        "elpd_loo_se": result.se,
        "p_loo": result.p,
        "max_pareto_k": result.max_pareto_k,
    }


def paired_delong_tests(probs: dict, y: np.ndarray, weight=None) -> pd.DataFrame:
    """DeLong's paired test of equal AUC for each pair of ``probs`` (name -> probabilities).

    Columns estimator_a, estimator_b, auc_a, auc_b, difference, se, z, p_value; one row
    per pair, in the order of ``itertools.combinations``.
    """
    tests = []
    for a, b in itertools.combinations(probs, 2):
        test = delong_test(y, probs[a], probs[b], sample_weight=weight)
        tests.append(
            {
                "estimator_a": a,
                "estimator_b": b,
                "auc_a": test.auc_a,
                "auc_b": test.auc_b,
                "difference": test.difference,
                "se": test.se,
                "z": test.z,
                "p_value": test.p_value,
            }
        )
    columns = ["estimator_a", "estimator_b", "auc_a", "auc_b", "difference", "se", "z"]
    return pd.DataFrame(tests, columns=[*columns, "p_value"])


@dataclass(frozen=True, eq=False)
class Comparison:
    """Estimators side by side on one held-out data set; the result of :func:`compare`.

    Attributes
    ----------
    title : str
    estimates : dict of str to PointEstimate or Posterior
    coefficients : DataFrame
        One row per parameter; columns (estimator, quantity) with quantity in
        estimate, lower, upper, sd and, when a posterior is compared, shift_sd: the
        estimate minus the posterior mean in posterior standard deviations.
    metrics : DataFrame
        One row per estimator: AUC with its DeLong interval (``auc_lower``,
        ``auc_upper``, uncertainty from the finite test set) and, for a posterior, the
        interval of the AUC over posterior draws (``auc_post_*``, parameter
        uncertainty); log-loss, Brier score, expected calibration error (``ece``);
        accuracy, precision, recall and specificity at ``threshold``; fit time in
        seconds; convergence; for a posterior the largest R-hat, smallest bulk ESS,
        bulk ESS per second and divergences, and PSIS-LOO on the training rows
        (``elpd_loo`` with its se, ``p_loo``, ``max_pareto_k``; NaN when the posterior
        did not store the per-row log-likelihood or is too large for exact LOO).
    tests : DataFrame
        Paired DeLong tests of equal AUC for each pair of estimators.
    approximations : DataFrame
        With a NUTS posterior among the estimates: how far each other estimate lies
        from it (largest shift of a mean in posterior sds, range of the sd ratios, fit
        time and its ratio to NUTS's); see
        :func:`~bayeslogreg.report._approximations.approximation_table`. Empty otherwise.
    interval_kinds : dict of str to str
        "Wald" (MLE), "Laplace" (MAP) or "HDI" (posterior), per estimator.
    level, threshold : float
    n_bins : int
        Bins of the calibration curves and the ECE.
    n_test : int
        Held-out rows (rows of weight 0 included).
    total_weight : float or None
        With ``sample_weight``: the held-out rows' total weight, which every metric,
        interval and test counts as rows; None without weights.
    has_offset : bool
        Whether an ``offset`` was added to the held-out rows' log-odds.
    provenance : dict
        Package versions, the data hash (weights and offset included) and the seeds.
    """

    title: str
    estimates: dict
    coefficients: pd.DataFrame
    metrics: pd.DataFrame
    tests: pd.DataFrame
    approximations: pd.DataFrame
    interval_kinds: dict
    descriptions: dict
    level: float
    threshold: float
    n_bins: int
    n_test: int
    total_weight: float | None
    has_offset: bool
    provenance: dict
    _rows: HeldOutRows = field(repr=False)
    _scores: dict = field(repr=False)
    _train: tuple | None = field(repr=False, default=None)
    # Tables that are costly on many rows, computed once (the report shows them 4 times).
    _cache: dict = field(repr=False, default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        """Estimator names, in the order given."""
        return tuple(self.estimates)

    def predictions(self) -> pd.DataFrame:
        """Test-set probabilities, one column per estimator (posterior: its mean).

        Columns ``sample_weight`` and ``offset`` come first where they were given.
        """
        given = {"sample_weight": self._rows.weight, "offset": self._rows.offset}
        columns = {name: values for name, values in given.items() if values is not None}
        return pd.DataFrame({**columns, **{name: s.prob for name, s in self._scores.items()}})

    def posterior_metrics(self, name: str | None = None) -> pd.DataFrame:
        """Per-draw test metrics of a posterior (one row per draw)."""
        names = [n for n, s in self._scores.items() if s.per_draw is not None]
        if not names:
            raise ValueError("This comparison has no posterior; pass a Posterior to compare().")
        name = names[0] if name is None else check_choice(name, "name", names)
        return self._scores[name].per_draw

    def odds_ratios(self) -> pd.DataFrame:
        """Odds ratios per feature, columns (estimator, quantity: estimate, lower, upper).

        Each result's ``odds_ratios`` at ``level``: exp of the Wald or Laplace interval,
        or the HDI of the exponentiated draws.
        """
        tables = {n: e.odds_ratios(self.level) for n, e in self.estimates.items()}
        return _side_by_side(tables, ("estimate", "ci_lower", "ci_upper"))

    @property
    def marginal_effects_rows(self) -> str:
        """``"training"`` when ``train=`` was given, else ``"test"``: the rows averaged over."""
        return "test" if self._train is None else "training"

    def marginal_effects(self) -> pd.DataFrame:
        """Average marginal effects (dummy=True) on :attr:`marginal_effects_rows`.

        Columns (estimator, quantity), quantity in estimate, lower, upper: delta-method
        intervals for point fits, HDIs over draws for a posterior, at ``level``. The
        held-out rows count with their ``sample_weight`` and ``offset`` (if given);
        training rows equally, without an offset.
        """
        if "marginal_effects" in self._cache:
            return self._cache["marginal_effects"].copy()
        if self._train is None:
            X, offset = self._rows.X, self._rows.offset
            weights = np.ones(X.shape[0]) if self._rows.weight is None else self._rows.weight
        else:
            X, offset, weights = self._train[0], None, np.ones(self._train[0].shape[0])
        weights = weights / weights.sum()
        tables = {
            n: (_thinned(e, X.shape[0]) if isinstance(e, Posterior) else e)._marginal_effects(
                X, offset, weights, level=self.level, dummy=True
            )
            for n, e in self.estimates.items()
        }
        table = self._cache["marginal_effects"] = _side_by_side(
            tables, ("estimate", "ci_lower", "ci_upper")
        )
        return table.copy()

    def thinned_draws(self) -> dict[str, tuple[int, int]]:
        """Posteriors scored on the test rows with some of their draws: name -> (used, all).

        On many rows (draws x rows above 2**26) a posterior's per-draw metrics and ROC
        band (and marginal effects, when they average the test rows) use each chain
        thinned evenly, to no fewer than 200 draws; its predictions (the mean
        probability) always use every draw.
        """
        thinned = {}
        for name, estimate in self.estimates.items():
            if isinstance(estimate, Posterior):
                used = len(_thinned(estimate, self.n_test).flat_draws)
                if used < len(estimate.flat_draws):
                    thinned[name] = (used, len(estimate.flat_draws))
        return thinned

    def fit_statistics(self) -> pd.DataFrame:
        """Likelihood-ratio test, pseudo-R², AIC and BIC of each MLE, on its training data.

        One row per MLE estimator (none when there is none); columns log_likelihood,
        llnull, llr, llr_pvalue, prsquared, aic, bic, as :class:`PointEstimate` has them.
        """
        names = ("log_likelihood", "llnull", "llr", "llr_pvalue", "prsquared", "aic", "bic")
        rows = {
            n: {name: float(getattr(e, name)) for name in names}
            for n, e in self.estimates.items()
            if isinstance(e, PointEstimate) and e.estimator == "mle"
        }
        table = pd.DataFrame.from_dict(rows, orient="index", columns=list(names))
        table.index.name = "estimator"
        return table

    def prior_sensitivity(self) -> pd.DataFrame:
        """Power-scaling sensitivity per parameter of each posterior (see below).

        :meth:`Posterior.prior_sensitivity` of each posterior that stored its per-row
        log-likelihood: columns (estimator, quantity), quantity in ``prior``,
        ``likelihood`` (unitless; 0.05 and above flagged) and ``diagnosis``. No columns
        when no posterior can give it.
        """
        columns = {}
        for name, est in self.estimates.items():
            if isinstance(est, Posterior) and _arviz.has_group(est.idata, "log_likelihood"):
                for quantity, values in est.prior_sensitivity().items():
                    columns[(name, quantity)] = values
        table = pd.DataFrame(columns, index=self.coefficients.index)
        names = ["estimator", "quantity"]
        table.columns = pd.MultiIndex.from_tuples(list(columns), names=names)
        return table

    def findings(self) -> list[str]:
        """Plain-language lines a reader should see first."""
        return render.findings(self)

    def figure_names(self) -> list[str]:
        """Keys of :meth:`figures`, without drawing them."""
        names = ["roc", "forest", "calibration"]
        if any(_has_history(e) for e in self.estimates.values()):
            names.append("convergence")
        if self._train is not None and len(self.coefficients) == 2:
            names.append("surface")
        posteriors = [n for n, e in self.estimates.items() if isinstance(e, Posterior)]
        for name in posteriors:
            suffix = "" if len(posteriors) == 1 else f" {name}"
            if _has_chains(self.estimates[name]):
                names += ["trace" + suffix, "rank" + suffix]
            names.append("prior" + suffix)
        return names

    def figures(self) -> dict:
        """Draw the report's figures; return matplotlib Figures by name.

        Always roc, forest and calibration; convergence for gradient-based point fits,
        surface for one feature with training data given; trace, rank and prior (each
        coefficient's prior against its draws) for posteriors.
        """
        from bayeslogreg.report import figures

        curves, calibration = self._curves()
        bands = {n: s.band for n, s in self._scores.items() if s.band is not None}
        labels = {
            n: f"AUC {r.auc:.3f} [{r.auc_lower:.3f}, {r.auc_upper:.3f}]"
            for n, r in self.metrics.iterrows()
        }
        out = {"roc": figures.roc_figure(curves, bands=bands, aucs=labels)}
        intervals = {
            n: tuple(self.coefficients[n][q].to_numpy() for q in ("estimate", "lower", "upper"))
            for n in self.names
        }
        out["forest"] = figures.forest_figure(intervals, list(self.coefficients.index))
        out["calibration"] = figures.calibration_figure(calibration)
        histories = {
            n: (e.history, _passes_per_iteration(e))
            for n, e in self.estimates.items()
            if _has_history(e)
        }
        if histories:
            out["convergence"] = figures.convergence_figure(histories)
        if self._train is not None and len(self.coefficients) == 2:
            out["surface"] = self._surface_figure(figures)
        posteriors = {n: e for n, e in self.estimates.items() if isinstance(e, Posterior)}
        for name, est in posteriors.items():
            suffix = "" if len(posteriors) == 1 else f" {name}"
            if _has_chains(est):
                out["trace" + suffix] = figures.trace_figure(est)
                out["rank" + suffix] = figures.rank_figure(est)
            out["prior" + suffix] = figures.prior_posterior_figure(est)
        return out

    def _curves(self) -> tuple[dict, dict]:
        """ROC curves ``(fpr, tpr)`` and calibration curves of the test rows, by estimator."""
        y, weighted = self._rows.y, {"sample_weight": self._rows.weight}
        roc = {n: roc_curve(y, s.prob, **weighted)[:2] for n, s in self._scores.items()}
        calibration = {
            n: calibration_curve(y, s.prob, n_bins=self.n_bins, level=self.level, **weighted)
            for n, s in self._scores.items()
        }
        return roc, calibration

    def _surface_figure(self, figures):
        X, y = self._train
        # The Jeffreys prior's density depends on the data: no surface of its own is drawn.
        shown = [e for e in self.estimates.values() if not isinstance(e.prior, Jeffreys)]
        point = {e.estimator: e for e in shown if isinstance(e, PointEstimate)}
        posterior = next((e for e in shown if isinstance(e, Posterior)), None)
        map_fit = point.get("map", posterior.map_estimate if posterior else None)
        priors_from = map_fit or posterior
        prior, intercept_prior = (
            (priors_from.prior, priors_from.intercept_prior) if priors_from else (Flat(), Flat())
        )
        map_cov = None
        if map_fit is not None and np.isfinite(map_fit.cov).all():
            map_cov = map_fit.cov
        return figures.surface_figure(
            X,
            y,
            prior=prior,
            intercept_prior=intercept_prior,
            mle=point["mle"].params if "mle" in point else None,
            map_=map_fit.params if map_fit is not None else None,
            map_cov=map_cov,
            draws=posterior.flat_draws if posterior is not None else None,
        )

    def to_markdown(self, figure_dir: str | None = None) -> str:
        """Render the report as Markdown; figures are linked from ``figure_dir`` if given."""
        return render.markdown_report(self, figure_dir=figure_dir)

    def to_html(self) -> str:
        """Render the report as one self-contained HTML page (figures embedded as PNG)."""
        return render.html_report(self, render.figure_pngs(self.figures()))

    def to_dict(self) -> dict:
        """Tables and settings as plain Python values (NaN becomes None)."""
        return {
            "title": self.title,
            "level": self.level,
            "threshold": self.threshold,
            "n_bins": self.n_bins,
            "n_test": self.n_test,
            "total_weight": self.total_weight,
            "has_offset": self.has_offset,
            "estimators": {
                name: {"kind": self.interval_kinds[name], "description": self.descriptions[name]}
                for name in self.names
            },
            "coefficients": _by_estimator(self.coefficients),
            "metrics": render.records(self.metrics),
            "tests": render.records(self.tests),
            "approximations": render.records(self.approximations),
            "odds_ratios": _by_estimator(self.odds_ratios()),
            "marginal_effects": _by_estimator(self.marginal_effects()),
            "marginal_effects_rows": self.marginal_effects_rows,
            "prior_sensitivity": _by_estimator(self.prior_sensitivity()),
            "fit_statistics": render.records(self.fit_statistics()),
            "findings": self.findings(),
            "provenance": self.provenance,
        }

    def to_json(self, indent: int = 2) -> str:
        """:meth:`to_dict` as strict JSON (no NaN)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def save(self, directory) -> list[Path]:
        """Write the report into the folder ``directory``, as a whole; return the paths.

        report.html, report.md, comparison.json, the tables and test-set predictions as
        CSV, and the figures as PNG under ``figures/``. They are written into a temporary
        folder beside ``directory``, which then takes its place in one step: a reader
        finds the earlier report or this one, never a mix of the two, and a save that
        fails (a full disk) or is killed leaves the earlier report as it was. What a
        killed save left beside ``directory`` is removed by the next save there.

        Because the folder is replaced as a whole, an existing ``directory`` may hold
        only an earlier report (see :func:`~bayeslogreg.report.render.check_report_folder`);
        anything else there is refused, not deleted.

        Raises
        ------
        FileExistsError
            If ``directory`` holds entries that are not part of a report; nothing is
            written.
        OSError
            Naming ``directory`` and the cause, if the report cannot be written.
        """
        render.check_report_folder(directory)
        pngs = render.figure_pngs(self.figures())
        files = render.figure_files(pngs)
        texts = {
            "report.html": render.html_report(self, pngs),
            "report.md": self.to_markdown(figure_dir=render.FIGURE_FOLDER),
            "comparison.json": self.to_json() + "\n",
            "coefficients.csv": render.csv_text(self.coefficients),
            "metrics.csv": render.csv_text(self.metrics),
            "tests.csv": render.csv_text(self.tests, index=False),
            "approximations.csv": render.csv_text(self.approximations),
            "predictions.csv": render.csv_text(self.predictions()),
            "odds_ratios.csv": render.csv_text(self.odds_ratios()),
            "marginal_effects.csv": render.csv_text(self.marginal_effects()),
            "fit_statistics.csv": render.csv_text(self.fit_statistics()),
        }
        return render.write_report_folder(directory, files, texts)

    def __repr__(self) -> str:
        return render.text_report(self)

    def _repr_html_(self) -> str:
        return render.html_tables(self)


def _has_chains(estimate) -> bool:
    """Whether a posterior's draws come from Markov chains (trace and rank plots apply)."""
    return not isinstance(estimate, VariationalPosterior)


def _has_history(estimate) -> bool:
    return isinstance(estimate, PointEstimate) and len(estimate.history) > 1


def _passes_per_iteration(estimate: PointEstimate):
    """Cumulative passes over the data at each history entry, spread evenly.

    The optimizers count passes in total, not per iteration.
    """
    if estimate.n_iter == 0:
        return None
    return np.linspace(0, estimate.n_passes, len(estimate.history))


def _by_estimator(table: pd.DataFrame) -> dict:
    """Return a (estimator, quantity) table as {estimator: {quantity: {parameter: value}}}."""
    return {
        name: {
            quantity: dict(zip(table.index, map(render.plain, values), strict=True))
            for quantity, values in table[name].items()
        }
        for name in table.columns.unique(level=0)
    }


def _side_by_side(tables: dict, quantities: tuple[str, str, str]) -> pd.DataFrame:
    """Join per-estimator tables into columns (estimator, estimate/lower/upper)."""
    columns = {}
    for name, table in tables.items():
        for quantity, label in zip(quantities, ("estimate", "lower", "upper"), strict=True):
            columns[(name, label)] = table[quantity]
    joined = pd.DataFrame(columns)
    joined.columns = pd.MultiIndex.from_tuples(joined.columns, names=["estimator", "quantity"])
    return joined


def compare(
    estimates,
    X_test=None,
    y_test=None,
    *,
    data=None,
    sample_weight=None,
    offset=None,
    threshold: float = 0.5,
    level: float = 0.95,
    n_bins: int = 10,
    train=None,
    title: str = "Comparison of estimators",
    chunk_size: int | None = None,
) -> Comparison:
    """Compare fitted estimators on held-out rows.

    Parameters
    ----------
    estimates : PointEstimate, Posterior, sequence of them, or dict of name to them
        Fits of the same model (same features); fitted estimators of
        :mod:`bayeslogreg.sklearn` stand for their ``result_``. Unnamed results are
        called MLE, MAP, Firth and posterior.
    X_test : array-like of shape (n_test, p)
        For fits of a formula, a data frame that the formula encodes.
    y_test : array-like of shape (n_test,)
        0/1 labels; both classes must occur.
    data : DataFrame, optional
        Instead of ``X_test`` and ``y_test``, for fits of one formula: the held-out rows,
        labels from the formula's left-hand side.
    sample_weight : array-like of shape (n_test,), optional
        Whole-number frequency weights of the held-out rows (a weight of 3 counts the
        row three times, 0 leaves it out), or for fits of a formula the name of a column
        of the held-out frame. Every metric, interval, test, figure and per-draw metric
        is weighted, equal to that of the repeated rows. Weights that are not whole
        numbers are refused: the AUC intervals and DeLong tests count rows (the
        functions of :mod:`bayeslogreg.metrics` take them for point metrics).
    offset : array-like of shape (n_test,), optional
        Known term added to each held-out row's log-odds, as a fit's ``offset`` (or the
        name of a column, as ``sample_weight``).
    threshold : float
        Rows with probability above it are predicted positive.
    level : float
        Probability of every interval (coefficients, AUC, calibration).
    n_bins : int
        Bins of the calibration curve and ECE.
    train : tuple (X, y), optional
        The training data; with one feature it adds the likelihood-surface figure.
    title : str
    chunk_size : int, optional
        Posterior draws per chunk in the per-draw metrics (memory: chunk x n_test).

    Returns
    -------
    Comparison
    """
    check_text(title, "title")
    named = _named(estimates)
    first = next(iter(named.values()))
    rows = held_out_rows(named, X_test, y_test, data, sample_weight, offset)
    level = check_level(level)
    threshold = check_threshold(threshold)
    if train is not None:
        X_train = first._checked_X(train[0], name="X_train")
        train = (X_train, check_y(align_y(*train, name="y"), n_samples=X_train.shape[0]))
    scores = {n: _score(e, rows, threshold, level, chunk_size) for n, e in named.items()}
    metrics = pd.DataFrame(
        {n: _metrics_row(e, scores[n], rows, threshold, level, n_bins) for n, e in named.items()}
    ).T
    metrics.index.name = "estimator"
    metrics = metrics.astype({c: float for c in metrics.columns if c != "converged"})
    metrics["converged"] = metrics["converged"].astype(bool)
    given = [values for values in (rows.weight, rows.offset) if values is not None]
    return Comparison(
        title=title,
        estimates=named,
        coefficients=_coefficients(named, level),
        metrics=metrics,
        tests=paired_delong_tests({n: s.prob for n, s in scores.items()}, rows.y, rows.weight),
        approximations=approximation_table(named),
        interval_kinds={n: _interval_kind(e) for n, e in named.items()},
        descriptions={n: _describe(e) for n, e in named.items()},
        level=level,
        threshold=threshold,
        n_bins=n_bins,
        n_test=len(rows.y),
        total_weight=None if rows.weight is None else float(rows.weight.sum()),
        has_offset=rows.offset is not None,
        provenance=provenance(rows.X, rows.y, *given, estimates=named),
        _rows=rows,
        _scores=scores,
        _train=train,
    )
