"""Command line: ``bayeslogreg demo``.

Wiring only: parse arguments, call the library, print, return an exit code.
"""

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


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
    demo.add_argument("--n-samples", type=int, default=1000, help="rows of data (default 1000)")
    demo.add_argument("--seed", type=int, default=0, help="seed of data and sampler (default 0)")
    demo.add_argument("--num-chains", type=int, default=4, help="NUTS chains (default 4)")
    demo.add_argument("--num-warmup", type=int, default=1000, help="warm-up per chain")
    demo.add_argument("--num-samples", type=int, default=1000, help="draws per chain")
    demo.add_argument("--out", type=Path, help="folder to save the tables in (CSV and text)")
    return parser


def _run_demo(args) -> int:
    from bayeslogreg.demo import format_demo, run_demo
    from bayeslogreg.report.render import atomic_write_text

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
        print("nothing was written (use --out DIR to save the tables)")
        return 0
    written = [
        atomic_write_text(args.out / "demo.txt", text + "\n"),
        atomic_write_text(args.out / "demo_parameters.csv", result.parameters.to_csv()),
        atomic_write_text(args.out / "demo_fits.csv", result.fits.to_csv()),
    ]
    print("wrote " + ", ".join(str(path) for path in written))
    return 0


def main(argv=None) -> int:
    """Run the command line; return the exit status."""
    args = _build_parser().parse_args(argv)
    try:
        return {"demo": _run_demo}[args.command](args)
    except ValueError as error:
        print(f"bayeslogreg {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
