import jax
import numpy as np
import pytest
from scipy import stats

from bayeslogreg import priors
from bayeslogreg._jax import float64
from bayeslogreg.priors import Cauchy, Flat, Laplace, Normal, StudentT

X = np.array([-3.0, -0.4, 0.0, 0.7, 5.0])

CASES = [
    (Normal(0.5, 2.0), stats.norm(0.5, 2.0)),
    (Normal(0.0, [1.0, 2.0, 3.0, 4.0, 5.0]), stats.norm(0.0, np.arange(1.0, 6.0))),
    (Laplace(0.0, 0.3), stats.laplace(0.0, 0.3)),
    (Laplace([0, 1, 0, 1, 0], 2.0), stats.laplace(np.array([0, 1, 0, 1, 0]), 2.0)),
    (Cauchy(0.0, 2.5), stats.cauchy(0.0, 2.5)),
    (StudentT(3.0, 1.0, 0.5), stats.t(3.0, 1.0, 0.5)),
    (StudentT([1.0, 2.0, 3.0, 7.0, 30.0], 0.0, 1.0), stats.t(np.array([1.0, 2.0, 3.0, 7.0, 30.0]))),
]


@pytest.mark.parametrize(("prior", "reference"), CASES, ids=repr)
def test_log_density_matches_scipy(prior, reference):
    with float64():
        value = float(jax.jit(lambda p, x: p.log_density(x))(prior, X))
    # Both are closed-form float64 expressions: agreement to rounding.
    assert value == pytest.approx(reference.logpdf(X).sum(), rel=1e-13)


def test_flat_prior_has_zero_log_density():
    assert float(Flat().log_density(X)) == 0.0
    assert not Flat().is_proper


def test_priors_are_pytrees_whose_numbers_are_leaves():
    leaves, treedef = jax.tree_util.tree_flatten(StudentT(3.0, 0.0, [1.0, 2.0]))
    assert len(leaves) == 3
    rebuilt = jax.tree_util.tree_unflatten(treedef, leaves)
    assert rebuilt == StudentT(3.0, 0.0, [1.0, 2.0])
    assert jax.tree_util.tree_leaves(Flat()) == []


def test_equality_and_repr():
    assert Normal(0, 2.5) == Normal(0.0, 2.5)
    assert Normal(0, 2.5) != Laplace(0, 2.5)
    assert repr(Normal(0, 2.5)) == "Normal(loc=0, scale=2.5)"
    assert hash(Normal(0, 1)) == hash(Normal(0.0, 1.0))


def test_priors_are_immutable():
    prior = Normal(0, 1)
    with pytest.raises(AttributeError, match="immutable"):
        prior.scale = 2.0


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Normal(0, 0), "scale must be > 0"),
        (lambda: Normal(0, -1), "scale must be > 0"),
        (lambda: Laplace(0, [1.0, -2.0]), "scale must be > 0"),
        (lambda: Cauchy(np.nan, 1), "loc must be finite"),
        (lambda: Normal(0, np.inf), "scale must be finite"),
        (lambda: StudentT(0, 0, 1), "df must be > 0"),
        (lambda: StudentT(-2, 0, 1), "df must be > 0"),
        (lambda: Normal(np.zeros((2, 2)), 1), "scalar or a 1-D array"),
        (lambda: Normal([0, 1, 2], [1, 2]), "3 values of 'loc'"),
        (lambda: Normal("a", 1), "loc must be a number"),
    ],
)
def test_invalid_prior_parameters_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_check_size_names_the_mismatch():
    with pytest.raises(ValueError, match="3 values of 'scale' but coef has 5 entries"):
        Normal(0, [1.0, 2.0, 3.0]).check_size(5, "coef")
    Normal(0, [1.0, 2.0, 3.0]).check_size(3, "coef")
    Normal(0, 1.0).check_size(7, "coef")


def test_numpyro_distribution_has_the_same_density():
    prior = Laplace(0.0, [1.0, 2.0, 3.0, 4.0, 5.0])
    with float64():
        dist = prior.distribution((5,))
        assert dist.event_shape == (5,)
        assert float(dist.log_prob(X)) == pytest.approx(float(prior.log_density(X)), rel=1e-15)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("normal:2.5", priors.Normal(0.0, 2.5)),
        ("Laplace:1", priors.Laplace(0.0, 1.0)),
        ("cauchy:2.5", priors.Cauchy(0.0, 2.5)),
        ("student-t:3:2.5", priors.StudentT(3.0, 0.0, 2.5)),
        ("flat", priors.Flat()),
    ],
)
def test_parse_prior_reads_the_command_line_forms(spec, expected):
    assert priors.parse_prior(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("gauss:1", "Cannot read the prior"),
        ("normal", "Cannot read the prior"),
        ("student_t:3", "Cannot read the prior"),
        ("normal:abc", "Cannot read the numbers"),
        ("normal:-1", "scale"),
    ],
)
def test_parse_prior_refuses_what_it_cannot_read(spec, message):
    with pytest.raises(ValueError, match=message):
        priors.parse_prior(spec)
