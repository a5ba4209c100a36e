"""Prior distributions: one object drives both the MAP penalty and the NUTS model.

Each prior is a small JAX pytree (its numbers are leaves, so changing a scale never
recompiles) with two faces: :meth:`Prior.log_density` for MAP, and
:meth:`Prior.distribution`, the NumPyro distribution the sampler uses. Both come from the
same NumPyro distribution, so MAP and NUTS cannot disagree about the model.

Penalty equivalents (with a flat intercept prior): ``Normal(0, s)`` is the L2 penalty
``sum(coef**2) / (2 s**2)``, i.e. scikit-learn's ``LogisticRegression(C=s**2)``;
``Laplace(0, b)`` is the L1 penalty ``sum(|coef|) / b``, i.e. ``penalty="l1", C=b``.
Scales may be scalars or one value per coefficient.

:class:`RegularizedHorseshoe` is the exception: a hierarchy with no closed-form density
of the coefficients and no useful mode. NUTS samples it in its unconstrained latents,
which every prior describes (:meth:`Prior.latent_size`, :meth:`Prior.latent_log_density`,
:meth:`Prior.coef_from_latent`; for the others the latents are the coefficients), and
MAP fits refuse it.
"""

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
from numpyro.distributions import constraints
from scipy import stats

__all__ = [
    "Cauchy",
    "Centered",
    "Flat",
    "Jeffreys",
    "Laplace",
    "Normal",
    "Prior",
    "RegularizedHorseshoe",
    "StudentT",
    "parse_prior",
    "prior_from_dict",
]


