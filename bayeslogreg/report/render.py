"""Turn a :class:`~bayeslogreg.report.comparison.Comparison` into text, Markdown, HTML.

Every user-provided string (estimator, feature and title names) is escaped for the
format it goes into. :data:`REPORT_FILES` and :func:`figure_files` name the files of a
saved report, and :func:`check_report_folder` says whether a folder may be replaced by
one.
"""

import base64
import errno
import html
import math
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from bayeslogreg._io import atomic_folder, write_file

__all__ = [
    "FIGURE_FOLDER",
    "REPORT_FILES",
    "check_report_folder",
    "coefficient_table",
    "figure_blocks",
    "figure_files",
    "figure_pngs",
    "findings",
    "html_page",
    "html_report",
    "html_tables",
    "markdown_report",
    "metrics_tables",
    "plain",
    "records",
    "text_report",
    "write_report_folder",
]

#: The files of a saved report, besides its figures (PNG files in :data:`FIGURE_FOLDER`).
REPORT_FILES = (
    "report.html",
    "report.md",
    "comparison.json",
    "coefficients.csv",
    "metrics.csv",
    "tests.csv",
    "approximations.csv",
    "predictions.csv",
    "odds_ratios.csv",
    "marginal_effects.csv",
    "fit_statistics.csv",
    # a cross-validated comparison's own
    "cv_comparison.json",
    "folds.csv",
    "summary.csv",
    "delong.csv",
)
FIGURE_FOLDER = "figures"
# What a file browser adds to a folder it shows (deleted with the folder, made again).
_BROWSER_FILES = {".DS_Store", "Thumbs.db", "desktop.ini"}
# Temporary files of the per-file atomic writes of earlier versions, left by a kill.
_OLD_LEFTOVER = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")

#: Captions of the report's figures, by the keys of ``Comparison.figures()``.
CAPTIONS = {
    "roc": "ROC curves on the test set; the shaded band is the posterior's pointwise "
    "interval over draws.",
    "forest": "Estimates and intervals per parameter (Wald for MLE, Laplace for MAP, HDI for "
    "the posterior).",
    "calibration": "Calibration: observed frequency against mean predicted probability per "
    "bin, with Wilson intervals; the diagonal is perfect calibration.",
    "convergence": "Gradient ascent: distance of the objective from its best value, per "
    "iteration and per pass over the data.",
    "surface": "Log-likelihood and log-posterior surfaces with the MLE, the MAP, the Laplace "
    "ellipses and posterior draws.",
    "trace": "Posterior trace plots, one line per chain.",
    "rank": "Rank plots: near-uniform histograms mean the chains mix.",
    "prior": "Each coefficient's prior (as used) against its posterior draws: a posterior "
    "that fills its prior learnt little from the data.",
}

#: Heading of the power-scaling section (Kallioinen et al. 2024).
SENSITIVITY_HEADING = "Prior and likelihood sensitivity (power-scaling; 0.05 and above flagged)"

#: Display groups of the metrics table: (heading, {column: label}).
METRIC_GROUPS = (
    (
        "Ranking and probability quality on the test set",
        {
            "auc": "AUC",
            "auc_interval": "AUC {level:g}% CI (DeLong)",
            "auc_post_interval": "AUC {level:g}% over posterior draws",
            "log_loss": "log-loss",
            "brier": "Brier",
            "ece": "ECE",
        },
    ),
    (
        "Decisions at p > {threshold:g}",
        {
            "accuracy": "accuracy",
            "precision": "precision",
            "recall": "recall (sensitivity)",
            "specificity": "specificity",
        },
    ),
    (
        "Fitting",
        {
            "fit_time": "fit time (s)",
            "converged": "converged",
            "r_hat_max": "max R-hat",
            "ess_bulk_min": "min bulk ESS",
            "ess_per_second": "bulk ESS / s",
            "divergences": "divergences",
            "elpd_loo": "elpd LOO (train)",
            "p_loo": "p LOO",
            "max_pareto_k": "max Pareto k",
        },
    ),
)


# ----------------------------------------------------------------------------- files


def figure_pngs(figures: dict) -> dict[str, bytes]:
    """Each figure drawn once, as PNG bytes, by its key: what the files and the HTML show."""
    from bayeslogreg.report.figures import figure_to_png

    return {key: figure_to_png(fig) for key, fig in figures.items()}


