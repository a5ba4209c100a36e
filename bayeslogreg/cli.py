"""Command line: ``bayeslogreg demo``, ``bayeslogreg compare`` and ``bayeslogreg fit``.

Wiring only: parse arguments, call the library, print, return an exit code.
"""

import argparse
import os
import sys
from pathlib import Path

from bayeslogreg._validation import (
    check_draws_per_chain,
    check_level,
    check_positive_int,
    check_test_size,
    check_threshold,
)
from bayeslogreg.report.workflow import DEFAULT_ESTIMATORS, ESTIMATOR_NAMES, ESTIMATORS

__all__ = ["main"]


def _parse(text: str, kind: type):
    try:
        return kind(text)
    except ValueError:
        noun = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"must be {noun}; got {text!r}") from None


def _option(kind: type, check, *args):
    """Build an argparse ``type``: parse the text as ``kind``, then run a ``_validation`` check."""

    def parse(text: str):
        try:
            return check(_parse(text, kind), *args)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


def _positive_int(name: str):
    return _option(int, check_positive_int, name)


def _draws(text: str) -> int:
    from bayeslogreg.estimators.nuts import MIN_DRAWS_PER_CHAIN

    return _option(int, check_draws_per_chain, MIN_DRAWS_PER_CHAIN)(text)


def _estimator_list(text: str) -> tuple[str, ...]:
    """Parse ``--estimators mle,map,nuts``: known names, each once, at least one."""
    names = tuple(name.strip().lower() for name in text.split(","))
    unknown = [name for name in names if name not in ESTIMATORS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown estimator(s) {unknown}; give a comma-separated list of "
            f"{', '.join(ESTIMATORS)} (e.g. mle,map,nuts, the default)."
        )
    if len(set(names)) < len(names):
        raise argparse.ArgumentTypeError(
            f"an estimator is named twice in {text!r}; name each once."
        )
    return names


def _build_parser() -> argparse.ArgumentParser:
    from bayeslogreg import __version__

    parser = argparse.ArgumentParser(
        prog="bayeslogreg",
        description="Logistic regression by MLE, MAP and NUTS, compared side by side.",
    )
    parser.add_argument("--version", action="version", version=f"bayeslogreg {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="fit the built-in effort data with MLE, MAP and NUTS and print one table",
        description="Fit the built-in effort data (true intercept -5, slope 3) with MLE, "
        "MAP (Normal(0, 2.5) prior) and NUTS, and print them side by side.",
    )
    demo.add_argument(
        "--n-samples",
        type=_positive_int("n_samples"),
        default=1000,
        help="rows of data (default 1000)",
    )
    demo.add_argument("--seed", type=int, default=0, help="seed of data and sampler (default 0)")
    _add_sampler_arguments(demo)
    demo.add_argument(
        "--out", type=Path, help="folder to save the tables (CSV and text) and the figure in"
    )
    _add_compare(commands)
    _add_fit(commands)
    return parser


