"""scikit-learn estimators: MLE, MAP and the posterior as interchangeable classifiers.

:class:`MLELogisticRegression`, :class:`MAPLogisticRegression` and
:class:`BayesianLogisticRegression` call :func:`~bayeslogreg.fit_mle`,
:func:`~bayeslogreg.fit_map` and :func:`~bayeslogreg.sample_posterior`. Each is a binary
classifier that follows scikit-learn's contract (``__init__`` only stores settings,
``fit`` returns ``self``, learned attributes end in ``_``), so it works in ``Pipeline``,
``GridSearchCV``, ``cross_val_predict`` and ``CalibratedClassifierCV``, and keeps the
bayeslogreg result in ``result_`` for :func:`~bayeslogreg.compare` and the report. Any two
labels are taken, strings included; the positive class is ``classes_[1]`` (the larger
label, as scikit-learn sorts them). scikit-learn is an optional dependency:
``pip install "bayeslogreg[sklearn]"``.
"""

import warnings
from contextlib import contextmanager

import numpy as np
from scipy import special

try:
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.exceptions import ConvergenceWarning as _SklearnConvergenceWarning
    from sklearn.utils.multiclass import check_classification_targets, type_of_target
    from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data
except ImportError as error:  # scikit-learn is optional
    raise ImportError(
        "bayeslogreg.sklearn needs scikit-learn, which is not installed; install it with "
        'pip install "bayeslogreg[sklearn]".'
    ) from error

from bayeslogreg import exceptions
from bayeslogreg.estimators.nuts import sample_posterior
from bayeslogreg.estimators.point import fit_map, fit_mle

__all__ = [
    "BayesianLogisticRegression",
    "ConvergenceWarning",
    "MAPLogisticRegression",
    "MLELogisticRegression",
    "SeparationWarning",
]

# Draw-row log-probabilities computed at a time by BayesianLogisticRegression.
_CHUNK_ELEMENTS = 2**24


class ConvergenceWarning(exceptions.ConvergenceWarning, _SklearnConvergenceWarning):
    """bayeslogreg's ConvergenceWarning as the estimators issue it: scikit-learn's too.

    Filters on either ``bayeslogreg.ConvergenceWarning`` or
    ``sklearn.exceptions.ConvergenceWarning`` catch it.
    """


class SeparationWarning(exceptions.SeparationWarning, ConvergenceWarning):
    """bayeslogreg's SeparationWarning as the estimators issue it: a ConvergenceWarning."""


@contextmanager
def _as_sklearn_warnings():
    """Issue bayeslogreg's convergence warnings of the block as the classes above.

    Every other warning is issued again unchanged, through the caller's filters; so are
    the warnings of a block that raised, before its exception goes on.
    """
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        for record in caught:
            category = record.category
            if issubclass(category, exceptions.SeparationWarning):
                category = SeparationWarning
            elif issubclass(category, exceptions.ConvergenceWarning):
                category = ConvergenceWarning
            warnings.warn_explicit(str(record.message), category, record.filename, record.lineno)