def figure_files(pngs: dict[str, bytes]) -> dict[str, bytes]:
    """Key the PNG bytes of :func:`figure_pngs` by their path in a report (figures/KEY.png)."""
    return {f"{FIGURE_FOLDER}/{_slug(key)}.png": png for key, png in pngs.items()}


def write_report_folder(directory, files: dict[str, bytes], texts: dict[str, str]) -> list[Path]:
    """Write a report's ``files`` (bytes, figures first) and ``texts`` (UTF-8) as one folder.

    The folder is written beside ``directory`` and then takes its place in one step
    (:func:`~bayeslogreg._io.atomic_folder`); call :func:`check_report_folder` first.
    Returns the paths, figures first.
    """
    files = {**files, **{name: text.encode("utf-8") for name, text in texts.items()}}
    with atomic_folder(directory) as folder:
        (folder / FIGURE_FOLDER).mkdir()
        for name, content in files.items():
            write_file(folder / name, content)
    return [Path(directory) / name for name in files]


def check_report_folder(directory) -> None:
    """Refuse to save a report over a folder that holds anything else.

    A report is saved by replacing the whole folder, so the folder must be new, empty,
    or hold only an earlier report: :data:`REPORT_FILES`, PNG files in
    :data:`FIGURE_FOLDER`, files a file browser adds, and temporary files of a save that
    was killed.

    Raises
    ------
    NotADirectoryError
        If ``directory`` is a file.
    FileExistsError
        Listing the entries that are not part of a report.
    """
    directory = Path(directory)
    if not directory.exists():
        return
    if not directory.is_dir():
        raise NotADirectoryError(
            errno.ENOTDIR,
            f"{directory} is a file; a report is saved as a folder. Give the path of a new "
            "folder, or of one holding an earlier report.",
        )
    foreign = sorted(_foreign_entries(directory))
    if foreign:
        shown = foreign[:5] + ([f"and {len(foreign) - 5} more"] if len(foreign) > 5 else [])
        raise FileExistsError(
            errno.EEXIST,
            f"{directory} holds entries that are not part of a report: {shown}. Saving a "
            "report replaces the whole folder, which would delete them: save it into a new "
            "folder, or move them out first.",
        )


def _foreign_entries(directory: Path):
    """Entries of a folder that are not part of a report, as names relative to it."""
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.name == FIGURE_FOLDER and entry.is_dir(follow_symlinks=False):
                with os.scandir(entry.path) as figures:
                    yield from (
                        f"{FIGURE_FOLDER}/{figure.name}"
                        for figure in figures
                        if not _is_report_file(figure, figure.name.endswith(".png"))
                    )
            elif not _is_report_file(entry, entry.name in REPORT_FILES):
                yield entry.name


def _is_report_file(entry: os.DirEntry, named_as_one: bool) -> bool:
    """Whether a file is named as a report's, or was left by a file browser or a kill."""
    if entry.name in _BROWSER_FILES or _OLD_LEFTOVER.fullmatch(entry.name):
        return True
    return named_as_one and entry.is_file(follow_symlinks=False)


def _slug(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", key).strip("_") or "figure"


# ----------------------------------------------------------------------------- values


def _fmt(value) -> str:
    """Four significant digits; NaN as an em dash; booleans as yes/no."""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float | np.floating) and math.isnan(value)):
        return "—"
    if isinstance(value, int | np.integer):
        return str(value)
    return f"{value:.4g}"


def _interval(lower, upper) -> str:
    if math.isnan(lower) or math.isnan(upper):
        return "—"
    return f"[{lower:.4g}, {upper:.4g}]"