class Prior:
    """Base class of priors; subclasses name their parameters in ``_param_names``."""

    _param_names: tuple[str, ...] = ()
    #: Whether the log-density is differentiable everywhere (Laplace is not, at loc).
    is_smooth = True
    #: Whether the density integrates to one (a flat prior does not).
    is_proper = True
    #: Whether parameters may take one value per coefficient (else scalars only).
    per_coefficient = True
    #: Whether the log posterior has a useful maximum (MAP, the Laplace approximation).
    has_mode = True
    #: Whether NUTS samples the coefficients themselves (else the latents of a hierarchy).
    latents_are_coef = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        jax.tree_util.register_pytree_node(cls, cls._tree_flatten, cls._tree_unflatten)

    def _tree_flatten(self):
        return tuple(getattr(self, name) for name in self._param_names), None

    @classmethod
    def _tree_unflatten(cls, _aux, children):
        # Bypass __init__: under jit the leaves are tracers, which validation cannot read.
        prior = object.__new__(cls)
        for name, value in zip(cls._param_names, children, strict=True):
            object.__setattr__(prior, name, value)
        return prior

    def _set(self, **params):
        for name, value in params.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __repr__(self) -> str:
        args = ", ".join(f"{n}={_format(getattr(self, n))}" for n in self._param_names)
        return f"{type(self).__name__}({args})"

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and all(
            np.array_equal(getattr(self, n), getattr(other, n)) for n in self._param_names
        )

    def __hash__(self) -> int:
        return hash(
            (type(self), *(np.asarray(getattr(self, n)).tobytes() for n in self._param_names))
        )

    @property
    def size(self) -> int | None:
        """Number of coefficients the parameters were given for (None for scalars)."""
        sizes = {np.size(getattr(self, n)) for n in self._param_names} - {1}
        return sizes.pop() if sizes else None

    def check_size(self, n_params: int, what: str = "coef") -> None:
        """Raise if per-coefficient parameters do not match ``n_params`` values."""
        for name in self._param_names:
            size = np.size(getattr(self, name))
            if size not in (1, n_params):
                raise ValueError(
                    f"{self!r} has {size} values of {name!r} but {what} has {n_params} "
                    "entries; give a scalar or one value per entry."
                )

    def to_dict(self) -> dict:
        """Class name and parameters as plain JSON-ready values; see :func:`prior_from_dict`.

        Scalars stay floats and per-coefficient parameters become lists, so the inverse
        rebuilds an equal prior: ``{"name": "Normal", "loc": 0.0, "scale": [1.0, 2.5]}``.
        Only the priors of this module can be written.
        """
        if _PRIOR_CLASSES.get(type(self).__name__) is not type(self):
            raise TypeError(
                f"only the priors of bayeslogreg.priors ({', '.join(_PRIOR_CLASSES)}) can be "
                f"written as a dict; got {type(self).__name__}."
            )
        params = {name: np.asarray(getattr(self, name)).tolist() for name in self._param_names}
        return {"name": type(self).__name__, **params}

    def curvature(self) -> np.ndarray | float:
        """Typical curvature of minus the log-density, ``1 / scale**2`` (0 where flat).

        Scalar or one value per coefficient. The optimizers' coordinates take it into
        account (:func:`~bayeslogreg.estimators._objective.parameter_scale`), so that a
        prior far narrower than the data's information leaves them well-conditioned.
        """
        return 1.0 / np.square(self.scale)

    def distribution(self, shape: tuple[int, ...]) -> dist.Distribution:
        """NumPyro distribution of an array of ``shape`` independent draws (event shape)."""
        return self._base().expand(shape).to_event(len(shape))

    def log_density(self, x):
        """Log prior density summed over ``x`` (a JAX scalar)."""
        x = jnp.asarray(x)
        return self.distribution(x.shape).log_prob(x)

    def sample_coef(self, key, num_draws: int, n_features: int):
        """Draws of the coefficients from the prior, shape (num_draws, n_features)."""
        return self.distribution((n_features,)).sample(key, (num_draws,))

    def _base(self) -> dist.Distribution:
        raise NotImplementedError

    # NUTS samples a prior's latent parameters, unconstrained: for the priors above they
    # are the coefficients themselves; a hierarchical prior adds its hyperparameters.
    def latent_size(self, n_features: int) -> int:
        """Return how many unconstrained latents NUTS samples for ``n_features`` coefficients."""
        return n_features

    def latent_log_density(self, latent):
        """Log density of the latents (n_latent,), Jacobians included (a JAX scalar)."""
        return self.log_density(latent)

    def coef_from_latent(self, latent):
        """Coefficients (p,) that the latents (n_latent,) stand for."""
        return latent

    def hyperparameters(self, latent) -> dict:
        """Named hyperparameters of the latents (n_latent,), reported beside the draws."""
        return {}


def _format(value) -> str:
    value = np.asarray(value)
    return f"{value.item():g}" if value.size == 1 else np.array2string(value, precision=4)


def _checked(value, name: str, *, positive: bool) -> np.ndarray | float:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a number or a 1-D array of numbers; got {value!r}."
        ) from None
    if array.ndim > 1:
        raise ValueError(f"{name} must be a scalar or a 1-D array; got shape {array.shape}.")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite; got {value!r}.")
    if positive and (array <= 0).any():
        raise ValueError(f"{name} must be > 0; got {value!r}.")
    return float(array) if array.ndim == 0 else array


class _LocScale(Prior):
    _param_names = ("loc", "scale")

    def __init__(self, loc=0.0, scale=1.0):
        self._set(
            loc=_checked(loc, "loc", positive=False), scale=_checked(scale, "scale", positive=True)
        )
        self.check_size(self.size or 1, "the prior")


class Normal(_LocScale):
    """Normal(loc, scale) prior: the L2 (ridge) penalty, scikit-learn ``C = scale**2``."""

    def _base(self):
        return dist.Normal(self.loc, self.scale)


class Laplace(_LocScale):
    """Laplace(loc, scale) prior: the L1 (lasso) penalty, scikit-learn ``C = scale``.

    Its log-density has a kink at ``loc``; MAP fits handle it with proximal steps, so
    coefficients can be exactly ``loc``.
    """

    is_smooth = False

    def curvature(self) -> float:
        """Zero: away from its kink the log-density is linear (proximal steps treat the kink)."""
        return 0.0

    def _base(self):
        return dist.Laplace(self.loc, self.scale)


