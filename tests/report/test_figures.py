import io
from typing import NamedTuple

import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure
from scipy import special, stats

import bayeslogreg
from bayeslogreg import _arviz
from bayeslogreg.datasets import simulate
from bayeslogreg.estimators.nuts import Posterior
from bayeslogreg.metrics import calibration_curve, roc_curve
from bayeslogreg.priors import Flat, Normal
from bayeslogreg.report import figures

# Names are drawn literally: "$x$" must not become an italic x, and a malformed mathtext
# string would make rendering raise if it were parsed. "_map" would be dropped by
# matplotlib's automatic legend (labels starting with "_" are hidden).
NAMES = ["MLE", "<script>alert(1)</script>", "$x$", r"$\frac{$ cost", "_map"]


class Band(NamedTuple):
    fpr: np.ndarray
    lower: np.ndarray
    median: np.ndarray
    upper: np.ndarray
    level: float


def legend_labels(fig: Figure) -> list[str]:
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    return [text.get_text() for legend in [*legends, *fig.legends] for text in legend.get_texts()]


def assert_renders(fig: Figure) -> None:
    png = figures.figure_to_png(fig, dpi=40)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    pixels = matplotlib.image.imread(io.BytesIO(png))
    assert pixels.ndim == 3 and pixels[..., :3].var() > 0


@pytest.fixture(scope="module")
def scores():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    return y, [
        1 / (1 + np.exp(-(k + 1) * (y - 0.5) - rng.normal(size=y.size))) for k in range(len(NAMES))
    ]


def newton_mode(x, y, prior_scales):
    """Mode and inverse negative Hessian of a one-feature logistic posterior, in NumPy.

    An independent check of the JAX surface; ``prior_scales`` are the sds of zero-mean
    Normal priors on (intercept, slope), ``inf`` for flat.
    """
    design = np.column_stack([np.ones_like(x), x])
    precision = 1.0 / np.asarray(prior_scales, dtype=float) ** 2
    params = np.zeros(2)
    for _ in range(50):
        prob = special.expit(design @ params)
        grad = design.T @ (y - prob) - precision * params
        hess = (design * (prob * (1 - prob))[:, None]).T @ design + np.diag(precision)
        params = params + np.linalg.solve(hess, grad)
    return params, np.linalg.inv(hess)


@pytest.fixture(scope="module")
def one_feature():
    data = simulate(300, [1.5], intercept=-0.5, seed=3)
    prior, intercept_prior = Normal(0.0, 0.5), Normal(0.0, 5.0)
    mle, _ = newton_mode(data.X[:, 0], data.y, [np.inf, np.inf])
    map_params, map_cov = newton_mode(data.X[:, 0], data.y, [5.0, 0.5])
    return data, prior, intercept_prior, mle, map_params, map_cov


@pytest.fixture(scope="module")
def posterior():
    """A Posterior holding exact Gaussian draws: no sampler run, no MAP fit."""
    names = ("<script>alert(1)</script>", r"$\frac{$")
    draws = np.random.default_rng(0).normal([0.3, 1.0, -0.5], 0.2, (2, 100, 3))
    idata = _arviz.from_samples(
        {"posterior": {"intercept": draws[..., 0], "coef": draws[..., 1:]}},
        coords={"feature": list(names)},
        dims={"coef": ["feature"]},
    )
    return Posterior(
        idata=idata,
        draws=draws,
        feature_names=names,
        map_estimate=None,
        prior=Normal(0.0, 2.5),
        intercept_prior=Normal(0.0, 10.0),
        num_warmup=0,
        num_divergences=0,
        n_rows=200,
        fit_time=0.0,
        seed=0,
    )