def plain(value):
    """Convert a NumPy scalar to a JSON-ready Python value (NaN becomes None)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def records(table: pd.DataFrame) -> list[dict]:
    """Rows of a flat table (index included) as JSON-ready dicts."""
    frame = table.reset_index() if table.index.name is not None else table
    return [{k: plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


# ----------------------------------------------------------------------------- tables


def metrics_tables(comparison) -> list[tuple[str, pd.DataFrame]]:
    """Format the metrics as display strings in groups; return (heading, table) pairs."""
    m = comparison.metrics
    level, threshold = 100 * comparison.level, comparison.threshold
    groups = []
    for heading, columns in METRIC_GROUPS:
        table = pd.DataFrame(index=pd.Index(m.index, name="estimator"))
        for key, label in columns.items():
            if key.endswith("_interval"):
                stem = key.removesuffix("_interval")
                pairs = zip(m[f"{stem}_lower"], m[f"{stem}_upper"], strict=True)
                values = [_interval(a, b) for a, b in pairs]
            else:
                values = [_fmt(v) for v in m[key]]
            table[label.format(level=level)] = values
        groups.append((heading.format(threshold=threshold), table))
    return groups


def coefficient_table(comparison) -> pd.DataFrame:
    """Format the coefficients: one ``estimate [lower, upper]`` column per estimator.

    Then the shifts from the posterior mean, in posterior sd.
    """
    c = comparison.coefficients
    table = pd.DataFrame(index=c.index)
    for name in comparison.names:
        kind = comparison.interval_kinds[name]
        column = c[name]
        table[f"{name} ({kind})"] = [
            f"{e:.4g} {_interval(lo, hi)}"
            for e, lo, hi in zip(column["estimate"], column["lower"], column["upper"], strict=True)
        ]
    for name in comparison.names:
        if "shift_sd" in c[name]:
            table[f"{name} shift (post. sd)"] = [f"{v:+.2f}" for v in c[name]["shift_sd"]]
    return table


def sensitivity_table(comparison) -> pd.DataFrame:
    """Format each posterior's prior and likelihood sensitivity and diagnosis per parameter.

    Then the point estimates' shifts from the posterior mean, in posterior sd, as in
    :func:`coefficient_table`. Empty (no columns) when no posterior can give it.
    """
    sensitivity = comparison.prior_sensitivity()
    table = pd.DataFrame(index=comparison.coefficients.index)
    if sensitivity.empty:
        return table
    for name in sensitivity.columns.unique(level=0):
        column = sensitivity[name]
        table[f"{name} prior"] = [f"{v:.3f}" for v in column["prior"]]
        table[f"{name} likelihood"] = [f"{v:.3f}" for v in column["likelihood"]]
        table[f"{name} diagnosis"] = [v or "—" for v in column["diagnosis"]]
    shifts = coefficient_table(comparison)
    for label in shifts.columns:
        if label.endswith("shift (post. sd)"):
            table[label] = shifts[label]
    return table


def _sensitivity_findings(comparison) -> list[str]:
    """One line per posterior and diagnosis that power-scaling flags."""
    sensitivity, lines = comparison.prior_sensitivity(), []
    advice = {
        "prior-data conflict": "the prior and the data pull apart; check the prior's "
        "location and scale against the data",
        "prior-dominated": "the data say little about them and the posterior mostly "
        "restates the prior",
    }
    for name in sensitivity.columns.unique(level=0):
        column = sensitivity[name]
        for diagnosis, meaning in advice.items():
            flagged = column[column["diagnosis"] == diagnosis]
            if not len(flagged):
                continue
            values = ", ".join(
                f"{label} (prior {row['prior']:.2f}, likelihood {row['likelihood']:.2f})"
                for label, row in flagged.iterrows()
            )
            lines.append(
                f"{name}: power-scaling finds {diagnosis} for {values}, sensitivities of "
                f"0.05 or more flagged; {meaning}."
            )
    return lines


def priors_table(comparison) -> pd.DataFrame:
    """Tabulate the prior each estimator put on each parameter, as used.

    The MLE's column reads ``none``; a centred intercept prior says where it sits.
    """
    table = pd.DataFrame(index=comparison.coefficients.index)
    for name, estimate in comparison.estimates.items():
        if getattr(estimate, "estimator", None) == "mle":
            table[name] = "none"
        else:
            table[name] = estimate.prior_summary()["used"].to_numpy()
    return table


def analyst_tables(comparison) -> list[tuple[str, pd.DataFrame]]:
    """Odds ratios, average marginal effects and the MLE's fit statistics, for display.

    Return (heading, table) pairs; the fit statistics only where an MLE is compared.
    """
    level = f"{100 * comparison.level:g}%"
    parts = [
        (f"Odds ratios, exp(coefficient) [{level} interval]", comparison.odds_ratios()),
        (
            f"Average marginal effects dP/dx on the {comparison.marginal_effects_rows} rows "
            f"(0/1 columns: P(x=1) - P(x=0)) [{level} interval]",
            comparison.marginal_effects(),
        ),
    ]
    tables = []
    for heading, values in parts:
        table = pd.DataFrame(index=values.index)
        for name in comparison.names:
            column = values[name]
            table[f"{name} ({comparison.interval_kinds[name]})"] = [
                f"{e:.4g} {_interval(lo, hi)}"
                for e, lo, hi in zip(
                    column["estimate"], column["lower"], column["upper"], strict=True
                )
            ]
        tables.append((heading, table))
    statistics = comparison.fit_statistics()
    if len(statistics):
        labels = {
            "log_likelihood": "Log-Likelihood",
            "llnull": "LL-Null",
            "llr": "LLR",
            "llr_pvalue": "LLR p-value",
            "prsquared": "Pseudo R-squ.",
            "aic": "AIC",
            "bic": "BIC",
        }
        shown = statistics.rename(columns=labels).map(_fmt)
        tables.append(("Likelihood-ratio test and criteria (MLE, on its training data)", shown))
    return tables


APPROXIMATIONS_HEADING = "Distance to the NUTS posterior (in its posterior sd)"


def approximations_table(comparison) -> pd.DataFrame:
    """Format the distance of each estimate to the NUTS posterior as display strings."""
    a = comparison.approximations
    table = pd.DataFrame(index=a.index)
    table["method"] = a["method"]
    table["same priors and data"] = [_fmt(bool(v)) for v in a["same_model"]]
    table["largest mean shift (sd)"] = [
        f"{v:.2f} ({p})" for v, p in zip(a["max_abs_shift_sd"], a["worst_parameter"], strict=True)
    ]
    table["sd ratio"] = [
        f"{lo:.2f} to {hi:.2f}" for lo, hi in zip(a["sd_ratio_min"], a["sd_ratio_max"], strict=True)
    ]
    table["fit time (s)"] = [_fmt(v) for v in a["fit_time"]]
    table["time / NUTS"] = [_fmt(v) for v in a["time_ratio"]]
    return table


def _approximation_findings(comparison) -> list[str]:
    """One line per estimate that approximates the NUTS posterior of the same model."""
    a = comparison.approximations
    lines = []
    for name, row in a[a["same_model"]].iterrows():
        verdict = (
            "a close stand-in"
            if row["max_abs_shift_sd"] <= 0.1
            and 0.9 <= row["sd_ratio_min"] <= row["sd_ratio_max"] <= 1.1
            else "not a faithful stand-in for the posterior"
        )
        lines.append(
            f"{name} ({row['method']}) against NUTS: means within {row['max_abs_shift_sd']:.2f} "
            f"posterior sd (largest for {row['worst_parameter']}), sds "
            f"{row['sd_ratio_min']:.2f} to {row['sd_ratio_max']:.2f} times NUTS's: {verdict} "
            "(its time against NUTS's is in the table)."
        )
    return lines


def tests_table(comparison) -> pd.DataFrame:
    """The paired DeLong tests as display strings."""
    t = comparison.tests
    return pd.DataFrame(
        {
            "pair": [
                f"{a} vs {b}" for a, b in zip(t["estimator_a"], t["estimator_b"], strict=True)
            ],
            "AUC difference": [f"{v:+.4f}" for v in t["difference"]],
            "se": [_fmt(v) for v in t["se"]],
            "z": [_fmt(v) for v in t["z"]],
            "p-value": [_fmt(v) for v in t["p_value"]],
        }
    )


# ----------------------------------------------------------------------------- findings


def findings(comparison) -> list[str]:
    """Plain-language conclusions, most important first."""
    m, lines = comparison.metrics, []
    for name, row in m.iterrows():
        if not row["converged"]:
            est = comparison.estimates[name]
            detail = getattr(est, "message", "")
            if hasattr(est, "pareto_k"):
                detail = f"Pareto k-hat {est.pareto_k:.2f} > 0.7: the approximation is far off"
            if not detail:
                detail = f"max R-hat {row['r_hat_max']:.3f}, {int(row['divergences'])} divergences"
            lines.append(f"WARNING: {name} did not converge ({detail}); do not rely on it.")
    level = f"{100 * comparison.level:g}%"
    tests = comparison.tests
    significant = tests[tests["p_value"] < 0.05] if len(tests) else tests
    if len(tests) and not len(significant):
        lines.append(
            f"All estimators rank the test rows alike: AUC {m['auc'].min():.3f} to "
            f"{m['auc'].max():.3f}, no pair differs at the 5% level (smallest paired DeLong "
            f"p = {tests['p_value'].min():.3g})."
        )
    else:
        best = m["auc"].idxmax()
        lines.append(
            f"{best} ranks the test rows best: AUC {m.loc[best, 'auc']:.3f} ({level} DeLong "
            f"CI {m.loc[best, 'auc_lower']:.3f} to {m.loc[best, 'auc_upper']:.3f})."
        )
        for _, t in significant.iterrows():
            lines.append(
                f"{t['estimator_a']} and {t['estimator_b']} differ in AUC by "
                f"{t['difference']:+.4f} (paired DeLong p = {t['p_value']:.3g})."
            )
    for name, row in m[m["auc_post_lower"].notna()].iterrows():
        post_width = row["auc_post_upper"] - row["auc_post_lower"]
        test_width = row["auc_upper"] - row["auc_lower"]
        larger = "the finite test set" if test_width > post_width else "the parameters"
        lines.append(
            f"{name}: parameter uncertainty moves the AUC within {post_width:.3f} "
            f"({level} of draws); test-set sampling within {test_width:.3f} (DeLong). "
            f"Most uncertainty about the AUC comes from {larger}."
        )
    for name, row in m[m["max_pareto_k"] > 0.7].iterrows():
        lines.append(
            f"{name}: PSIS-LOO is unreliable (Pareto k up to {row['max_pareto_k']:.2f} > 0.7); "
            "trust the held-out metrics instead."
        )
    best_loss = m["log_loss"].idxmin()
    lines.append(
        f"{best_loss} has the lowest test log-loss ({m.loc[best_loss, 'log_loss']:.4f}); "
        f"expected calibration error ranges {m['ece'].min():.3f} to {m['ece'].max():.3f}."
    )
    c, a = comparison.coefficients, comparison.approximations
    approximating = set(a.index[a["same_model"]])  # their findings say more, below
    for name in comparison.names:
        if "shift_sd" not in c[name] or name in approximating:
            continue
        shifts = c[name]["shift_sd"]
        worst = shifts.abs().idxmax()
        verdict = (
            "the prior or the sampling uncertainty matters for it"
            if abs(shifts[worst]) > 1
            else "all estimates lie within one posterior sd of the posterior mean"
        )
        lines.append(
            f"{name}: largest shift from the posterior mean is {worst} at "
            f"{shifts[worst]:+.2f} posterior sd; {verdict}."
        )
    return lines + _approximation_findings(comparison) + _sensitivity_findings(comparison)


# ----------------------------------------------------------------------------- text


def _data_line(comparison) -> str:
    y, weight = comparison._rows.y, comparison._rows.weight
    line = f"{comparison.n_test} test rows ({int(y.sum())} positive)"
    if weight is not None:
        total, positive = comparison.total_weight, y @ weight
        line += (
            f", weighted: total weight {total:.10g} ({positive:.10g} positive), every "
            "metric counts a row as often as its weight"
        )
    if comparison.has_offset:
        line += "; offset added to the log-odds"
    effects = " and marginal effects" if comparison.marginal_effects_rows == "test" else ""
    for name, (used, total) in comparison.thinned_draws().items():
        line += (
            f"; {name}'s per-draw metrics, ROC band{effects} from {used:,} of its "
            f"{total:,} draws (each chain thinned evenly)"
        )
    return f"{line}; threshold {comparison.threshold:g}; intervals at {100 * comparison.level:g}%"


def text_report(comparison) -> str:
    """Summarise for a terminal (what ``repr`` shows)."""
    parts = [comparison.title, _data_line(comparison), ""]
    parts += [f"- {line}" for line in findings(comparison)]
    for heading, table in metrics_tables(comparison):
        parts += ["", heading + ":", table.to_string()]
    parts += ["", "Coefficients:", coefficient_table(comparison).to_string()]
    if len(comparison.approximations):
        parts += ["", APPROXIMATIONS_HEADING + ":", approximations_table(comparison).to_string()]
    for heading, table in analyst_tables(comparison):
        parts += ["", heading + ":", table.to_string()]
    if len(comparison.tests):
        parts += ["", "Paired DeLong tests:", tests_table(comparison).to_string(index=False)]
    return "\n".join(parts)


# ----------------------------------------------------------------------------- markdown


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]#|~])")
_LINE_BREAKS = re.compile(r"[\r\n]+")
#: First characters that make a spreadsheet read a CSV cell as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def md_escape(text) -> str:
    """Escape a string for Markdown: HTML entities, backslashed Markdown syntax, one line.

    Line breaks become spaces, so a name with a newline cannot split a table row.
    """
    one_line = _LINE_BREAKS.sub(" ", str(text))
    return _MD_SPECIAL.sub(r"\\\1", html.escape(one_line, quote=False))


def csv_text(table: pd.DataFrame, *, index: bool = True) -> str:
    """``table`` as CSV text, with text that a spreadsheet would run as a formula defused.

    Text cells and labels starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return get a leading ``'`` (OWASP's advice against CSV injection); numbers are left
    as they are, negative ones included.
    """
    safe = table.copy()
    safe.columns = _defused_labels(safe.columns)
    safe.index = _defused_labels(safe.index)
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column].dtype):
            safe[column] = safe[column].map(_defused)
    return safe.to_csv(index=index)


def _defused(value):
    if isinstance(value, str) and value[:1] in _FORMULA_STARTS:
        return "'" + value
    return value


def _defused_labels(labels: pd.Index) -> pd.Index:
    if isinstance(labels, pd.MultiIndex):
        levels = [[_defused(v) for v in labels.get_level_values(i)] for i in range(labels.nlevels)]
        return pd.MultiIndex.from_arrays(levels, names=labels.names)
    return pd.Index([_defused(v) for v in labels], name=labels.name)


def _md_table(table: pd.DataFrame, index: bool = True) -> str:
    header = ([md_escape(table.index.name or "")] if index else []) + [
        md_escape(c) for c in table.columns
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, row in table.iterrows():
        cells = ([md_escape(label)] if index else []) + [md_escape(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown_report(comparison, figure_dir: str | None = None) -> str:
    """Render the report in Markdown; figures linked as ``figure_dir/<key>.png``."""
    parts = [f"# {md_escape(comparison.title)}", "", md_escape(_data_line(comparison)), ""]
    parts += ["## Findings", "", *(f"- {md_escape(line)}" for line in findings(comparison))]
    parts += ["", "## Estimators", ""]
    parts += [
        f"- **{md_escape(n)}**: {md_escape(comparison.descriptions[n])}" for n in comparison.names
    ]
    for heading, table in metrics_tables(comparison):
        parts += ["", f"## {md_escape(heading)}", "", _md_table(table)]
    if len(comparison.tests):
        parts += ["", "## Paired DeLong tests of equal AUC", ""]
        parts += [_md_table(tests_table(comparison), index=False)]
    parts += ["", "## Coefficients", "", _md_table(coefficient_table(comparison))]
    if len(comparison.approximations):
        parts += [
            "",
            f"## {APPROXIMATIONS_HEADING}",
            "",
            _md_table(approximations_table(comparison)),
        ]
    parts += ["", "## Priors as used", "", _md_table(priors_table(comparison))]
    sensitivity = sensitivity_table(comparison)
    if len(sensitivity.columns):
        parts += ["", f"## {SENSITIVITY_HEADING}", "", _md_table(sensitivity)]
    for heading, table in analyst_tables(comparison):
        parts += ["", f"## {md_escape(heading)}", "", _md_table(table)]
    if figure_dir is not None:
        parts += ["", "## Figures", ""]
        for key in comparison.figure_names():
            caption = md_escape(CAPTIONS.get(key.split(" ")[0], key))
            parts += [f"![{caption}]({figure_dir}/{_slug(key)}.png)", ""]
    parts += ["", "## Provenance", "", *_provenance_lines(comparison, md_escape)]
    return "\n".join(parts) + "\n"


def _provenance_lines(comparison, escape) -> list[str]:
    p = comparison.provenance
    versions = ", ".join(f"{k} {v}" for k, v in p["versions"].items())
    seeds = ", ".join(f"{k}: {v}" for k, v in p["seeds"].items())
    return [
        f"- versions: {escape(versions)}",
        f"- test data SHA-256: {escape(p['test_data_sha256'])}",
        *(
            f"- {escape(name)} fitted on data with SHA-256: {escape(str(digest))}"
            for name, digest in p["fit_data_sha256"].items()
        ),
        f"- seeds: {escape(seeds)}",
    ]


# ----------------------------------------------------------------------------- html

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;
max-width:1100px;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.6em;
border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.9em;margin:.5em 0}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.scroll{overflow-x:auto}.meta{color:#555}.findings li{margin:.2em 0}
.warning{color:#a00;font-weight:600}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{color:#555;font-size:.9em}
"""