def _add_data_arguments(parser) -> None:
    parser.add_argument("data", type=Path, help="CSV (header line; .csv.gz too) or Parquet file")
    parser.add_argument("--target", help="column of 0/1 labels (1 = positive)")
    parser.add_argument(
        "--formula",
        help="instead of --target and --features: a formula on the file's columns, e.g. "
        '"y ~ C(region) * age + np.log(income)" (text columns are treatment-coded)',
    )
    parser.add_argument("--features", nargs="+", help="feature columns (default: all others)")
    parser.add_argument("--exclude", nargs="+", default=[], help="columns to leave out")
    parser.add_argument(
        "--prior",
        help="coefficient prior, e.g. normal:2.5, laplace:1, cauchy:2.5, student_t:3:2.5, "
        "flat (default: rstanarm's, normal:2.5 divided by each column's spread)",
    )
    parser.add_argument(
        "--intercept-prior",
        help="intercept prior at x = 0, e.g. normal:10 (default: normal:2.5 on the log-odds "
        "at the columns' means)",
    )
    parser.add_argument(
        "--autoscale",
        action=argparse.BooleanOptionalAction,
        help="divide the coefficient prior's scale by each column's spread (default: only "
        "for the default prior); --no-autoscale keeps the default at normal:2.5",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of split, optimizer, sampler")
    parser.add_argument(
        "--solver",
        "--method",
        default="auto",
        help="optimizer for MLE/MAP (default auto); --method is its former name",
    )
    parser.add_argument(
        "--standardize", action="store_true", help="scale features by the training mean and sd"
    )
    _add_sampler_arguments(parser)


def _add_sampler_arguments(parser) -> None:
    chains, warmup = _positive_int("num_chains"), _positive_int("num_warmup")
    parser.add_argument("--num-chains", type=chains, default=4, help="NUTS chains")
    parser.add_argument("--num-warmup", type=warmup, default=1000, help="NUTS warm-up per chain")
    parser.add_argument("--num-samples", type=_draws, default=1000, help="NUTS draws per chain")


def _add_compare(commands) -> None:
    compare = commands.add_parser(
        "compare",
        help="fit MLE, MAP and NUTS on a data file and write a comparison report",
        description="Split a data file (stratified by the target), fit MLE, MAP and NUTS on "
        "the training part, compare them on the held-out part, print the tables and write "
        "the report (HTML, Markdown, JSON, CSV, PNG).",
    )
    _add_data_arguments(compare)
    compare.add_argument(
        "--test-size",
        type=_option(float, check_test_size),
        default=None,
        help="held-out fraction (default 0.25)",
    )
    compare.add_argument(
        "--cv",
        type=_positive_int("--cv"),
        metavar="K",
        help="compare by K-fold cross-validation (stratified, seeded) instead of one split",
    )
    compare.add_argument(
        "--threshold", type=_option(float, check_threshold), default=0.5, help="p > threshold is 1"
    )
    compare.add_argument(
        "--level", type=_option(float, check_level), default=0.95, help="interval probability"
    )
    compare.add_argument(
        "--weights",
        metavar="COLUMN",
        help="with --formula: column of frequency weights (fits and held-out metrics)",
    )
    compare.add_argument(
        "--offset",
        metavar="COLUMN",
        help="with --formula: column added to the log-odds (fits and held-out predictions)",
    )
    compare.add_argument(
        "--estimators",
        type=_estimator_list,
        default=None,
        help="comma-separated estimators to fit and compare, of "
        f"{','.join(ESTIMATORS)} (default {','.join(DEFAULT_ESTIMATORS)})",
    )
    compare.add_argument("--title", help="report title")
    compare.add_argument(
        "--out",
        type=Path,
        default=Path("bayeslogreg-report"),
        help="report folder (default ./bayeslogreg-report)",
    )


def _add_fit(commands) -> None:
    fit = commands.add_parser(
        "fit",
        help="fit one estimator on a data file and print its summary table",
        description="Fit one estimator on all rows of a data file and print its summary.",
    )
    _add_data_arguments(fit)
    fit.add_argument(
        "--estimator",
        choices=list(ESTIMATORS),
        default="mle",
        help="firth: MAP under the Jeffreys prior (Firth's penalised likelihood, R's logistf)",
    )
    fit.add_argument(
        "--weights", metavar="COLUMN", help="with --formula: column of frequency weights"
    )
    fit.add_argument(
        "--trials",
        metavar="COLUMN",
        help="with --formula: column of binomial trials (the formula's left side counts successes)",
    )
    fit.add_argument(
        "--offset", metavar="COLUMN", help="with --formula: column added to the log-odds"
    )
    fit.add_argument("--out", type=Path, help="write the summary table here (CSV)")


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _check_out(path: Path, *, folder: bool) -> None:
    """Refuse an --out that cannot be written, before any fit runs."""
    if folder and path.exists() and not path.is_dir():
        raise ValueError(f"--out {path} is a file; give a folder for the report.")
    if not folder and path.is_dir():
        raise ValueError(f"--out {path} is a folder; give a file name for the table.")
    existing = path.parent  # a report folder is made beside it, then renamed into place
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"--out {path}: cannot write in {existing} (permission denied).")
    if folder:
        from bayeslogreg.report.render import check_report_folder

        check_report_folder(path)  # the report replaces the folder: nothing else may be there


def _load(args):
    """Read the data set; return it and the settings of its fits given on the command line.

    With ``--formula`` the data set is the file's data frame as it is.
    """
    from bayeslogreg.datasets import read_frame, read_table
    from bayeslogreg.priors import parse_prior

    if args.formula is None:
        if args.target is None:
            raise ValueError("give the column of 0/1 labels with --target, or a --formula.")
        data = read_table(args.data, args.target, features=args.features, exclude=args.exclude)
        shape = f"{len(data.y)} rows x {len(data.feature_names)} features"
    else:
        given = [
            option
            for option, value in (
                ("--target", args.target),
                ("--features", args.features),
                ("--exclude", args.exclude),
                ("--standardize", args.standardize),
            )
            if value
        ]
        if given:
            raise ValueError(
                f"--formula names the labels and the features; leave out {', '.join(given)} "
                "(standardise a column in the formula, e.g. scale(x))."
            )
        data = read_frame(args.data)
        shape = f"{len(data)} rows x {len(data.columns)} columns"
    _progress(f"read {shape} from {args.data}")
    settings = {
        "prior": None if args.prior is None else parse_prior(args.prior),
        "intercept_prior": None
        if args.intercept_prior is None
        else parse_prior(args.intercept_prior),
        "autoscale": args.autoscale,
        "seed": args.seed,
        "solver": args.solver,
        "num_chains": args.num_chains,
        "num_warmup": args.num_warmup,
        "num_samples": args.num_samples,
    }
    return data, settings


def _check_columns_need_formula(args, names, example: str) -> None:
    """Refuse per-row column options (``--weights`` ...) given without ``--formula``."""
    per_row = [f"--{name}" for name in names if getattr(args, name)]
    if per_row and args.formula is None:
        raise ValueError(
            f"{', '.join(per_row)} name columns of the data frame of a --formula; give one, "
            f"e.g. {example}."
        )


