"""Check that the same calls with the same seeds give the numbers of an earlier commit.

Run ``save`` on the commit before a restructuring of the fitting or sampling code, and
``compare`` after it::

    python benchmarks/same_results.py save before.npz    # on the old commit
    python benchmarks/same_results.py compare before.npz # on the new one

Covered: every point-fit method (newton, lbfgs, gd, sgd, minibatch) under the MLE and
under Normal, Laplace, Student-t and Cauchy priors on three data sets; the chunked
Newton of large data (warm start included, with a smooth and a Laplace prior); the
sharded fit on the devices of this process; fit_streaming; NUTS (dense and diagonal
mass) and the independence sampler. Point estimates and standard errors must agree
within 1e-9 relative (``--rtol``); draws must be identical, or, where the floating-point
order of the log density changed, have posterior means within 0.1 posterior sd.

The calls use only the arguments that work in both the old and the new interface
(method strings); warnings about deprecated keywords are silenced.
"""

import argparse
import sys
import warnings

import numpy as np

import bayeslogreg as blr
from bayeslogreg.priors import Cauchy, Flat, Laplace, Normal, StudentT

METHODS = ("newton", "lbfgs", "gd", "sgd", "minibatch")


def _datasets() -> dict:
    from sklearn.datasets import load_breast_cancer

    cancer = load_breast_cancer()
    X = (cancer.data - cancer.data.mean(axis=0)) / cancer.data.std(axis=0)
    scaled = blr.datasets.simulate(1500, [1.0, -0.5, 0.25], 0.3, seed=3)
    # Columns in very different units exercise the unit-scale coordinates.
    X_scaled = scaled.X * np.array([1e-3, 1.0, 1e3])
    return {
        "effort": (blr.datasets.load_effort().X, blr.datasets.load_effort().y),
        "cancer": (X, cancer.target),
        "units": (X_scaled, scaled.y),
    }


def _priors() -> dict:
    return {
        "mle": None,
        "normal": (Normal(0.0, 2.5), Normal(0.0, 10.0)),
        "laplace": (Laplace(0.0, 1.0), Normal(0.0, 10.0)),
        "student": (StudentT(3.0, 0.0, 2.5), StudentT(3.0, 0.0, 10.0)),
        "cauchy": (Cauchy(0.0, 2.5), Flat()),
    }


def _point(fit) -> dict:
    return {
        "params": fit.params,
        "stderr": fit.stderr,
        "log_likelihood": np.array(fit.log_likelihood),
        "history": fit.history,
        "counts": np.array([fit.n_iter, fit.n_passes, int(fit.converged)]),
    }