class Cauchy(_LocScale):
    """Cauchy(loc, scale) prior: heavy tails, weakly informative (Gelman et al. 2008)."""

    def _base(self):
        return dist.Cauchy(self.loc, self.scale)


class StudentT(Prior):
    """Student-t(df, loc, scale) prior: between Cauchy (df = 1) and Normal (df -> inf)."""

    _param_names = ("df", "loc", "scale")

    def __init__(self, df, loc=0.0, scale=1.0):
        self._set(
            df=_checked(df, "df", positive=True),
            loc=_checked(loc, "loc", positive=False),
            scale=_checked(scale, "scale", positive=True),
        )
        self.check_size(self.size or 1, "the prior")

    def _base(self):
        return dist.StudentT(self.df, self.loc, self.scale)


class Flat(Prior):
    """Improper flat prior (log-density 0): MAP under it is the MLE."""

    is_proper = False

    def __init__(self):
        pass

    def curvature(self) -> float:
        """Zero: the flat prior adds no curvature."""
        return 0.0

    def distribution(self, shape):
        """Improper uniform over the reals, for NumPyro."""
        return dist.ImproperUniform(constraints.real, (), shape)

    def log_density(self, x):
        """Zero, whatever ``x``."""
        return jnp.zeros((), dtype=jnp.result_type(x))


class Jeffreys(Prior):
    """Jeffreys prior ``|I(params)|^(1/2)``: MAP under it is Firth's penalised likelihood.

    ``I(params) = X1' W X1`` is the Fisher information of all parameters (``X1`` is X
    with a column of ones, ``W`` the diagonal of ``w_i n_i p_i (1 - p_i)`` with the
    fit's weights ``w``, trials ``n`` and offsets), so the density depends on the data:
    the fits evaluate it (:func:`~bayeslogreg.model.fisher_information`), never this
    object alone. The prior is joint over the intercept and the coefficients: pass it
    as ``prior`` and leave ``intercept_prior`` unset. It is proper, and so is the
    posterior, when ``[1, X]`` has full column rank (Ibrahim and Laud 1991); the mode
    is finite under complete and quasi-complete separation (Heinze and Schemper 2002).

    Examples
    --------
    >>> Jeffreys()
    Jeffreys()
    """

    def __init__(self):
        pass

    def curvature(self) -> float:
        """Zero: the prior's curvature depends on the data (the coordinates ignore it)."""
        return 0.0

    def distribution(self, shape):
        """Not available: the density depends on the data (raises ``ValueError``)."""
        raise ValueError(_JEFFREYS_ALONE)

    def log_density(self, x):
        """Not available: the density depends on the data (raises ``ValueError``)."""
        raise ValueError(_JEFFREYS_ALONE)

    @staticmethod
    def log_density_of_information(information):
        """``0.5 log det information`` (a JAX scalar) of a (p + 1, p + 1) information matrix.

        From the Cholesky factor of the matrix scaled to unit diagonal (Jacobi), so that
        columns in very different units do not make the factor lose precision.
        """
        root_diagonal = jnp.sqrt(jnp.diagonal(information))
        unit = information / jnp.outer(root_diagonal, root_diagonal)
        factor = jnp.linalg.cholesky(unit)
        return jnp.sum(jnp.log(jnp.diagonal(factor))) + jnp.sum(jnp.log(root_diagonal))


_JEFFREYS_ALONE = (
    "the Jeffreys prior's density, det(I(params))^(1/2), depends on the data (X, weights, "
    "trials and offsets), so it cannot be evaluated or sampled alone. Use it through "
    "fit_map or sample_posterior (NUTS), which evaluate it on the fit's data."
)


