import warnings

import numpy as np
import pytest

from bayeslogreg import ConvergenceWarning, SeparationWarning, fit_map, fit_mle, sample_posterior
from bayeslogreg.datasets import simulate
from bayeslogreg.priors import Cauchy, Flat, Laplace, Normal, StudentT
from bayeslogreg.separation import SCREEN_ROWS, Separation, detect_separation


def signed_margins(X, y, direction):
    return (2.0 * np.asarray(y) - 1.0) * (direction[0] + np.asarray(X) @ direction[1:])


def brute_force_1d(x, y):
    """Separation by one feature and the intercept, read off the order of the classes."""
    if x.min() == x.max():
        return None, None
    for below, above in ((x[y == 0], x[y == 1]), (x[y == 1], x[y == 0])):
        if below.max() < above.min():
            return "complete", 0
        if below.max() == above.min():
            return "quasi-complete", int((x == below.max()).sum())
    return None, None


def brute_force_2d(X, y):
    """Separation by two integer features and the intercept, by enumerating directions.

    A pointed cone of separating directions in 3-D has its edges where two constraints
    are tight, so every edge is +-(a_i x a_j) for two signed rows a_i, a_j (integers
    here, so margins are exact). The sum of the feasible edges is interior to the cone:
    zero margins there are the rows that every separating direction ties.
    """
    A = (2.0 * y - 1.0)[:, None] * np.column_stack([np.ones(len(y)), X])
    edges = [
        sign * np.cross(A[i], A[j]) for i in range(len(A)) for j in range(i) for sign in (1, -1)
    ]
    feasible = [g for g in edges if (A @ g >= 0).all() and (A @ g > 0).any()]
    if not feasible:
        return None, None
    n_tied = int((A @ np.sum(feasible, axis=0) == 0).sum())
    return ("quasi-complete" if n_tied else "complete"), n_tied


def test_complete_separation_by_one_feature():
    rng = np.random.default_rng(0)
    x = np.r_[rng.uniform(-3, -0.5, 20), rng.uniform(0.5, 3, 20)]
    X = np.column_stack([x, rng.normal(size=40)])
    y = np.r_[np.zeros(20), np.ones(20)]
    found = detect_separation(X, y, feature_names=["dose", "noise"])
    assert isinstance(found, Separation)
    assert (found.kind, found.n_tied) == ("complete", 0)
    assert found.features[0] == "dose" and "noise" not in found.features
    assert found.direction.shape == (3,)
    assert np.linalg.norm(found.direction) == pytest.approx(1.0)
    assert (signed_margins(X, y, found.direction) > 0).all()
    assert str(found) == "the data are completely separated by dose"


def test_quasi_complete_separation_counts_the_tied_rows():
    x = np.array([-3.0, -2.0, -1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0])
    y = np.array([0, 0, 0, 0, 1, 0, 1, 1, 1, 1])
    found = detect_separation(x[:, None], y)
    assert (found.kind, found.n_tied, found.features) == ("quasi-complete", 4, ("x1",))
    margins = signed_margins(x[:, None], y, found.direction)
    np.testing.assert_allclose(margins[x == 0], 0.0, atol=1e-12)
    assert (margins[x != 0] > 0).all()
    assert "(4 rows lie on the separating hyperplane)" in str(found)


@pytest.mark.parametrize("seed", range(40))
def test_one_feature_agrees_with_brute_force(seed):
    # Small integers make ties, and so quasi-complete separation, common.
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 12))
    x = rng.integers(-3, 4, n).astype(float)
    y = (x + rng.integers(-2, 3, n) > 0).astype(float)
    y[:2] = [0, 1]
    kind, n_tied = brute_force_1d(x, y)
    found = detect_separation(x[:, None], y)
    assert (found and (found.kind, found.n_tied)) == (kind and (kind, n_tied))


