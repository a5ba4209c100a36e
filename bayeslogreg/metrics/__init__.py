"""Classification metrics for logistic regression predictions: the public face.

Everything here takes labels ``y`` (shape (n_samples,), values 0 and 1) and scores or
probabilities of shape (n_samples,), or (n_draws, n_samples) for posterior draws, which
gives one result per draw without a Python loop. A row is predicted positive when
``y_prob > threshold``.

- Ranking: :func:`roc_curve`, :func:`roc_auc`, :func:`partial_auc`, :func:`auc_ci`
  (DeLong or stratified bootstrap), :func:`delong_test` (paired comparison).
- Thresholded: :func:`confusion_matrix`, :func:`accuracy`, :func:`precision`,
  :func:`recall`, :func:`specificity`, :func:`f1_score`, :func:`balanced_accuracy`,
  :func:`matthews_corrcoef`, :func:`rates`.
- Choosing a threshold: :func:`bayes_threshold` (from costs, for calibrated
  probabilities), :func:`min_cost_threshold` (from costs, on the data),
  :func:`youden_threshold`.
- Probabilities: :func:`log_loss`, :func:`brier_score`, :func:`calibration_curve`,
  :func:`expected_calibration_error`.

Every function that summarises rows takes ``sample_weight=`` (keyword, shape
(n_samples,), >= 0), with scikit-learn's meaning: a row of weight w counts as w
identical rows, so a row of weight 0 is left out, and counts become sums of weights.
None (the default) weighs every row 1 and gives the unweighted numbers. Intervals and
tests (:func:`auc_ci`, :func:`delong_test`, the Wilson intervals of
:func:`calibration_curve`) count rows, so there the weights must be whole numbers;
integer weights then give exactly the answer of the repeated rows.

The implementation is a NumPy layer in this package's private modules (thresholded
rates in ``_classification``, ROC and AUC in ``_roc`` and ``_roc_delong``, probability
scores in ``_calibration``); it is checked against scikit-learn and pROC.

Examples
--------
>>> from bayeslogreg.metrics import roc_auc
>>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.4, 0.8])
0.875
"""

from bayeslogreg.metrics._calibration import (
    CalibrationCurve,
    brier_score,
    calibration_curve,
    expected_calibration_error,
    log_loss,
)
from bayeslogreg.metrics._classification import (
    ConfusionMatrix,
    UndefinedMetricWarning,
    accuracy,
    balanced_accuracy,
    bayes_threshold,
    confusion_matrix,
    f1_score,
    matthews_corrcoef,
    precision,
    rates,
    recall,
    specificity,
)
from bayeslogreg.metrics._roc import (
    CostThreshold,
    YoudenThreshold,
    min_cost_threshold,
    partial_auc,
    roc_auc,
    roc_curve,
    youden_threshold,
)
from bayeslogreg.metrics._roc_delong import AucInterval, DelongTest, auc_ci, delong_test

__all__ = [
    "AucInterval",
    "CalibrationCurve",
    "ConfusionMatrix",
    "CostThreshold",
    "DelongTest",
    "UndefinedMetricWarning",
    "YoudenThreshold",
    "accuracy",
    "auc_ci",
    "balanced_accuracy",
    "bayes_threshold",
    "brier_score",
    "calibration_curve",
    "confusion_matrix",
    "delong_test",
    "expected_calibration_error",
    "f1_score",
    "log_loss",
    "matthews_corrcoef",
    "min_cost_threshold",
    "partial_auc",
    "precision",
    "rates",
    "recall",
    "roc_auc",
    "roc_curve",
    "specificity",
    "youden_threshold",
]