class Centered(Prior):
    """A prior on the intercept at predictor values ``center``, not at x = 0.

    ``Centered(Normal(0, 2.5))`` puts ``Normal(0, 2.5)`` on ``intercept + center @ coef``,
    the log-odds at ``center``, as rstanarm's ``prior_intercept`` does with the means of
    the predictors: the prior then means the same whatever the origin of each column
    (adding a constant to a column changes only the intercept). ``center=None``, the
    usual form, is resolved by a fit to the (weighted) column means of its X; a given
    ``center`` (shape (p,) or a scalar) is used as it is. The reported intercept stays
    the one at x = 0. The default intercept prior of :func:`~bayeslogreg.fit_map` and
    :func:`~bayeslogreg.sample_posterior` is ``Centered(Normal(0, 2.5))``.

    Only an intercept prior can be centred, and only a smooth proper one (Normal,
    Cauchy, StudentT): a Laplace prior's kink on a sum of parameters has no proximal
    step here, and a flat prior is flat wherever it is put.
    """

    _param_names = ("prior", "center")

    def __init__(self, prior: Prior, center=None):
        if not isinstance(prior, Prior) or isinstance(prior, Centered):
            raise ValueError(
                f"Centered takes a prior of bayeslogreg.priors (e.g. Normal(0, 2.5)); got "
                f"{prior!r}."
            )
        if (
            not prior.is_smooth
            or not prior.is_proper
            or not prior.has_mode
            or isinstance(prior, Jeffreys)
        ):
            raise ValueError(
                f"Centered needs a smooth proper prior (Normal, Cauchy, StudentT); got "
                f"{prior!r}. A flat intercept prior is flat at any centre; a Laplace prior "
                "can only be put on the intercept at x = 0 (pass it without Centered)."
            )
        prior.check_size(1, "the intercept")
        if center is not None:
            center = _checked(center, "center", positive=False)
        self._set(prior=prior, center=center)

    @property
    def size(self) -> int | None:
        """None: the intercept prior is one number's (``center`` is checked by the fit)."""
        return None

    def check_size(self, n_params: int, what: str = "coef") -> None:
        """Check the prior it centres (one value: the intercept)."""
        self.prior.check_size(n_params, what)

    def curvature(self) -> np.ndarray | float:
        """Return the centred prior's :meth:`Prior.curvature`."""
        return self.prior.curvature()

    def distribution(self, shape):
        """Return the centred prior's distribution (of the intercept at ``center``)."""
        return self.prior.distribution(shape)

    def log_density(self, x):
        """Log density of the intercept at ``center``, ``x = intercept + center @ coef``."""
        return self.prior.log_density(x)

    def at(self, center) -> "Centered":
        """Return the same prior at ``center`` (shape (p,)): what a fit uses."""
        return Centered(self.prior, center)

    def to_dict(self) -> dict:
        """``{"name": "Centered", "prior": {...}, "center": None or list}``."""
        center = None if self.center is None else np.asarray(self.center).tolist()
        return {"name": "Centered", "prior": self.prior.to_dict(), "center": center}

    def __repr__(self) -> str:
        if self.center is None:
            return f"Centered({self.prior!r})"
        return f"Centered({self.prior!r}, center={_format(self.center)})"

    def __eq__(self, other) -> bool:
        same_center = (self.center is None) == (getattr(other, "center", 0) is None) and (
            self.center is None or np.array_equal(self.center, other.center)
        )
        return type(other) is Centered and self.prior == other.prior and same_center

    def __hash__(self) -> int:
        center = None if self.center is None else np.asarray(self.center).tobytes()
        return hash((Centered, self.prior, center))