@pytest.mark.parametrize("seed", range(40))
def test_two_features_agree_with_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 10))
    X = rng.integers(-3, 4, (n, 2)).astype(float)
    if np.linalg.matrix_rank(np.column_stack([np.ones(n), X])) < 3:
        pytest.skip("collinear draw: its cone of directions is not pointed")
    y = (X @ [1.0, -1.0] + rng.integers(-3, 4, n) > 0).astype(float)
    y[:2] = [0, 1]
    kind, n_tied = brute_force_2d(X, y)
    found = detect_separation(X, y)
    assert (found and (found.kind, found.n_tied)) == (kind and (kind, n_tied))


def test_overlapping_classes_are_not_separated(well_posed):
    assert detect_separation(well_posed.X, well_posed.y) is None
    x = np.array([-2.0, 1.0, -1.0, 2.0])
    assert detect_separation(x[:, None], [0, 0, 1, 1]) is None


def test_collinear_columns_are_not_mistaken_for_separation():
    data = simulate(300, [1.0, 0.5], seed=2)
    x1, x2 = data.X.T
    X = np.column_stack([x1, x2, x1 + x2, 2 * x1, np.ones(300)])
    assert detect_separation(X, data.y) is None
    found = detect_separation(X, (x1 > 0.2).astype(float))
    assert found.kind == "complete"
    assert (signed_margins(X, x1 > 0.2, found.direction) > 0).all()


def test_a_single_class_is_refused_before_any_direction_is_sought():
    with pytest.raises(ValueError, match="only class 1"):
        detect_separation(np.arange(5.0)[:, None], np.ones(5))


def test_the_intercept_alone_never_separates():
    assert detect_separation(np.empty((6, 0)), [0, 1, 0, 1, 1, 0]) is None
    x = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    assert detect_separation(x, [0, 0, 1, 1], free=np.array([True, False])) is None


def test_features_on_very_different_scales():
    rng = np.random.default_rng(3)
    u = rng.normal(size=(400, 2))
    X = np.column_stack([5e6 + 1e6 * u[:, 0], 3.0 + 1e-6 * u[:, 1]])
    overlapping = (rng.random(400) < 1 / (1 + np.exp(-u[:, 0] - u[:, 1]))).astype(float)
    assert detect_separation(X, overlapping) is None
    tiny_separates = (u[:, 1] > 0.3).astype(float)
    found = detect_separation(X, tiny_separates, feature_names=["big", "tiny"])
    assert (found.kind, found.features[0]) == ("complete", "tiny")
    assert "big" not in found.features
    assert (signed_margins(X, tiny_separates, found.direction) > 0).all()


def test_tiny_overlaps_count_as_overlap():
    # A y = 0 row 1e-5 above a y = 1 row: no direction separates them.
    x = np.array([-3.0, -2.0, -1.0, 1e-5, 0.0, 1.0, 2.0, 3.0])
    assert detect_separation(x[:, None], [0, 0, 0, 0, 1, 1, 1, 1]) is None


def test_free_restricts_the_direction_to_the_chosen_parameters():
    x = np.array([[1.0], [2.0], [3.0], [4.0]])
    y = [0, 0, 1, 1]
    assert detect_separation(x, y).kind == "complete"
    # Without the intercept the threshold must be at x = 0, below every row.
    assert detect_separation(x, y, free=np.array([False, True])) is None
    with pytest.raises(ValueError, match=r"free must be a boolean mask of shape \(2,\)"):
        detect_separation(x, y, free=np.array([True]))
    with pytest.raises(ValueError, match="free must be a boolean mask"):
        detect_separation(x, y, free=np.array([1, 1]))


