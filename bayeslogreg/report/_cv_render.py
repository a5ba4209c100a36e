"""Turn a :class:`~bayeslogreg.report.cross_validation.CVComparison` into text, Markdown, HTML.

User-provided strings (estimator names, the title) are escaped for each format, with
the helpers of :mod:`bayeslogreg.report.render`.
"""

import html

import pandas as pd

from bayeslogreg.report.render import (
    _fmt,
    _html_table,
    _md_table,
    _slug,
    figure_blocks,
    html_page,
    md_escape,
)

__all__ = ["findings", "html_report", "html_tables", "markdown_report", "text_report"]

CAPTIONS = {
    "roc": "Mean ROC curve of each estimator over the folds' held-out rows; the band spans "
    "the lowest to the highest fold.",
    "metrics": "Each fold's held-out metrics (dots) and their mean with its standard error "
    "(diamonds).",
}
_SHOWN = {
    "auc": "AUC",
    "log_loss": "log-loss",
    "brier": "Brier",
    "ece": "ECE",
    "accuracy": "accuracy",
    "lpd": "lpd (nats)",
    "fit_time": "fit time (s)",
}
_SIGNIFICANT = 0.05


def summary_table(cv) -> pd.DataFrame:
    """Mean +- se over the folds of the main metrics, as display strings."""
    table = pd.DataFrame(index=pd.Index(cv.names, name="estimator"))
    for metric, label in _SHOWN.items():
        table[label] = [
            f"{cv.summary.loc[n, (metric, 'mean')]:.4g} ± {cv.summary.loc[n, (metric, 'se')]:.2g}"
            for n in cv.names
        ]
    return table


def tests_table(cv) -> pd.DataFrame:
    """The corrected resampled t-tests as display strings."""
    t = cv.tests
    return pd.DataFrame(
        {
            "metric": t["metric"],
            "A vs B": [
                f"{a} vs {b}" for a, b in zip(t["estimator_a"], t["estimator_b"], strict=True)
            ],
            "mean A - B": [f"{v:+.4g}" for v in t["mean_difference"]],
            "corrected se": [_fmt(v) for v in t["se"]],
            "t": [_fmt(v) for v in t["t"]],
            "p-value": [_fmt(v) for v in t["p_value"]],
        }
    )


def delong_table(cv) -> pd.DataFrame:
    """Per fold and pair: the AUC difference with DeLong's p-value, as display strings."""
    d = cv.delong
    table = pd.DataFrame(index=pd.Index(range(cv.n_splits), name="fold"))
    for (a, b), rows in d.groupby(["estimator_a", "estimator_b"], sort=False):
        table[f"{a} - {b}"] = [
            f"{diff:+.4f} (p {_fmt(p)})"
            for diff, p in zip(rows["difference"], rows["p_value"], strict=True)
        ]
    return table


def _sizes_line(cv) -> str:
    def span(counts) -> str:
        low, high = counts.min(), counts.max()
        return str(low) if low == high else f"{low}-{high}"

    s = cv.sizes
    return (
        f"{cv.n_splits} folds (seed {cv.seed}): {span(s['n_train'])} training and "
        f"{span(s['n_test'])} held-out rows per fold; threshold {cv.threshold:g}"
    )


def findings(cv) -> list[str]:
    """Plain-language conclusions, most important first."""
    lines = []
    k = cv.n_splits
    for metric, label, best in (("auc", "AUC", "idxmax"), ("log_loss", "log-loss", "idxmin")):
        means = cv.summary[(metric, "mean")]
        top = getattr(means, best)()
        word = "highest" if best == "idxmax" else "lowest"
        lines.append(
            f"{top} has the {word} mean {label} over {k} folds: {means[top]:.4f} "
            f"(se {cv.summary.loc[top, (metric, 'se')]:.2g})."
        )
        tests = cv.tests[cv.tests["metric"] == metric]
        if not len(tests):
            continue
        significant = tests[tests["p_value"] < _SIGNIFICANT]
        if not len(significant):
            lines.append(
                f"No pair differs in {label} across folds at the 5% level (corrected resampled "
                f"t-test; smallest p = {tests['p_value'].min():.3g})."
            )
        for _, t in significant.iterrows():
            lines.append(
                f"{t['estimator_a']} and {t['estimator_b']} differ in {label} by "
                f"{t['mean_difference']:+.4f} on average (corrected resampled t-test p = "
                f"{t['p_value']:.3g})."
            )
    for (a, b), rows in cv.delong.groupby(["estimator_a", "estimator_b"], sort=False):
        hits = int((rows["p_value"] < _SIGNIFICANT).sum())
        if hits:
            lines.append(
                f"DeLong's test separates {a} and {b} in {hits} of {k} folds at the 5% level; "
                "the corrected test across folds is the one to quote."
            )
    return lines