def test_roc_figure_draws_curves_bands_and_literal_names(scores):
    y, probs = scores
    curves = {name: roc_curve(y, p)[:2] for name, p in zip(NAMES, probs, strict=True)}
    fpr = np.linspace(0, 1, 21)
    band = Band(fpr, fpr**0.8, fpr**0.5, fpr**0.3, 0.9)
    aucs = {"MLE": "AUC 0.84 [0.80, 0.88]"}
    fig = figures.roc_figure(curves, bands={"MLE": band, "posterior": band}, aucs=aucs)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    # chance diagonal + one line per curve + the median of the band without a curve
    assert len(ax.lines) == 1 + len(NAMES) + 1
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 2
    expected = ["MLE (AUC 0.84 [0.80, 0.88])", *NAMES[1:], "posterior"]
    assert legend_labels(fig) == expected
    assert ax.get_legend().get_title().get_text() == "shaded: 90% posterior band"
    assert all(not t.get_parse_math() for t in ax.get_legend().get_texts())
    assert ax.get_xlabel() and ax.get_ylabel()
    assert_renders(fig)


def test_roc_figure_rejects_bad_input():
    curve = (np.array([0.0, 1.0]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="empty"):
        figures.roc_figure({})
    with pytest.raises(ValueError, match="shape"):
        figures.roc_figure({"a": (np.array([0.0, 1.0]), np.array([0.0, 0.5, 1.0]))})
    with pytest.raises(ValueError, match="pair"):
        figures.roc_figure({"a": np.zeros(3)})
    with pytest.raises(ValueError, match="aucs names"):
        figures.roc_figure({"a": curve}, aucs={"b": "AUC 0.5"})
    with pytest.raises(ValueError, match="attributes fpr, lower, upper and level"):
        figures.roc_figure({"a": curve}, bands={"a": curve})
    with pytest.raises(ValueError, match="must be strings"):
        figures.roc_figure({1: curve})


def test_forest_figure_one_row_per_parameter_dodged_by_estimator():
    params = ["intercept", "$x$", "<b>"]
    estimate = np.array([0.5, -1.0, 2.0])
    intervals = {
        name: (estimate + 0.1 * i, estimate + 0.1 * i - 0.5, estimate + 0.1 * i + 0.5)
        for i, name in enumerate(NAMES)
    }
    fig = figures.forest_figure(intervals, params)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert len(ax.containers) == len(NAMES)
    assert legend_labels(fig) == NAMES
    assert [t.get_text() for t in ax.get_yticklabels()] == ["intercept", r"\$x\$", "<b>"]
    assert any(np.array_equal(line.get_xdata(), [0, 0]) for line in ax.lines)
    # estimators are dodged: the markers of one parameter sit at distinct heights
    heights = [c.lines[0].get_ydata()[1] for c in ax.containers]
    assert len(set(heights)) == len(NAMES) and all(0.5 < h < 1.5 for h in heights)
    assert_renders(fig)


def test_forest_figure_rejects_bad_input():
    good = ([0.0, 1.0], [-1.0, 0.0], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        figures.forest_figure({"a": ([0.0], [-1.0], [1.0])}, ["intercept", "x"])
    with pytest.raises(ValueError, match="lower <= estimate <= upper"):
        figures.forest_figure({"a": ([0.0, 3.0], [-1.0, 0.0], [1.0, 2.0])}, ["intercept", "x"])
    with pytest.raises(ValueError, match="param_names is empty"):
        figures.forest_figure({"a": good}, [])
    with pytest.raises(ValueError, match="triple"):
        figures.forest_figure({"a": good[:2]}, ["intercept", "x"])


def grid_argmax(ax) -> tuple[np.ndarray, np.ndarray]:
    """Grid point of the image's maximum, and the grid steps, from the drawn image."""
    image = ax.images[0]
    values = np.asarray(image.get_array())
    left, right, bottom, top = image.get_extent()
    steps = np.array([(right - left) / values.shape[1], (top - bottom) / values.shape[0]])
    row, col = np.unravel_index(np.argmax(values), values.shape)
    return np.array([left, bottom]) + (np.array([col, row]) + 0.5) * steps, steps


def test_surface_figure_peaks_at_the_estimates(one_feature):
    data, prior, intercept_prior, mle, map_params, map_cov = one_feature
    draws = np.random.default_rng(1).multivariate_normal(map_params, map_cov, (2, 1500))
    fig = figures.surface_figure(
        data.X,
        data.y,
        prior=prior,
        intercept_prior=intercept_prior,
        mle=mle,
        map_=map_params,
        map_cov=map_cov,
        draws=draws,
        grid_size=60,
    )
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    loglik_ax, logpost_ax = fig.axes
    for ax, estimate in ((loglik_ax, mle), (logpost_ax, map_params)):
        assert len(ax.images) == 1 and ax.images[0].get_array().shape == (60, 60)
        assert any(isinstance(c, ContourSet) for c in ax.collections)
        peak, steps = grid_argmax(ax)
        assert np.all(np.abs(peak - estimate) <= steps)
    scatter = [c for c in logpost_ax.collections if isinstance(c, PathCollection)]
    assert len(scatter) == 1 and len(scatter[0].get_offsets()) == 1000
    labels = legend_labels(fig)
    assert labels[:2] == ["MLE", "MAP"]
    assert {"posterior draws", "Laplace 1σ", "Laplace 2σ"} <= set(labels[2:])
    assert_renders(fig)


def test_log_density_grid_matches_the_model(one_feature):
    data, prior, intercept_prior, *_ = one_feature
    loglik, logpost = figures.log_density_grid(
        data.X, data.y, [-1.0, 0.5], [0.0, 2.0, 3.0], prior=prior, intercept_prior=intercept_prior
    )
    assert loglik.shape == (3, 2)
    expected = bayeslogreg.log_likelihood(data.X, data.y, 0.5, [2.0])
    np.testing.assert_allclose(loglik[1, 1], expected, rtol=1e-12)
    log_prior = stats.norm.logpdf(2.0, 0.0, 0.5) + stats.norm.logpdf(0.5, 0.0, 5.0)
    np.testing.assert_allclose(logpost[1, 1] - loglik[1, 1], log_prior, rtol=1e-12)


def test_surface_figure_rejects_bad_input(one_feature):
    data, prior, intercept_prior, mle, *_ = one_feature
    two = simulate(50, [1.0, 2.0], seed=0)
    kwargs = {"prior": prior, "intercept_prior": intercept_prior}
    with pytest.raises(ValueError, match="exactly one feature; got 2"):
        figures.surface_figure(two.X, two.y, mle=[0.0, 0.0], **kwargs)
    with pytest.raises(ValueError, match="at least one of mle, map_ or draws"):
        figures.surface_figure(data.X, data.y, **kwargs)
    with pytest.raises(ValueError, match="give map_ too"):
        figures.surface_figure(data.X, data.y, mle=mle, map_cov=np.eye(2), **kwargs)
    with pytest.raises(ValueError, match="draws must have shape"):
        figures.surface_figure(data.X, data.y, draws=np.zeros((10, 3)), **kwargs)
    with pytest.raises(ValueError, match="positive definite"):
        figures.surface_figure(data.X, data.y, map_=[0, 1], map_cov=-np.eye(2), **kwargs)
    with pytest.raises(ValueError, match="mle must be finite"):
        figures.surface_figure(data.X, data.y, mle=[np.nan, 1.0], **kwargs)
    with pytest.raises(ValueError, match="grid_size must be an integer >= 5; got 2"):
        figures.surface_figure(data.X, data.y, mle=mle, grid_size=2, **kwargs)
    with pytest.raises(ValueError, match="prior must be a prior"):
        figures.surface_figure(data.X, data.y, mle=mle, prior=1.0, intercept_prior=Flat())


def test_convergence_figure_against_iterations_and_passes():
    # A Newton-like (quadratic) and a gradient-like (linear) approach to the optimum -5.
    newton = -5.0 - 10.0 ** -(2.0 ** np.arange(6))
    gradient = -5.0 - 0.8 ** np.arange(200)
    histories = {
        NAMES[0]: (newton, np.linspace(0, 11, newton.size)),
        NAMES[1]: (gradient, 1.5),
        NAMES[2]: (gradient[:5], None),
        NAMES[3]: ([-3.0, -2.0, -2.0], 1),
        NAMES[4]: ([-1.0], None),
    }
    fig = figures.convergence_figure(histories)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    by_iteration, by_pass = fig.axes
    assert len(by_iteration.lines) == len(NAMES) and len(by_pass.lines) == 3
    assert by_iteration.get_yscale() == "log" and by_pass.get_xlabel() == "passes over the data"
    gaps = [line.get_ydata() for line in by_iteration.lines]
    assert all((gap > 0).all() for gap in gaps)  # floored, so the log scale shows them
    np.testing.assert_allclose(gaps[1][:3], [1.0, 0.8, 0.64], rtol=1e-6)
    np.testing.assert_allclose(by_pass.lines[1].get_xdata()[-1], 1.5 * 199)
    assert legend_labels(fig) == NAMES
    assert_renders(fig)
    assert len(figures.convergence_figure({"a": ([-2.0, -1.0], None)}).axes) == 1


def test_convergence_figure_measures_gaps_from_a_shared_best():
    histories = {"newton": ([-3.0, -1.5], None), "gd": ([-3.0, -2.0], None)}
    for best in (-1.5, {"gd": -1.5}):
        fig = figures.convergence_figure(histories, best=best)
        np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), [1.5, 0.5])
    with pytest.raises(ValueError, match="best names"):
        figures.convergence_figure(histories, best={"lbfgs": -1.5})