def test_large_data_overlapping_complete_and_rare_category():
    n = 4 * SCREEN_ROWS
    data = simulate(n, [1.0, -0.5, 0.25], seed=4)
    assert detect_separation(data.X, data.y) is None
    score = data.X @ np.array([1.0, -0.5, 0.25])
    found = detect_separation(data.X, (score > 0.1).astype(float))
    assert found.kind == "complete"
    assert (signed_margins(data.X, score > 0.1, found.direction) > 0).all()
    # A category of 7 rows, all y = 1: the MLE of its indicator's coefficient is +inf.
    rare = np.zeros(n)
    rare[np.arange(7) * 997] = 1.0
    y = data.y.copy()
    y[rare == 1] = 1.0
    found = detect_separation(np.column_stack([data.X, rare]), y)
    assert (found.kind, found.n_tied, found.features[0]) == ("quasi-complete", n - 7, "x4")


@pytest.fixture(scope="module")
def breast_cancer():
    datasets = pytest.importorskip("sklearn.datasets")
    data = datasets.load_breast_cancer()
    X = (data.data - data.data.mean(axis=0)) / data.data.std(axis=0)
    names = [name.replace(" ", "_") for name in data.feature_names]
    return X, 1.0 - data.target, names


def test_mle_on_breast_cancer_is_flagged_not_trusted(breast_cancer):
    X, y, names = breast_cancer
    with pytest.warns(SeparationWarning) as caught:
        fit = fit_mle(X, y, feature_names=names)
    assert len(caught) == 1
    text = str(caught[0].message)
    assert text.startswith("the data are completely separated by ")
    for phrase in ("maximum-likelihood estimate does not exist", "fit_map", "sample_posterior"):
        assert phrase in text
    assert not fit.converged and fit.message == text
    assert fit.separation.kind == "complete"
    assert set(fit.separation.features) <= {"intercept", *names}
    assert (signed_margins(X, y, fit.separation.direction) > 0).all()


def test_flat_prior_map_is_the_mle_and_flagged_too(breast_cancer):
    X, y, _ = breast_cancer
    with pytest.warns(SeparationWarning, match="MAP under flat priors does not exist"):
        fit = fit_map(X, y, prior=Flat(), intercept_prior=Flat())
    assert not fit.converged and fit.separation.kind == "complete"


@pytest.mark.parametrize(
    "prior", [Normal(0, 2.5), Laplace(0, 1.0), StudentT(3, 0, 2.5), Cauchy(0, 2.5)]
)
def test_proper_prior_map_on_breast_cancer_is_finite_and_converged(breast_cancer, prior):
    X, y, _ = breast_cancer
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_map(X, y, prior=prior)
    assert fit.converged and fit.separation is None
    assert np.isfinite(fit.params).all() and np.isfinite(fit.stderr).all()
    # Standardised features: coefficients of a few units, not thousands.
    assert np.abs(fit.params).max() < 10


def test_separation_round_trips_through_save(tmp_path):
    with pytest.warns(SeparationWarning):
        fit = fit_mle([[-2.0], [-1.0], [1.0], [2.0]], [0, 0, 1, 1])
    loaded = type(fit).load(fit.save(tmp_path / "fit.json"))
    assert (loaded.separation.kind, loaded.separation.features) == ("complete", ("x1",))
    np.testing.assert_array_equal(loaded.separation.direction, fit.separation.direction)


def test_nuts_refuses_an_improper_posterior(breast_cancer):
    X, y, _ = breast_cancer
    with pytest.raises(ValueError, match="the posterior is improper: the data are completely"):
        sample_posterior(X, y, prior=Flat(), intercept_prior=Flat())


@pytest.mark.slow
def test_nuts_with_a_proper_prior_samples_separated_data(breast_cancer):
    X, y, names = breast_cancer
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)  # short chains may warn
        post = sample_posterior(
            X,
            y,
            feature_names=names,
            num_chains=2,
            num_warmup=200,
            num_samples=200,
            store_log_likelihood=False,
        )
    assert not any(issubclass(w.category, SeparationWarning) for w in caught)
    assert np.isfinite(post.draws).all()
    assert np.abs(post.params).max() < 10