def text_report(cv) -> str:
    """Summarise for a terminal (what ``repr`` shows)."""
    parts = [cv.title, _sizes_line(cv), ""]
    parts += [f"- {line}" for line in findings(cv)]
    parts += ["", "Held-out metrics, mean ± se over folds:", summary_table(cv).to_string()]
    if len(cv.tests):
        parts += ["", "Corrected resampled t-tests:", tests_table(cv).to_string(index=False)]
    return "\n".join(parts)


def markdown_report(cv, figure_dir: str | None = None) -> str:
    """Render the report in Markdown; figures linked as ``figure_dir/<key>.png``."""
    parts = [f"# {md_escape(cv.title)}", "", md_escape(_sizes_line(cv)), ""]
    parts += ["## Findings", "", *(f"- {md_escape(line)}" for line in findings(cv))]
    for heading, table, index in _tables(cv):
        parts += ["", f"## {md_escape(heading)}", "", _md_table(table, index=index)]
    if figure_dir is not None:
        parts += ["", "## Figures", ""]
        for key in cv.figure_names():
            parts += [f"![{md_escape(CAPTIONS[key])}]({figure_dir}/{_slug(key)}.png)", ""]
    parts += ["", "## Provenance", "", *(f"- {md_escape(line)}" for line in _provenance(cv))]
    return "\n".join(parts) + "\n"


def _tables(cv) -> list[tuple[str, pd.DataFrame, bool]]:
    tables = [("Held-out metrics, mean ± se over folds", summary_table(cv), True)]
    if len(cv.tests):
        tables += [
            ("Corrected resampled t-tests across folds (Nadeau-Bengio)", tests_table(cv), False),
            ("DeLong's test of equal AUC in each fold", delong_table(cv), True),
        ]
    return tables


def _provenance(cv) -> list[str]:
    p = cv.provenance
    return [
        "versions: " + ", ".join(f"{k} {v}" for k, v in p["versions"].items()),
        f"data SHA-256: {p['data_sha256']}",
        f"folds SHA-256: {p['folds_sha256']}",
        f"seed: {p['seed']}",
    ]


def html_tables(cv, top: str = "h2", sub: str = "h3") -> str:
    """Render findings and tables as an HTML fragment (Jupyter display)."""
    e = html.escape
    items = "".join(f"<li>{e(line)}</li>" for line in findings(cv))
    parts = [
        f"<{top}>{e(cv.title)}</{top}>",
        f'<p class="meta">{e(_sizes_line(cv))}</p>',
        f'<ul class="findings">{items}</ul>',
    ]
    for heading, table, index in _tables(cv):
        parts += [f"<{sub}>{e(heading)}</{sub}>", _html_table(table, index=index)]
    return "<div>" + "\n".join(parts) + "</div>"


def html_report(cv, pngs: dict[str, bytes]) -> str:
    """Render one self-contained HTML page (inline CSS, the figures' PNGs in base64, no scripts)."""
    e = html.escape
    provenance = "".join(f"<li>{e(line)}</li>" for line in _provenance(cv))
    body = "\n".join(
        [
            html_tables(cv, top="h1", sub="h2"),
            "<h2>Figures</h2>",
            *figure_blocks(pngs, CAPTIONS),
            f'<h2>Provenance</h2><ul class="meta">{provenance}</ul>',
        ]
    )
    return html_page(cv.title, body)