class RegularizedHorseshoe(Prior):
    """Regularized horseshoe (Piironen and Vehtari 2017), with rstanarm's ``hs()`` meaning.

    ``beta_j = z_j tau lambda~_j`` with ``z_j ~ N(0, 1)``, ``lambda_j ~ half-t(local_df,
    0, 1)``, ``tau ~ half-t(global_df, 0, global_scale)``, ``c^2 ~ InvGamma(slab_df / 2,
    slab_df slab_scale**2 / 2)`` and ``lambda~_j**2 = c^2 lambda_j**2 / (c^2 + tau**2
    lambda_j**2)``: coefficients far from 0 see a Student-t(slab_df, 0, slab_scale) slab
    instead of the horseshoe's Cauchy tails. rstanarm multiplies ``global_scale`` by the
    residual sd in Gaussian models only; for logistic regression it is used as given.
    Piironen and Vehtari suggest ``global_scale = p0 / (p - p0) / sqrt(n)`` for ``p0``
    expected non-zero coefficients of ``p`` (``docs/priors.md``). All five parameters are
    positive finite scalars. Only :func:`~bayeslogreg.sample_posterior` (NUTS) takes it:
    the density has no useful mode, so ``fit_map`` and IMH refuse it.
    """

    _param_names = ("global_scale", "slab_scale", "slab_df", "local_df", "global_df")
    per_coefficient = False
    has_mode = False
    latents_are_coef = False

    def __init__(self, global_scale, slab_scale=2.5, slab_df=4.0, local_df=1.0, global_df=1.0):
        values = dict(
            zip(
                self._param_names,
                (global_scale, slab_scale, slab_df, local_df, global_df),
                strict=True,
            )
        )
        for name, value in values.items():
            values[name] = _checked(value, name, positive=True)
            if np.ndim(values[name]):
                raise ValueError(
                    f"{name} must be a scalar (the horseshoe's hyperparameters are shared by "
                    f"all coefficients); got {value!r}."
                )
        self._set(**values)

    def log_density(self, x):
        """Refused: the coefficients' marginal density has no closed form (and no mode)."""
        raise ValueError(NO_MODE_MESSAGE)

    def latent_size(self, n_features: int) -> int:
        """``2 p + 2``: z (p), log lambda (p), log tau, log c^2."""
        return 2 * n_features + 2

    def latent_log_density(self, latent):
        """Log density of (z, log lambda, log tau, log c^2), the log-Jacobians included."""
        z, log_lambda, log_tau, log_c2 = self._split(latent)
        return (
            jnp.sum(dist.Normal().log_prob(z))
            + jnp.sum(_log_half_t(log_lambda, self.local_df, 1.0))
            + _log_half_t(log_tau, self.global_df, self.global_scale)
            + _log_inverse_gamma(log_c2, self.slab_df / 2, self.slab_df * self.slab_scale**2 / 2)
        )

    def coef_from_latent(self, latent):
        """``z tau lambda~``, shape (p,), computed on the log scale (no overflow)."""
        z, log_lambda, log_tau, log_c2 = self._split(latent)
        log_tau_lambda = log_tau + log_lambda
        # log(tau lambda~) = log(tau lambda) + (log c^2 - log(c^2 + tau^2 lambda^2)) / 2
        log_scale = log_tau_lambda + 0.5 * (log_c2 - jnp.logaddexp(log_c2, 2 * log_tau_lambda))
        return z * jnp.exp(log_scale)

    def sample_coef(self, key, num_draws: int, n_features: int):
        """Draws of the coefficients (num_draws, n_features) through the hierarchy."""
        keys = jax.random.split(key, 4)
        z = jax.random.normal(keys[0], (num_draws, n_features))
        lam = jnp.abs(jax.random.t(keys[1], self.local_df, (num_draws, n_features)))
        tau = self.global_scale * jnp.abs(jax.random.t(keys[2], self.global_df, (num_draws, 1)))
        c2 = dist.InverseGamma(self.slab_df / 2, self.slab_df * self.slab_scale**2 / 2).sample(
            keys[3], (num_draws, 1)
        )
        return z * tau * jnp.sqrt(c2 * lam**2 / (c2 + tau**2 * lam**2))

    def hyperparameters(self, latent) -> dict:
        """``{"tau": (), "lambda": (p,), "c2": ()}`` of the latents (n_latent,)."""
        _, log_lambda, log_tau, log_c2 = self._split(latent)
        return {"tau": jnp.exp(log_tau), "lambda": jnp.exp(log_lambda), "c2": jnp.exp(log_c2)}

    def start_latent(self, n_latent: int) -> np.ndarray:
        """Latents (n_latent,) at z = 0 and each scale at its prior median."""
        n_features = (n_latent - 2) // 2
        medians = [
            np.full(n_features, stats.t.ppf(0.75, float(self.local_df))),
            [self.global_scale * stats.t.ppf(0.75, float(self.global_df))],
            [self.slab_df * self.slab_scale**2 / 2 / stats.gamma.ppf(0.5, self.slab_df / 2)],
        ]
        return np.concatenate([np.zeros(n_features), *map(np.log, medians)])

    @staticmethod
    def _split(latent):
        p = (latent.shape[-1] - 2) // 2
        return latent[..., :p], latent[..., p : 2 * p], latent[..., 2 * p], latent[..., 2 * p + 1]


