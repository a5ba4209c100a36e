"""Sampler objects and the shorthand strings for them.

The public face is :mod:`bayeslogreg.samplers`, which documents them.
"""

from dataclasses import dataclass
from functools import partial

from bayeslogreg._validation import (
    check_bool,
    check_choice,
    check_positive_float,
    check_positive_int,
    check_unit_interval,
)
from bayeslogreg.estimators._options import set_checked

__all__ = ["CHAIN_METHODS", "IMH", "NUTS", "SHORTHANDS", "Sampler", "as_sampler"]

#: How NUTS chains run; see :class:`NUTS`.
CHAIN_METHODS = ("parallel", "sequential", "vectorized")
#: Degrees of freedom of the IMH proposal by default.
DEFAULT_DF = 50.0


@dataclass(frozen=True)
class NUTS:
    """The No-U-Turn Sampler (NumPyro's NUTS kernel), started at the MAP.

    Each chain starts at a draw from the Laplace approximation at the MAP, whose
    covariance is also the inverse mass matrix, so warm-up only tunes the step size.
    The right sampler for small and moderate data and for posteriors far from Gaussian.

    Parameters
    ----------
    target_accept : float, default 0.8
        Acceptance probability that step-size adaptation aims at, in (0, 1). Raise it
        (e.g. to 0.95) when there are divergent transitions: the steps become smaller
        and each draw takes more of them.
    max_tree_depth : int, default 10
        Trajectories have at most ``2**max_tree_depth - 1`` leapfrog steps (each step
        is one gradient of the log posterior).
    dense_mass : bool, default True
        Use the dense Laplace covariance as inverse mass matrix. It removes the
        correlation between coefficients (e.g. intercept and slope of an uncentred
        feature): on the effort data a draw takes 4 leapfrog steps instead of 9 and the
        bulk ESS is 4 times as large. Set False for many features, where each step with a
        dense matrix costs O(p^2); the Laplace variances are then the diagonal.
    adapt_mass_matrix : bool or None, default None
        Re-estimate the mass matrix from warm-up draws (NumPyro's windowed adaptation).
        None adapts only when the Laplace covariance is unavailable (a singular Hessian
        at the MAP). Adapting lengthens warm-up, and where measured the adapted matrix
        needed more leapfrog steps per draw than the Laplace covariance it started from.
    chain_method : {"parallel", "sequential", "vectorized"}, default "parallel"
        "parallel": each chain is its own compiled program, the chains on parallel
        threads (one per core). "sequential": the same programs one after another, hence
        the same draws. "vectorized": all chains in one vectorised program, whose draws
        differ in the last bits (XLA's arithmetic differs between batch sizes) and which
        was the slower where measured. Each gives the same draws on any machine.
    progress_bar : bool, default False
        Show a progress bar. It moves 20 times per chain: the chains run in 20 stretches
        whether it is shown or not, so it does not change the draws.

    Raises
    ------
    ValueError
        If an option has the wrong type or is out of range; the message names it.

    Examples
    --------
    >>> from bayeslogreg import sample_posterior
    >>> from bayeslogreg.datasets import load_effort
    >>> from bayeslogreg.samplers import NUTS
    >>> data = load_effort()
    >>> sampler = NUTS(target_accept=0.95, dense_mass=False)
    >>> post = sample_posterior(data.X, data.y, sampler=sampler)  # doctest: +SKIP
    >>> post.sampler == sampler  # doctest: +SKIP
    True
    >>> NUTS(target_accept=95)
    Traceback (most recent call last):
    ...
    ValueError: target_accept must be a number in (0, 1); got 95.0.
    """

    target_accept: float = 0.8
    max_tree_depth: int = 10
    dense_mass: bool = True
    adapt_mass_matrix: bool | None = None
    chain_method: str = "parallel"
    progress_bar: bool = False

    def __post_init__(self):
        set_checked(
            self,
            target_accept=partial(check_unit_interval, open_low=True, open_high=True),
            max_tree_depth=check_positive_int,
            dense_mass=check_bool,
            adapt_mass_matrix=partial(check_bool, allow_none=True),
            chain_method=partial(check_choice, allowed=CHAIN_METHODS),
            progress_bar=check_bool,
        )


@dataclass(frozen=True)
class IMH:
    """Independence Metropolis-Hastings with a Student-t proposal, for large data.

    Every proposal is drawn from a multivariate Student-t centred at the MAP with the
    Laplace covariance as its scale, whatever the chain's state, so all proposals of all
    chains are evaluated in one pass over the data. It is exact MCMC, and far cheaper
    than NUTS for large n (see ``benchmarks/bench_posterior_higgs.py``), where the
    posterior is close to its Laplace approximation. It has no adaptation:
    ``num_warmup`` steps are only discarded (a few dozen suffice) and each draw costs
    one log-likelihood evaluation, so ``num_samples=300`` per chain gives a bulk ESS of
    several hundred when the acceptance rate (``sample_stats.acceptance_rate``) is high.
    For small n or a skewed posterior the acceptance rate and ESS drop; use
    :class:`NUTS` there.

    Parameters
    ----------
    df : float, default 50.0
        Degrees of freedom of the Student-t proposal, > 0. Its polynomial tails bound
        the importance weights, which makes the chain uniformly ergodic; fewer degrees
        of freedom widen the tails (a wider margin for a posterior with heavier tails
        than the Laplace Gaussian) and lower the acceptance rate near a Gaussian
        posterior (simulated on a 29-dimensional Gaussian target: 0.59 at df 10, 0.85
        at df 50, 0.92 at df 100).

    Raises
    ------
    ValueError
        If ``df`` is not a positive finite number.

    Examples
    --------
    >>> from bayeslogreg import sample_posterior
    >>> from bayeslogreg.datasets import simulate
    >>> from bayeslogreg.samplers import IMH
    >>> data = simulate(20_000, [1.0, -0.5], seed=0)
    >>> post = sample_posterior(
    ...     data.X, data.y, sampler=IMH(df=20.0), num_warmup=25, num_samples=300
    ... )  # doctest: +SKIP
    >>> IMH(df=0)
    Traceback (most recent call last):
    ...
    ValueError: df must be a positive finite number; got 0.0.
    """

    df: float = DEFAULT_DF

    def __post_init__(self):
        set_checked(self, df=check_positive_float)


#: Either sampler object (for annotations).
Sampler = NUTS | IMH
#: The shorthand strings of ``sample_posterior(sampler=...)`` and what each stands for.
SHORTHANDS = {"nuts": NUTS, "imh": IMH}


def as_sampler(sampler: Sampler | str, name: str = "sampler") -> Sampler:
    """Return ``sampler`` as a sampler object: itself, or the defaults of a shorthand.

    Parameters
    ----------
    sampler : NUTS, IMH, "nuts" or "imh"
    name : str
        The argument, for the error message.

    Returns
    -------
    NUTS or IMH

    Examples
    --------
    >>> as_sampler("imh")
    IMH(df=50.0)
    """
    if isinstance(sampler, NUTS | IMH):
        return sampler
    if isinstance(sampler, str) and sampler in SHORTHANDS:
        return SHORTHANDS[sampler]()
    raise ValueError(
        f"{name} must be one of {sorted(SHORTHANDS)} or an object of bayeslogreg.samplers "
        f"(NUTS(...), IMH(...)); got {sampler!r}."
    )