class _BinaryLogisticRegression(ClassifierMixin, BaseEstimator):
    """What the three estimators share: labels, validation, and the methods of a classifier.

    Subclasses define ``_fit_result(X, y, sample_weight, feature_names)`` (y in {0, 1})
    and ``_log_proba(X)``, the log-probabilities of the two classes of checked rows.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def fit(self, X, y, sample_weight=None):
        """Fit the model to ``X`` (n_samples, n_features) and two classes of labels ``y``.

        Parameters
        ----------
        X : array_like or DataFrame of shape (n_samples, n_features)
        y : array_like of shape (n_samples,)
            Any two labels; ``classes_[1]`` (the larger) is the positive class.
        sample_weight : array_like of shape (n_samples,), optional
            Frequency weights (>= 0): a weight of 3 counts the row three times.

        Returns
        -------
        self
        """
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        target_type = type_of_target(y, input_name="y", raise_unknown=True)
        if target_type != "binary":
            # scikit-learn's checks look for its wording of this error.
            raise ValueError(
                "Only binary classification is supported. The type of the target is "
                f"{target_type}. For more classes, wrap {type(self).__name__} in "
                "sklearn.multiclass.OneVsRestClassifier."
            )
        classes = np.unique(y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
        weighted_classes = classes if sample_weight is None else np.unique(y[sample_weight > 0])
        if len(weighted_classes) < 2:
            raise ValueError(
                f"y must hold two classes (of rows with a positive sample_weight); got one "
                f"class, {weighted_classes.tolist()}. Give {type(self).__name__} rows of "
                "both classes."
            )
        names = getattr(self, "feature_names_in_", None)
        with _as_sklearn_warnings():
            self.result_ = self._fit_result(
                X,
                (y == classes[1]).astype(X.dtype),
                sample_weight,
                None if names is None else list(names),
            )
        self.classes_ = classes
        self.coef_ = np.asarray(self.result_.coef, dtype=np.float64).reshape(1, -1)
        self.intercept_ = np.array([self.result_.intercept])
        return self

    def _checked(self, X) -> np.ndarray:
        check_is_fitted(self)
        return validate_data(self, X, dtype=[np.float64, np.float32], reset=False)

    def decision_function(self, X) -> np.ndarray:
        """Log-odds of ``classes_[1]`` for each row of X, shape (n_samples,)."""
        log_proba = self._log_proba(self._checked(X))
        return log_proba[:, 1] - log_proba[:, 0]

    def predict_log_proba(self, X) -> np.ndarray:
        """Log-probabilities of ``classes_`` for each row of X, shape (n_samples, 2)."""
        return self._log_proba(self._checked(X))

    def predict_proba(self, X) -> np.ndarray:
        """Probabilities of ``classes_`` for each row of X, shape (n_samples, 2)."""
        return np.exp(self.predict_log_proba(X))

    def predict(self, X) -> np.ndarray:
        """Predict the more probable class of each row (``classes_[1]`` above 0.5), (n_samples,)."""
        positive = self.decision_function(X) > 0
        return self.classes_[positive.astype(int)]


class _PointLogisticRegression(_BinaryLogisticRegression):
    """A point estimate: the probabilities are those of ``coef_`` and ``intercept_``."""

    def _log_proba(self, X: np.ndarray) -> np.ndarray:
        eta = X @ self.coef_[0] + self.intercept_[0]
        return np.column_stack([special.log_expit(-eta), special.log_expit(eta)])


class MLELogisticRegression(_PointLogisticRegression):
    """Logistic regression by maximum likelihood (:func:`~bayeslogreg.fit_mle`).

    Parameters
    ----------
    solver : Solver or str, optional
        As in :func:`~bayeslogreg.fit_mle`; default Newton (L-BFGS above 500 parameters).

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
    coef_ : ndarray of shape (1, n_features)
    intercept_ : ndarray of shape (1,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features,)
        Only when X was a data frame with string column names.
    result_ : PointEstimate
        Labels encoded 1 for ``classes_[1]``; standard errors, ``summary()``, ``save()``.

    Notes
    -----
    Separated classes give a :class:`SeparationWarning` (a scikit-learn
    ``ConvergenceWarning``) and an estimate that only went as far as the solver did.

    Examples
    --------
    >>> from bayeslogreg.datasets import load_effort
    >>> data = load_effort()
    >>> model = MLELogisticRegression().fit(data.X, data.y)
    >>> model.coef_.round(2), model.intercept_.round(2)
    (array([[2.74]]), array([-4.51]))
    """

    def __init__(self, *, solver=None):
        self.solver = solver

    def _fit_result(self, X, y, sample_weight, feature_names):
        return fit_mle(
            X, y, solver=self.solver, sample_weight=sample_weight, feature_names=feature_names
        )


class MAPLogisticRegression(_PointLogisticRegression):
    """Logistic regression by maximum a posteriori (:func:`~bayeslogreg.fit_map`).

    With ``prior=Normal(0, s)`` and ``intercept_prior=Flat()`` this is scikit-learn's
    ``LogisticRegression(C=s**2)``. Search the prior's scale by giving prior objects in
    the grid: ``GridSearchCV(model, {"prior": [Normal(0, s) for s in (0.1, 1, 10)]})``.

    Parameters
    ----------
    prior, intercept_prior : Prior, optional
        As in :func:`~bayeslogreg.fit_map`; defaults ``Normal(0, 2.5 / s_j)`` (``s_j`` the
        spread of column j) and ``Centered(Normal(0, 2.5))``.
    solver : Solver or str, optional
        As in :func:`~bayeslogreg.fit_map`.
    autoscale : bool, optional
        As in :func:`~bayeslogreg.fit_map`: whether the coefficient prior's scale is
        divided by each column's spread (unset: only the default prior's).

    Attributes
    ----------
    classes_, coef_, intercept_, n_features_in_, feature_names_in_
        As for :class:`MLELogisticRegression`.
    result_ : PointEstimate
        ``cov`` is the Laplace approximation's covariance; ``prior_summary()``.

    Examples
    --------
    >>> from bayeslogreg.datasets import load_effort
    >>> from bayeslogreg.priors import Normal
    >>> data = load_effort()
    >>> MAPLogisticRegression(prior=Normal(0, 2.5)).fit(data.X, data.y).coef_.round(2)
    array([[2.73]])
    """

    def __init__(self, *, prior=None, intercept_prior=None, solver=None, autoscale=None):
        self.prior = prior
        self.intercept_prior = intercept_prior
        self.solver = solver
        self.autoscale = autoscale

    def _fit_result(self, X, y, sample_weight, feature_names):
        return fit_map(
            X,
            y,
            prior=self.prior,
            intercept_prior=self.intercept_prior,
            autoscale=self.autoscale,
            solver=self.solver,
            sample_weight=sample_weight,
            feature_names=feature_names,
        )


class BayesianLogisticRegression(_BinaryLogisticRegression):
    """Bayesian logistic regression by MCMC (:func:`~bayeslogreg.sample_posterior`).

    ``predict_proba`` is the posterior predictive probability (the mean over draws of
    each draw's probability), ``decision_function`` its log-odds and ``predict`` the class
    it makes more probable; ``coef_`` and ``intercept_`` are posterior means.

    Parameters
    ----------
    prior, intercept_prior, autoscale
        As in :class:`MAPLogisticRegression`.
    sampler : NUTS, IMH, "nuts" or "imh", optional
        As in :func:`~bayeslogreg.sample_posterior`; default ``NUTS()``.
    num_chains, num_warmup, num_samples : int
        Chains, warm-up iterations per chain and kept draws per chain.
    seed : int
        The same seed gives the same draws, hence the same predictions.

    Attributes
    ----------
    classes_, coef_, intercept_, n_features_in_, feature_names_in_
        As for :class:`MLELogisticRegression`.
    result_ : Posterior
        The draws (``draws``, ``summary()``, ``idata``), labels encoded 1 for
        ``classes_[1]``.

    Notes
    -----
    Short chains give a :class:`ConvergenceWarning` (R-hat, ESS, divergences), as
    :func:`~bayeslogreg.sample_posterior` does.

    Examples
    --------
    >>> from bayeslogreg.datasets import load_effort
    >>> data = load_effort()
    >>> model = BayesianLogisticRegression(num_chains=2, num_samples=500)
    >>> model.fit(data.X, data.y).predict_proba(data.X[:2]).shape  # doctest: +SKIP
    (2, 2)
    """

    def __init__(
        self,
        *,
        prior=None,
        intercept_prior=None,
        autoscale=None,
        sampler=None,
        num_chains=4,
        num_warmup=500,
        num_samples=1000,
        seed=0,
    ):
        self.prior = prior
        self.intercept_prior = intercept_prior
        self.autoscale = autoscale
        self.sampler = sampler
        self.num_chains = num_chains
        self.num_warmup = num_warmup
        self.num_samples = num_samples
        self.seed = seed

    def _fit_result(self, X, y, sample_weight, feature_names):
        return sample_posterior(
            X,
            y,
            prior=self.prior,
            intercept_prior=self.intercept_prior,
            autoscale=self.autoscale,
            sampler=self.sampler,
            num_chains=self.num_chains,
            num_warmup=self.num_warmup,
            num_samples=self.num_samples,
            seed=self.seed,
            sample_weight=sample_weight,
            feature_names=feature_names,
        )

    def _log_proba(self, X: np.ndarray) -> np.ndarray:
        # log of the mean over draws of each draw's probability, summed in log space so
        # that a probability within 1e-16 of 0 or 1 keeps its log; about 2**24 draw-row
        # values at a time.
        draws = self.result_.flat_draws
        log_proba = np.empty((X.shape[0], 2))
        step = max(1, _CHUNK_ELEMENTS // len(draws))
        for start in range(0, X.shape[0], step):
            eta = draws[:, :1] + draws[:, 1:] @ X[start : start + step].T
            log_proba[start : start + step, 0] = special.logsumexp(special.log_expit(-eta), 0)
            log_proba[start : start + step, 1] = special.logsumexp(special.log_expit(eta), 0)
        return log_proba - np.log(len(draws))

    def predict_proba(self, X, *, return_draws: bool = False):
        """Posterior predictive probabilities of ``classes_``, shape (n_samples, 2).

        With ``return_draws=True`` also each draw's probability of ``classes_[1]``, shape
        (num_chains * num_samples, n_samples), whose mean over draws is column 1.
        """
        X = self._checked(X)
        if not return_draws:
            return np.exp(self._log_proba(X))
        proba, draws = self.result_.predict_proba(X, return_draws=True)
        return np.column_stack([1.0 - proba, proba]), draws
