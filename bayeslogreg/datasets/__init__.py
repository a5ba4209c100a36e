"""Built-in data: simulation from a known logistic model, the "effort" lesson, splitting.

Every random path takes a ``seed`` and the same seed gives the same numbers.
"""

from bayeslogreg.datasets._builtin import (
    load_effort,
    load_endometrial,
    read_frame,
    read_table,
    simulate,
    train_test_split,
)
from bayeslogreg.datasets._dataset import Dataset
from bayeslogreg.datasets._higgs import (
    HIGGS_FEATURES,
    HIGGS_LIKE_COEF,
    HIGGS_LIKE_INTERCEPT,
    HiggsLikeFile,
    HiggsSplit,
    load_higgs,
    write_higgs_like,
)

__all__ = [
    "HIGGS_FEATURES",
    "HIGGS_LIKE_COEF",
    "HIGGS_LIKE_INTERCEPT",
    "Dataset",
    "HiggsLikeFile",
    "HiggsSplit",
    "load_effort",
    "load_endometrial",
    "load_higgs",
    "read_frame",
    "read_table",
    "simulate",
    "train_test_split",
    "write_higgs_like",
]