def _html_table(table: pd.DataFrame, index: bool = True) -> str:
    if index:
        table = table.reset_index()
    return '<div class="scroll">' + table.to_html(escape=True, index=False, border=0) + "</div>"


def html_tables(comparison, top: str = "h2", sub: str = "h3") -> str:
    """Render findings and the three tables as an HTML fragment (Jupyter display)."""
    e = html.escape
    items = "".join(
        f'<li class="warning">{e(line)}</li>'
        if line.startswith("WARNING")
        else f"<li>{e(line)}</li>"
        for line in findings(comparison)
    )
    parts = [
        f"<{top}>{e(comparison.title)}</{top}>",
        f'<p class="meta">{e(_data_line(comparison))}</p>',
        f'<ul class="findings">{items}</ul>',
    ]
    for heading, table in metrics_tables(comparison):
        parts += [f"<{sub}>{e(heading)}</{sub}>", _html_table(table)]
    if len(comparison.tests):
        parts += [f"<{sub}>Paired DeLong tests of equal AUC</{sub}>"]
        parts += [_html_table(tests_table(comparison), index=False)]
    parts += [f"<{sub}>Coefficients</{sub}>", _html_table(coefficient_table(comparison))]
    if len(comparison.approximations):
        parts += [f"<{sub}>{e(APPROXIMATIONS_HEADING)}</{sub}>"]
        parts += [_html_table(approximations_table(comparison))]
    parts += [f"<{sub}>Priors as used</{sub}>", _html_table(priors_table(comparison))]
    sensitivity = sensitivity_table(comparison)
    if len(sensitivity.columns):
        parts += [f"<{sub}>{e(SENSITIVITY_HEADING)}</{sub}>", _html_table(sensitivity)]
    for heading, table in analyst_tables(comparison):
        parts += [f"<{sub}>{e(heading)}</{sub}>", _html_table(table)]
    return "<div>" + "\n".join(parts) + "</div>"