def test_convergence_figure_rejects_bad_input():
    with pytest.raises(ValueError, match="pair"):
        figures.convergence_figure({"a": [-2.0, -1.0, 0.0]})
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        figures.convergence_figure({"a": ([-2.0, -1.0], [0.0, 1.0, 2.0])})
    with pytest.raises(ValueError, match="no finite value"):
        figures.convergence_figure({"a": ([np.nan], None)})
    with pytest.raises(
        ValueError, match=r"passes per iteration of .* must be a positive finite number; got 0\.0"
    ):
        figures.convergence_figure({"a": ([-2.0, -1.0], 0.0)})


def test_calibration_figure_with_intervals_and_counts(scores):
    y, probs = scores
    curves = {name: calibration_curve(y, p, n_bins=8) for name, p in zip(NAMES, probs, strict=True)}
    fig = figures.calibration_figure(curves)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    top, bottom = fig.axes
    assert len(top.containers) == len(NAMES)
    assert len(bottom.patches) == sum(len(c.count) for c in curves.values())
    assert sum(patch.get_height() for patch in bottom.patches) == len(y) * len(NAMES)
    assert any(np.array_equal(line.get_xdata(), [0, 1]) for line in top.lines)
    assert legend_labels(fig) == NAMES
    assert top.get_legend().get_title().get_text() == "95% Wilson intervals"
    assert_renders(fig)
    with pytest.raises(ValueError, match="must be a CalibrationCurve"):
        figures.calibration_figure({"a": (np.zeros(2), np.zeros(2))})