def run() -> dict:
    """Every covered call's outputs, keyed ``case/quantity``."""
    out = {}

    def keep(case, values):
        out.update({f"{case}/{name}": np.asarray(value) for name, value in values.items()})

    for data_name, (X, y) in _datasets().items():
        for prior_name, priors in _priors().items():
            for method in METHODS:
                if prior_name == "laplace" and method == "lbfgs":
                    continue
                if data_name == "cancer" and method in ("gd", "sgd") and prior_name == "mle":
                    continue  # separated: the MLE does not exist
                case = f"point/{data_name}/{prior_name}/{method}"
                try:
                    if priors is None:
                        fit = blr.fit_mle(X, y, method=method, seed=1)
                    else:
                        fit = blr.fit_map(
                            X, y, prior=priors[0], intercept_prior=priors[1], method=method, seed=1
                        )
                except Exception as error:  # noqa: BLE001 - an error is an outcome too
                    print(f"{case}: {type(error).__name__}: {error}", file=sys.stderr)
                    keep(case, {"error": np.array(type(error).__name__)})
                    continue
                keep(case, _point(fit))
    big = blr.datasets.simulate(2**19 + 1000, [0.5, -1.0, 0.25, 0.0], -0.5, seed=7)
    keep("chunked/mle", _point(blr.fit_mle(big.X, big.y)))
    keep("chunked/mle-cold", _point(blr.fit_mle(big.X, big.y, init=np.zeros(5))))
    keep("chunked/normal", _point(blr.fit_map(big.X, big.y)))
    keep("chunked/laplace", _point(blr.fit_map(big.X, big.y, prior=Laplace(0.0, 0.01))))
    X, y = _datasets()["cancer"]
    keep("sharded/normal", _point(blr.distributed.fit_map(X, y)))
    X, y = _datasets()["units"]
    keep("sharded/mle", _point(blr.distributed.fit_mle(X, y)))
    small = blr.datasets.simulate(4000, [1.0, -0.5], 0.2, seed=2)
    keep("streaming/mle", _point(blr.fit_streaming(small.X, small.y, progress=False)))
    keep(
        "streaming/normal",
        _point(blr.fit_streaming(small.X, small.y, prior=Normal(0, 1.0), progress=False)),
    )
    effort = blr.datasets.load_effort()
    for dense in (True, False):
        post = blr.sample_posterior(
            effort.X, effort.y, num_warmup=200, num_samples=200, seed=3, dense_mass=dense
        )
        keep(f"nuts/effort/dense={dense}", {"draws": post.draws})
    X, y = _datasets()["cancer"]
    post = blr.sample_posterior(X, y, num_chains=2, num_warmup=200, num_samples=200, seed=4)
    keep("nuts/cancer", {"draws": post.draws})
    post = blr.sample_posterior(small.X, small.y, method="imh", num_warmup=25, num_samples=300)
    keep("imh/small", {"draws": post.draws})
    return out


def compare(before: dict, after: dict, rtol: float) -> int:
    """Print the largest differences; return the number of failed cases."""
    failures, rows = 0, []
    for key in sorted(before):
        if key not in after:
            print(f"MISSING {key}")
            failures += 1
            continue
        old, new = before[key], after[key]
        if key.endswith("/draws"):
            identical = np.array_equal(old, new)
            flat_old, flat_new = old.reshape(-1, old.shape[-1]), new.reshape(-1, new.shape[-1])
            shift = np.max(np.abs(flat_old.mean(0) - flat_new.mean(0)) / flat_old.std(0))
            ok = identical or shift <= 0.1
            rows.append((key, "identical" if identical else f"mean shift {shift:.3g} sd", ok))
        elif key.endswith("/counts") or key.endswith("/error"):
            ok = np.array_equal(old, new)
            rows.append((key, f"{old.tolist()} -> {new.tolist()}", ok))
        elif old.shape != new.shape:
            rows.append((key, f"shape {old.shape} -> {new.shape}", False))
        else:
            same = (old == new) | (np.isnan(old) & np.isnan(new))  # infinities included
            with np.errstate(invalid="ignore"):
                diff = np.abs(old - new) / np.maximum(np.abs(old), 1e-300)
            diff = np.where(same, 0.0, np.where(np.isnan(diff), np.inf, diff))
            ok = old.shape == new.shape and np.nanmax(diff, initial=0.0) <= rtol
            rows.append((key, f"max rel diff {np.nanmax(diff, initial=0.0):.3g}", ok))
        failures += not ok
    width = max(len(key) for key, *_ in rows)
    for key, text, ok in rows:
        print(f"{'ok  ' if ok else 'FAIL'} {key:<{width}} {text}")
    print(f"{len(rows)} quantities, {failures} failed (rtol {rtol:g})")
    return failures


def main(argv=None) -> int:
    """Command line: ``save FILE`` or ``compare FILE``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("save", "compare"))
    parser.add_argument("file")
    parser.add_argument("--rtol", type=float, default=1e-9)
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outputs = run()
    if args.action == "save":
        np.savez(args.file, **outputs)
        print(f"saved {len(outputs)} arrays to {args.file}")
        return 0
    with np.load(args.file) as saved:
        before = dict(saved)
    return 1 if compare(before, outputs, args.rtol) else 0


if __name__ == "__main__":
    raise SystemExit(main())
