"""Choose a decision threshold for tumour malignancy from the costs of the two errors.

scikit-learn's breast-cancer data (569 tumours, 30 features of cell nuclei) with
malignant as the positive class (y = 1). The 30 features separate the classes
completely, so the maximum-likelihood estimate does not exist (``fit_mle`` says so with a
SeparationWarning); the model here is MAP with a Normal(0, 2.5) prior on standardised
features. On a held-out quarter of the data it shows the confusion matrix and rates at
the usual p > 0.5 and at p > 0.05, the threshold implied by stated costs (missing a
malignant tumour costs ``--cost-fn`` times a needless follow-up), and the ROC curve with
its AUC and DeLong 95% confidence interval.

Needs scikit-learn for the data (``pip install ".[examples]"``). Run
``python examples/tumour_threshold.py --help`` for options.
"""

import argparse
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from sklearn.datasets import load_breast_cancer

import bayeslogreg as blr
from bayeslogreg import metrics
from bayeslogreg.priors import Normal
from bayeslogreg.report.figures import roc_figure

RATE_NAMES = ("accuracy", "precision", "recall", "specificity")


def load_data(test_size: float, seed: int):
    """Breast-cancer data, malignant = 1, split and standardised with training statistics."""
    data = load_breast_cancer()
    y = 1 - data.target  # scikit-learn codes benign as 1; here malignant is the positive class
    X_train, X_test, y_train, y_test = blr.datasets.train_test_split(
        data.data, y, test_size=test_size, seed=seed
    )
    centre, scale = X_train.mean(axis=0), X_train.std(axis=0)
    names = [name.replace(" ", "_") for name in data.feature_names]
    return (X_train - centre) / scale, (X_test - centre) / scale, y_train, y_test, names


def describe(y, y_prob, threshold: float) -> dict:
    """Confusion matrix and the four rates at ``y_prob > threshold``, printed."""
    counts = metrics.confusion_matrix(y, y_prob, threshold)
    table = metrics.rates(y, y_prob, threshold)
    print(f"\nthreshold p > {threshold:.4g}")
    print("                 predicted benign  predicted malignant")
    print(f"  benign (0)     {counts.tn:16d}  {counts.fp:19d}")
    print(f"  malignant (1)  {counts.fn:16d}  {counts.tp:19d}")
    print("  " + "  ".join(f"{name} {table[name]:.3f}" for name in RATE_NAMES))
    return {"confusion": counts._asdict(), **{name: float(table[name]) for name in RATE_NAMES}}


def roc_with_thresholds(y, y_prob, auc, marks) -> Figure:
    """ROC curve (with the AUC and its CI in the legend) and the chosen operating points."""
    fpr, tpr, _ = metrics.roc_curve(y, y_prob)
    label = f"AUC {auc.auc:.3f} [{auc.lower:.3f}, {auc.upper:.3f}]"
    fig = roc_figure({"MAP, Normal(0, 2.5)": (fpr, tpr)}, aucs={"MAP, Normal(0, 2.5)": label})
    ax = fig.axes[0]
    for threshold, marker in zip(marks, "osD", strict=False):
        point_fpr = 1 - metrics.specificity(y, y_prob, threshold)
        point_tpr = metrics.recall(y, y_prob, threshold)
        ax.plot(point_fpr, point_tpr, marker, color="black", fillstyle="none", markersize=8)
        ax.annotate(
            f"p > {threshold:.3g}",
            (point_fpr, point_tpr),
            xytext=(12, -14),
            textcoords="offset points",
            fontsize="small",
        )
    ax.set_title("held-out ROC curve of the malignancy model")
    return fig


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=0, help="seed of the train/test split")
    parser.add_argument("--test-size", type=float, default=0.25)
    parser.add_argument("--cost-fn", type=float, default=20.0, help="cost of a missed cancer")
    parser.add_argument("--cost-fp", type=float, default=1.0, help="cost of a needless follow-up")
    parser.add_argument("--small", action="store_true", help="low-resolution figure, for tests")
    parser.add_argument("--out", type=Path, default=Path("examples-output/tumour_threshold"))
    args = parser.parse_args(argv)

    X_train, X_test, y_train, y_test, names = load_data(args.test_size, args.seed)
    print(f"{len(y_train)} training and {len(y_test)} test tumours, {len(names)} features;")
    print(f"{y_test.mean():.1%} of the test tumours are malignant.")
    fit = blr.fit_map(X_train, y_train, prior=Normal(0, 2.5), feature_names=names)
    print(f"MAP converged: {fit.converged} after {fit.n_iter} Newton steps")
    y_prob = fit.predict_proba(X_test)

    # Predicting malignant costs (1 - p) * cost_fp, predicting benign p * cost_fn.
    cost_threshold = metrics.bayes_threshold(args.cost_fp, args.cost_fn)
    print(
        f"\na missed cancer costs {args.cost_fn:g}, a needless follow-up {args.cost_fp:g}: "
        f"call a tumour malignant when p > {args.cost_fp:g} / ({args.cost_fp:g} + "
        f"{args.cost_fn:g}) = {cost_threshold:.4f}"
    )
    at_half = describe(y_test, y_prob, 0.5)
    at_low = describe(y_test, y_prob, 0.05)
    at_cost = describe(y_test, y_prob, cost_threshold)
    for name, rates in (("0.5", at_half), ("0.05", at_low), ("cost", at_cost)):
        counts = rates["confusion"]
        cost = args.cost_fp * counts["fp"] + args.cost_fn * counts["fn"]
        print(f"total cost on the test set at the {name} threshold: {cost:g}")
    # The threshold that would have been cheapest on these very test rows: optimistic.
    hindsight = metrics.min_cost_threshold(y_test, y_prob, args.cost_fp, args.cost_fn)
    youden = metrics.youden_threshold(y_test, y_prob)
    print(
        f"in hindsight the cheapest test-set threshold is p > {hindsight.threshold:.4g} "
        f"(cost {hindsight.cost:g}); Youden's J picks p > {youden.threshold:.4g}"
    )

    auc = metrics.auc_ci(y_test, y_prob, level=0.95, method="delong")
    print(f"\nAUC {auc.auc:.4f}, DeLong 95% CI [{auc.lower:.4f}, {auc.upper:.4f}]")
    marks = (0.5, 0.05)
    fig = roc_with_thresholds(y_test, y_prob, auc, marks)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "roc.png"
    fig.savefig(path, dpi=60 if args.small else 120)
    print(f"wrote {path}")
    return {
        "rates_0.5": at_half,
        "rates_0.05": at_low,
        "rates_cost": at_cost,
        "cost_threshold": cost_threshold,
        "hindsight_threshold": float(hindsight.threshold),
        "auc": float(auc.auc),
        "auc_ci": (float(auc.lower), float(auc.upper)),
        "y_test": np.asarray(y_test),
        "y_prob": np.asarray(y_prob),
        "figures": [path],
    }


if __name__ == "__main__":
    main()