def test_trace_and_rank_figures_on_this_arviz_generation(posterior):
    plt.close("all")
    trace = figures.trace_figure(posterior)
    rank = figures.rank_figure(posterior)
    # ArviZ's own figures are handed over unregistered from pyplot: nothing leaks.
    assert plt.get_fignums() == []
    assert isinstance(trace, Figure) and isinstance(rank, Figure)
    # trace: (density, trace) for the intercept row and the compact coef row
    assert len(trace.axes) == 4
    assert len(rank.axes) == 3
    assert all(ax.lines or ax.patches or ax.collections for ax in rank.axes)
    for fig in (trace, rank):
        assert {"0", "1"} <= set(legend_labels(fig))
        assert_renders(fig)
    titles = " ".join(ax.get_title() for ax in rank.axes)
    assert "<script>alert(1)</script>" in titles
    expected_kind = "Fractional ranks" if _arviz.is_arviz_1() else "Rank (all chains)"
    assert rank.axes[0].get_xlabel() == expected_kind


def test_svg_escapes_names_and_png_respects_dpi():
    curve = (np.array([0.0, 0.3, 1.0]), np.array([0.0, 0.8, 1.0]))
    fig = figures.roc_figure({NAMES[1]: curve})
    svg = figures.figure_to_svg(fig)
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "<script" not in svg and "&lt;script&gt;" in svg
    small = matplotlib.image.imread(io.BytesIO(figures.figure_to_png(fig, dpi=20)))
    large = matplotlib.image.imread(io.BytesIO(figures.figure_to_png(fig, dpi=40)))
    assert large.shape[0] == 2 * small.shape[0]
    with pytest.raises(ValueError, match="dpi"):
        figures.figure_to_png(fig, dpi=0)
