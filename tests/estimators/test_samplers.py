"""Sampler objects: their option checks, the shorthands, and the deprecated keywords."""

import dataclasses

import numpy as np
import pytest

import bayeslogreg
from bayeslogreg import sample_posterior
from bayeslogreg.datasets import simulate
from bayeslogreg.estimators._samplers import as_sampler
from bayeslogreg.samplers import IMH, NUTS

DATA = simulate(60, [1.0, -0.5], intercept=0.2, seed=2)
SHORT = {"num_chains": 2, "num_warmup": 30, "num_samples": 20, "seed": 4}


# --------------------------------------------------------------------------- the objects


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: NUTS(target_accept=1.0),
            r"target_accept must be a number in \(0, 1\); got 1\.0\.",
        ),
        (lambda: NUTS(target_accept=0), r"target_accept must be a number in \(0, 1\); got 0\.0\."),
        (
            lambda: NUTS(target_accept=np.nan),
            r"target_accept must be a number in \(0, 1\); got nan\.",
        ),
        (lambda: NUTS(target_accept="0.9"), "target_accept must be a single number"),
        (lambda: NUTS(target_accept=True), r"target_accept must be a number in \(0, 1\)"),
        (lambda: NUTS(max_tree_depth=0), "max_tree_depth must be an integer >= 1; got 0"),
        (lambda: NUTS(max_tree_depth=6.0), "max_tree_depth must be an integer >= 1; got 6.0"),
        (lambda: NUTS(dense_mass="False"), "dense_mass must be True or False; got 'False'"),
        (lambda: NUTS(dense_mass=None), "dense_mass must be True or False; got None"),
        (
            lambda: NUTS(adapt_mass_matrix=1),
            "adapt_mass_matrix must be True, False or None; got 1",
        ),
        (
            lambda: NUTS(chain_method="threads"),
            r"chain_method must be one of \['parallel', 'sequential', 'vectorized'\]; "
            "got 'threads'",
        ),
        (lambda: NUTS(progress_bar="yes"), "progress_bar must be True or False; got 'yes'"),
        (lambda: IMH(df=0), r"df must be a positive finite number; got 0\.0\."),
        (lambda: IMH(df=-3.0), "df must be a positive finite number; got -3.0"),
        (lambda: IMH(df=np.inf), "df must be a positive finite number; got inf"),
        (lambda: IMH(df=None), "df must be a single number; got None"),
    ],
)
def test_bad_options_are_refused_when_the_sampler_is_built(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_samplers_are_frozen_hashable_values_with_a_readable_repr():
    sampler = NUTS(target_accept=0.95, max_tree_depth=np.int64(8), dense_mass=np.bool_(False))
    assert type(sampler.max_tree_depth) is int and type(sampler.dense_mass) is bool
    assert sampler == NUTS(target_accept=0.95, max_tree_depth=8, dense_mass=False)
    assert len({sampler, NUTS(target_accept=0.95, max_tree_depth=8, dense_mass=False)}) == 1
    assert eval(repr(sampler), {"NUTS": NUTS}) == sampler
    assert repr(IMH(df=20)) == "IMH(df=20.0)"
    with pytest.raises(dataclasses.FrozenInstanceError):
        sampler.target_accept = 0.5


def test_the_module_is_public_as_bayeslogreg_samplers():
    import bayeslogreg.samplers as imported

    assert imported is bayeslogreg.samplers and "samplers" in bayeslogreg.__all__
    assert imported.NUTS is NUTS and imported.IMH is IMH


def test_shorthand_strings_stand_for_the_default_objects():
    assert as_sampler("nuts") == NUTS() and as_sampler("imh") == IMH()
    assert as_sampler(IMH(df=3.0)) == IMH(df=3.0)
    for bad in ("hmc", "NUTS", None, 0.9):
        with pytest.raises(ValueError, match=r"sampler must be one of \['imh', 'nuts'\] or an"):
            as_sampler(bad)


@pytest.mark.filterwarnings("ignore::bayeslogreg.ConvergenceWarning")
def test_shorthand_and_object_give_the_same_draws_and_are_recorded():
    short = sample_posterior(DATA.X, DATA.y, sampler="imh", **SHORT)
    full = sample_posterior(DATA.X, DATA.y, sampler=IMH(), **SHORT)
    np.testing.assert_array_equal(short.draws, full.draws)
    assert short.sampler == IMH() and short.sampler_name == "IMH"


def test_imh_degrees_of_freedom_change_the_proposal():
    data = simulate(2000, [1.0, -0.5], intercept=0.3, seed=8)
    kwargs = {"num_chains": 2, "num_warmup": 20, "num_samples": 500, "seed": 0}
    default = sample_posterior(data.X, data.y, sampler=IMH(), **kwargs)
    heavy = sample_posterior(data.X, data.y, sampler=IMH(df=3.0), **kwargs)
    assert heavy.sampler == IMH(df=3.0)
    assert not np.array_equal(heavy.draws, default.draws)
    # The posterior is close to the Laplace Gaussian: the t_50 proposal is accepted ~0.97
    # of the time, the heavy-tailed t_3 ~0.75 (1000 proposals each).
    accepted = [np.asarray(p.idata["sample_stats"]["accepted"]).mean() for p in (default, heavy)]
    assert accepted[0] > 0.9 and accepted[1] < accepted[0] - 0.1


def test_the_convergence_warning_suggests_only_what_the_sampler_can_do():
    with pytest.warns(bayeslogreg.ConvergenceWarning, match="bulk ESS") as caught:
        sample_posterior(DATA.X, DATA.y, sampler="imh", num_chains=2, num_samples=10)
    message = str(caught[0].message)
    assert "sample with NUTS (sampler='nuts')" in message and "target_accept" not in message


# ---------------------------------------------------------------- the deprecated keywords


@pytest.mark.filterwarnings("ignore::bayeslogreg.ConvergenceWarning")
@pytest.mark.parametrize(
    ("keywords", "sampler", "message"),
    [
        (
            {"target_accept": 0.9},
            NUTS(target_accept=0.9),
            "target_accept= is deprecated; pass "
            "sampler=bayeslogreg.samplers.NUTS(target_accept=0.9)",
        ),
        (
            {"max_tree_depth": 6},
            NUTS(max_tree_depth=6),
            "max_tree_depth= is deprecated; pass "
            "sampler=bayeslogreg.samplers.NUTS(max_tree_depth=6)",
        ),
        (
            {"dense_mass": False},
            NUTS(dense_mass=False),
            "dense_mass= is deprecated; pass sampler=bayeslogreg.samplers.NUTS(dense_mass=False)",
        ),
        (
            {"adapt_mass_matrix": True},
            NUTS(adapt_mass_matrix=True),
            "adapt_mass_matrix= is deprecated; pass "
            "sampler=bayeslogreg.samplers.NUTS(adapt_mass_matrix=True)",
        ),
        (
            {"chain_method": "sequential"},
            NUTS(chain_method="sequential"),
            "chain_method= is deprecated; pass "
            "sampler=bayeslogreg.samplers.NUTS(chain_method='sequential')",
        ),
        (
            {"progress_bar": True},
            NUTS(progress_bar=True),
            "progress_bar= is deprecated; pass "
            "sampler=bayeslogreg.samplers.NUTS(progress_bar=True)",
        ),
        ({"method": "nuts"}, "nuts", "method= is deprecated; pass sampler='nuts'"),
        ({"method": "imh"}, "imh", "method= is deprecated; pass sampler='imh'"),
        (
            {"method": "nuts", "dense_mass": False, "target_accept": 0.9},
            NUTS(dense_mass=False, target_accept=0.9),
            "method=, dense_mass=, target_accept= are deprecated; pass "
            "sampler=bayeslogreg.samplers.NUTS(target_accept=0.9, dense_mass=False)",
        ),
    ],
    ids=[
        "target_accept",
        "max_tree_depth",
        "dense_mass",
        "adapt_mass_matrix",
        "chain_method",
        "progress_bar",
        "method-nuts",
        "method-imh",
        "method-and-options",
    ],
)
def test_deprecated_keywords_warn_and_give_the_same_draws_as_the_new_form(
    keywords, sampler, message
):
    with pytest.warns(FutureWarning) as caught:
        old = sample_posterior(DATA.X, DATA.y, **SHORT, **keywords)
    deprecations = [w for w in caught if w.category is FutureWarning]
    assert [str(w.message) for w in deprecations] == [message]
    assert deprecations[0].filename == __file__  # points at the caller's line
    new = sample_posterior(DATA.X, DATA.y, sampler=sampler, **SHORT)
    np.testing.assert_array_equal(old.draws, new.draws)
    assert old.sampler == new.sampler == as_sampler(sampler)


@pytest.mark.filterwarnings("ignore::bayeslogreg.ConvergenceWarning")
def test_a_shorthand_with_deprecated_options_warns_like_the_options_alone():
    with pytest.warns(FutureWarning, match=r"pass sampler=bayeslogreg\.samplers\.NUTS\(max_tree"):
        post = sample_posterior(DATA.X, DATA.y, sampler="nuts", max_tree_depth=6, **SHORT)
    assert post.sampler == NUTS(max_tree_depth=6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"sampler": "imh", "target_accept": 0.9},
            r"the IMH sampler does not use target_accept= \(options of NUTS\); drop it, or "
            r"use NUTS: sampler=bayeslogreg\.samplers\.NUTS\(target_accept=0\.9\)\.",
        ),
        ({"method": "imh", "dense_mass": False}, "the IMH sampler does not use dense_mass="),
        (
            {"sampler": IMH(df=10.0), "chain_method": "sequential", "progress_bar": True},
            "the IMH sampler does not use chain_method=, progress_bar= .*; drop them",
        ),
    ],
)
def test_an_option_the_sampler_does_not_use_is_an_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sample_posterior(DATA.X, DATA.y, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"sampler": NUTS(target_accept=0.9), "target_accept": 0.95},
            r"target_accept= given both as a keyword and in sampler=NUTS\(target_accept=0\.9, "
            r".*sampler=bayeslogreg\.samplers\.NUTS\(target_accept=0\.95\)\.",
        ),
        (
            {"sampler": NUTS(dense_mass=False), "target_accept": 0.95},
            r"sampler=bayeslogreg\.samplers\.NUTS\(target_accept=0\.95, dense_mass=False\)\.",
        ),
        (
            {"sampler": "nuts", "method": "imh"},
            "sampler='nuts' and method='imh' both choose the sampler; method= is deprecated",
        ),
        ({"sampler": NUTS(), "method": "nuts"}, "both choose the sampler"),
    ],
)
def test_an_option_given_twice_is_an_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sample_posterior(DATA.X, DATA.y, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target_accept": 1.0}, r"target_accept must be a number in \(0, 1\); got 1\.0\."),
        ({"chain_method": "threads"}, "chain_method must be one of"),
        ({"method": "hmcecs"}, r"method must be one of \['imh', 'nuts'\] or an object"),
        ({"sampler": "hmcecs"}, r"sampler must be one of \['imh', 'nuts'\] or an object"),
    ],
)
def test_bad_values_of_deprecated_keywords_raise_without_a_warning(kwargs, message):
    # pytest turns warnings into errors: a FutureWarning first would fail this test.
    with pytest.raises(ValueError, match=message):
        sample_posterior(DATA.X, DATA.y, **kwargs)


def test_unknown_keywords_are_a_type_error():
    with pytest.raises(TypeError, match="unexpected keyword argument 'target_acept'"):
        sample_posterior(DATA.X, DATA.y, target_acept=0.9)
