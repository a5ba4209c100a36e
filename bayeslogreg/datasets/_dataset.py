"""The :class:`Dataset` record that every loader and simulator of the package returns."""

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Dataset"]


@dataclass(frozen=True)
class Dataset:
    """A data set with, when it was simulated, the true parameters.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,), 0/1 integers
    feature_names : tuple of str
    intercept, coef : true parameters (None for real data); coef has shape (n_features,)
    description : str
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    intercept: float | None = None
    coef: np.ndarray | None = None
    description: str = field(default="", repr=False)