def _run_compare(args) -> int:
    _check_out(args.out, folder=True)
    _check_columns_need_formula(args, ("weights", "offset"), '--formula "y ~ dose" --weights w')
    if args.cv is not None:
        _check_cv_options(args)
    data, settings = _load(args)
    estimators = {} if args.estimators is None else {"estimators": args.estimators}
    if args.cv is None:
        from bayeslogreg.report.workflow import compare_estimators

        comparison = compare_estimators(
            data,
            formula=args.formula,
            test_size=0.25 if args.test_size is None else args.test_size,
            standardize_features=args.standardize,
            threshold=args.threshold,
            level=args.level,
            title=args.title,
            progress=_progress,
            sample_weight=args.weights,
            offset=args.offset,
            **estimators,
            **settings,
        )
    else:
        comparison = _cross_validate(args, data, settings)
    print(repr(comparison))
    _progress(f"writing the report to {args.out} ...")
    written = comparison.save(args.out)
    print(f"wrote {len(written)} files; open {args.out / 'report.html'}")
    return 0


def _check_cv_options(args) -> None:
    """Refuse options that a split takes and a cross-validation cannot, before reading data."""
    given = [
        option
        for option, value in (
            ("--test-size", args.test_size is not None),
            ("--weights", args.weights),
            ("--offset", args.offset),
            ("--standardize", args.standardize),
        )
        if value
    ]
    if given:
        raise ValueError(
            f"--cv does not take {', '.join(given)}: each fold holds out its own rows; "
            "standardise in a formula (e.g. scale(x)), whose encoding each fold learns from "
            "its training rows."
        )


def _cross_validate(args, data, settings: dict):
    from bayeslogreg.report.cross_validation import compare_cv

    names = args.estimators or DEFAULT_ESTIMATORS
    if args.formula is None:
        import pandas as pd

        X, y, frame = pd.DataFrame(data.X, columns=list(data.feature_names)), data.y, None
    else:
        X, y, frame = args.formula, None, data
    return compare_cv(
        {ESTIMATOR_NAMES[name]: name for name in names},
        X,
        y,
        data=frame,
        cv=args.cv,
        threshold=args.threshold,
        progress=_progress,
        **({} if args.title is None else {"title": args.title}),
        **settings,
    )


def _run_fit(args) -> int:
    from bayeslogreg._io import atomic_write_text
    from bayeslogreg.report.render import csv_text
    from bayeslogreg.report.workflow import fit_one, standardize

    if args.out is not None:
        _check_out(args.out, folder=False)
    _check_columns_need_formula(
        args, ("weights", "trials", "offset"), '--formula "k ~ dose" --trials n'
    )
    estimator = args.estimator
    if estimator == "firth":  # MAP under the Jeffreys prior, which takes no other prior
        if args.prior is not None or args.intercept_prior is not None:
            raise ValueError(
                "--estimator firth is MAP under the Jeffreys prior; leave out --prior and "
                "--intercept-prior (or use --estimator map with another prior)."
            )
    data, settings = _load(args)
    _progress(f"fitting {args.estimator.upper()} ...")
    rows = {"sample_weight": args.weights, "trials": args.trials, "offset": args.offset}
    if args.formula is not None:
        result = fit_one(
            estimator, args.formula, None, data=data, feature_names=None, **rows, **settings
        )
    else:
        X = data.X
        if args.standardize:
            X = standardize(X, X, data.feature_names)[0]
        result = fit_one(estimator, X, data.y, feature_names=data.feature_names, **settings)
    print(repr(result))
    if args.out is not None:
        path = atomic_write_text(args.out, csv_text(result.summary()))
        print(f"wrote {path}")
    return 0


def _run_demo(args) -> int:
    from bayeslogreg._io import atomic_write_bytes, atomic_write_text
    from bayeslogreg.demo import demo_figure, format_demo, run_demo
    from bayeslogreg.report.figures import figure_to_png

    result = run_demo(
        args.n_samples,
        seed=args.seed,
        num_warmup=args.num_warmup,
        num_samples=args.num_samples,
        num_chains=args.num_chains,
    )
    text = format_demo(result)
    print(text)
    if args.out is None:
        print("nothing was written (use --out DIR to save the tables and the figure)")
        return 0
    written = [
        atomic_write_text(args.out / "demo.txt", text + "\n"),
        atomic_write_text(args.out / "demo_parameters.csv", result.parameters.to_csv()),
        atomic_write_text(args.out / "demo_fits.csv", result.fits.to_csv()),
        atomic_write_bytes(args.out / "demo.png", figure_to_png(demo_figure(result), dpi=110)),
    ]
    print("wrote " + ", ".join(str(path) for path in written))
    return 0


def main(argv=None) -> int:
    """Run the command line; return the exit status."""
    args = _build_parser().parse_args(argv)
    try:
        runner = {"demo": _run_demo, "compare": _run_compare, "fit": _run_fit}[args.command]
        return runner(args)
    except ValueError as error:
        print(f"bayeslogreg {args.command}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"bayeslogreg {args.command}: cannot read or write a file: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
