"""The samplers of :func:`~bayeslogreg.sample_posterior`: small objects holding their options.

Pass one as ``sample_posterior(X, y, sampler=NUTS(target_accept=0.95))``, or a shorthand
string, ``sampler="nuts"`` or ``sampler="imh"``, for its defaults. Each object checks its
options when it is built and holds only the options its sampler uses, so a setting can
never be silently ignored. The objects are frozen (hashable, comparable) and the
:class:`~bayeslogreg.Posterior` they produce records the one used.

Examples
--------
>>> from bayeslogreg import samplers
>>> samplers.NUTS(target_accept=0.95) == samplers.NUTS(target_accept=0.95)
True
>>> samplers.IMH()
IMH(df=50.0)
"""

from bayeslogreg.estimators._samplers import CHAIN_METHODS, IMH, NUTS, SHORTHANDS, Sampler

__all__ = ["CHAIN_METHODS", "IMH", "NUTS", "SHORTHANDS", "Sampler"]