#: Why fit_map (and IMH, which starts from the MAP) refuse a RegularizedHorseshoe.
NO_MODE_MESSAGE = (
    "the regularized horseshoe has no useful mode: its density is unbounded at coef = 0, "
    "so a MAP fit would shrink every coefficient to 0 and its Laplace approximation is "
    "meaningless. Use sample_posterior(..., prior=RegularizedHorseshoe(...)) with NUTS, or "
    "fit_map with a Laplace prior for a sparse point estimate."
)


def _log_half_t(log_x, df, scale):
    """Log density of a half-Student-t(df, 0, scale) in ``u = log x``, Jacobian included."""
    return jnp.log(2.0) + dist.StudentT(df, 0.0, scale).log_prob(jnp.exp(log_x)) + log_x


def _log_inverse_gamma(log_x, concentration, rate):
    """Log density of InvGamma(concentration, rate) in ``u = log x``, Jacobian included."""
    return (
        concentration * jnp.log(rate)
        - jax.scipy.special.gammaln(concentration)
        - concentration * log_x
        - rate * jnp.exp(-log_x)
    )


def centered_parts(params, intercept_prior: Prior):
    """``(intercept value, coef)`` that ``intercept_prior`` and the coefficients' prior see.

    The intercept at ``center`` for a :class:`Centered` prior, the raw intercept else;
    ``params`` is (intercept, coef...), shape (p + 1,).
    """
    intercept, coef = params[0], params[1:]
    if isinstance(intercept_prior, Centered) and intercept_prior.center is not None:
        intercept = intercept + jnp.sum(jnp.asarray(intercept_prior.center) * coef)
    return intercept, coef


def canonical(intercept_prior: Prior, prior: Prior, n_features: int) -> tuple[Prior, Prior]:
    """Return the same priors in one form per kind, so that compiled programs are shared.

    Every parameter becomes a float64 array of its full shape (the coefficients' (p,),
    the intercept's ()), and a smooth proper intercept prior at x = 0 becomes
    ``Centered(prior, zeros(p))``, the same density. So a program compiled for the
    default priors (per-column scales, a centred intercept) also serves
    ``Normal(0, 1)`` with ``Normal(0, 10)`` on the intercept, and the other way round.
    """
    prior = _broadcast(prior, (n_features,) if prior.per_coefficient else ())
    if isinstance(intercept_prior, Jeffreys):  # joint, of the data: nothing to centre
        return intercept_prior, prior
    if isinstance(intercept_prior, Centered):
        center = 0.0 if intercept_prior.center is None else intercept_prior.center
        inner = intercept_prior.prior
    elif intercept_prior.is_smooth and intercept_prior.is_proper:
        center, inner = 0.0, intercept_prior
    else:
        return _broadcast(intercept_prior, ()), prior
    center = np.broadcast_to(np.asarray(center, dtype=np.float64), (n_features,)).copy()
    return Centered(_broadcast(inner, ()), center), prior