def figure_blocks(pngs: dict[str, bytes], captions: dict) -> list[str]:
    """Each PNG of :func:`figure_pngs` as an HTML ``<figure>``, inline (base64), with its caption.

    A key's caption is that of its first word in ``captions`` (``"trace posterior"``
    takes ``"trace"``'s), else the key itself.
    """
    e, blocks = html.escape, []
    for key, png in pngs.items():
        data = base64.b64encode(png).decode("ascii")
        caption = e(captions.get(key.split(" ")[0], key))
        blocks.append(
            f'<figure><img alt="{e(key)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{caption}</figcaption></figure>"
        )
    return blocks


def html_page(title: str, body: str) -> str:
    """Wrap an HTML ``body`` into one self-contained page (inline CSS, no scripts).

    ``title`` is escaped here; ``body`` must already be HTML.
    """
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>"
        f"<body>\n{body}\n</body></html>\n"
    )


def html_report(comparison, pngs: dict[str, bytes]) -> str:
    """Render one self-contained HTML page, with the figures' PNGs of :func:`figure_pngs`.

    Inline CSS, figures embedded as base64 PNG, no scripts, no external resources.
    """
    e = html.escape
    estimators = "".join(
        f"<li><b>{e(n)}</b>: {e(comparison.descriptions[n])}</li>" for n in comparison.names
    )
    blocks = figure_blocks(pngs, CAPTIONS)
    provenance = "".join(f"<li>{line[2:]}</li>" for line in _provenance_lines(comparison, e))
    body = "\n".join(
        [
            html_tables(comparison, top="h1", sub="h2"),
            f"<h2>Estimators</h2><ul>{estimators}</ul>",
            "<h2>Figures</h2>",
            *blocks,
            f'<h2>Provenance</h2><ul class="meta">{provenance}</ul>',
        ]
    )
    return html_page(comparison.title, body)
