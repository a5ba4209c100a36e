"""The wells fits of rstanarm's binomial vignette and of Regression and Other Stories.

rstanarm's vignette "Estimating Generalized Linear Models for Binary and Binomial Data
with rstanarm" (vignettes/binomial.Rmd, as rendered on mc-stan.org) fits
``switch ~ dist100`` and ``switch ~ dist100 + arsenic`` with ``student_t(7, 0, 2.5)`` on
the coefficients and on the intercept (rstanarm puts ``prior_intercept`` on the
intercept of centred predictors: ``Centered`` here) and prints posterior medians to 3
decimals and ``loo()`` to 1 decimal. Regression and Other Stories (Gelman, Hill and
Vehtari 2020; the tidyverse version of its Arsenic example) fits ``switch ~ dist100``
with rstanarm's default priors, which are bayeslogreg's defaults.

Tolerances: rstanarm's medians come from 4000 draws, ours from 4000: the Monte Carlo
error of a median here is ~0.003 (sd ~0.1, ESS ~1000), so 0.01 is ~3 standard errors of
the difference, plus the printed rounding. ``loo()`` printed its Monte Carlo SE as 0.0
(under 0.05): elpd_loo within 0.25, its SE and p_loo within 0.15.
"""

import numpy as np
import pandas as pd
import pytest

import bayeslogreg as blr
from bayeslogreg.diagnostics import loo
from bayeslogreg.priors import Centered, StudentT

T_PRIOR = StudentT(7, 0, 2.5)

pytestmark = pytest.mark.slow


@pytest.fixture
def wells(shared_data) -> pd.DataFrame:
    frame = pd.read_csv(shared_data / "wells" / "wells.csv")
    return frame.assign(dist100=frame["dist"] / 100)


@pytest.mark.parametrize(
    ("formula", "medians", "elpd", "se", "p_loo"),
    [
        # print(coef(fit1)) and loo(fit1) in the vignette
        ("switched ~ dist100", [0.605, -0.621], -2040.1, 10.4, 2.0),
        # coef(fit2) and loo(fit2)
        ("switched ~ dist100 + arsenic", [0.002, -0.896, 0.462], -1968.4, 15.7, 3.2),
    ],
)
def test_the_vignettes_student_t_fits(wells, formula, medians, elpd, se, p_loo):
    posterior = blr.sample_posterior(
        formula, data=wells, prior=T_PRIOR, intercept_prior=Centered(T_PRIOR), seed=1
    )
    np.testing.assert_allclose(np.median(posterior.flat_draws, axis=0), medians, atol=0.01)
    estimate = loo(posterior)
    assert estimate.elpd == pytest.approx(elpd, abs=0.25)
    assert estimate.se == pytest.approx(se, abs=0.15)
    assert estimate.p == pytest.approx(p_loo, abs=0.15)


def test_regression_and_other_stories_default_priors(wells):
    # fit_2 <- stan_glm(switch ~ dist100, family = binomial(link = "logit")): rstanarm's
    # default priors, printed as medians 0.6 and -0.6 and elpd_loo -2040.1.
    posterior = blr.sample_posterior("switched ~ dist100", data=wells, seed=2)
    summary = posterior.prior_summary()
    assert summary.loc["dist100", "given"] == "default"
    np.testing.assert_allclose(np.median(posterior.flat_draws, axis=0), [0.6, -0.6], atol=0.05)
    assert loo(posterior).elpd == pytest.approx(-2040.1, abs=0.25)