def _broadcast(prior: Prior, shape: tuple[int, ...]) -> Prior:
    leaves, treedef = jax.tree.flatten(prior)
    arrays = [np.broadcast_to(np.asarray(leaf, dtype=np.float64), shape).copy() for leaf in leaves]
    return jax.tree.unflatten(treedef, arrays)


_PRIOR_CLASSES = {
    cls.__name__: cls
    for cls in (Normal, Laplace, Cauchy, StudentT, Flat, Jeffreys, Centered, RegularizedHorseshoe)
}


def prior_from_dict(spec: dict) -> Prior:
    """Rebuild a prior from :meth:`Prior.to_dict`'s output.

    Only the class names of this module are accepted, so a file read into ``spec`` can
    create nothing else; the parameters are validated as by the constructors.

    Examples
    --------
    >>> prior_from_dict({"name": "StudentT", "df": 3.0, "loc": 0.0, "scale": [1.0, 2.0]})
    StudentT(df=3, loc=0, scale=[1. 2.])
    """
    name = spec.get("name") if isinstance(spec, dict) else None
    if name not in _PRIOR_CLASSES:
        raise ValueError(
            f"a prior must be a dict whose 'name' is one of {list(_PRIOR_CLASSES)}; got {spec!r}."
        )
    cls = _PRIOR_CLASSES[name]
    params = {key: value for key, value in spec.items() if key != "name"}
    if set(params) != set(cls._param_names):
        raise ValueError(
            f"{name} takes the parameters {list(cls._param_names)}; got {sorted(params)}."
        )
    if cls is Centered:
        params["prior"] = prior_from_dict(params["prior"])
    return cls(**params)


_SPEC_KINDS = {"normal": Normal, "laplace": Laplace, "cauchy": Cauchy, "student_t": StudentT}
_SPEC_HELP = (
    "Write 'normal:SCALE', 'laplace:SCALE', 'cauchy:SCALE', 'student_t:DF:SCALE' "
    "(location 0), 'flat', 'jeffreys' (Firth), e.g. 'normal:2.5', or "
    "'horseshoe:GLOBAL_SCALE' followed by up to four more of RegularizedHorseshoe's "
    "parameters in order, e.g. 'horseshoe:0.01:2.5'."
)


def parse_prior(spec: str) -> Prior:
    """Build a prior from a short text form, as the command line takes it.

    ``"normal:2.5"`` is ``Normal(0, 2.5)``; likewise ``laplace:SCALE``,
    ``cauchy:SCALE``, ``student_t:DF:SCALE``, ``flat`` and ``jeffreys`` (Firth);
    ``horseshoe:0.01`` is ``RegularizedHorseshoe(0.01)``, and ``horseshoe:0.01:2.5:4:1:1``
    gives all of ``global_scale, slab_scale, slab_df, local_df, global_df``.
    """
    kind, *numbers = str(spec).strip().lower().split(":")
    kind = kind.replace("-", "_")
    if kind == "flat" and not numbers:
        return Flat()
    if kind == "jeffreys" and not numbers:
        return Jeffreys()
    expected = {"student_t": (2,), "horseshoe": (1, 2, 3, 4, 5)}.get(kind, (1,))
    known = kind in _SPEC_KINDS or kind == "horseshoe"
    if not known or len(numbers) not in expected:
        raise ValueError(f"Cannot read the prior {spec!r}. {_SPEC_HELP}")
    try:
        values = [float(v) for v in numbers]
    except ValueError:
        raise ValueError(f"Cannot read the numbers in the prior {spec!r}. {_SPEC_HELP}") from None
    if kind == "horseshoe":
        return RegularizedHorseshoe(*values)
    if kind == "student_t":
        return StudentT(values[0], 0.0, values[1])
    return _SPEC_KINDS[kind](0.0, values[0])
