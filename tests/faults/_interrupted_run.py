"""Child of tests/faults/test_interrupt.py: a long fit or sampling run, to be interrupted.

Run as a script, it prints a line when a stage starts and one per bounded step of work,
``done`` if the run ends, and nothing else; it does not catch KeyboardInterrupt, as a
user's script would not. Step lines end with ``time.monotonic()``, a clock this process
shares with its parent, so the parent can count the steps begun after its SIGINT.

* ``nuts``: ``compiling nuts-steps`` / ``compiled nuts-steps`` around the compile (or
  load) of the NUTS steps program, ``xla compile nuts-steps`` when XLA starts on it,
  then ``segment T`` as each chain starts each segment, for many seconds;
* ``imh``: ``block T`` as the independence sampler's data pass starts each row block;
* ``fit``: ``pass T`` as each pass over the row chunks of a large Newton fit starts.
"""

import argparse
import sys
import threading
import time
import warnings

import numpy as np

#: NUTS: 20 segments of 500 iterations per chain, about 0.5 s each on a busy 2-core
#: machine (at 20000 x 10), 10 s in all.
NUTS_RUN = {"num_chains": 2, "num_warmup": 1000, "num_samples": 9000}
#: IMH: 80000 proposals over 50000 x 28 rows, 256-row blocks (about 0.1 s each).
IMH_RUN = {"num_chains": 4, "num_warmup": 4000, "num_samples": 16000}


_printing = threading.Lock()


def _say(line: str) -> None:
    """Print ``line`` whole: chains in two threads print at once, and print() writes the
    text and its newline separately (seen: 'T1segment T2' on one line)."""
    with _printing:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def _step(label: str):
    """Wrap a function so that each call first prints ``label`` and the time."""

    def wrap(function):
        def marked(*args, **kwargs):
            _say(f"{label} {time.monotonic():.6f}")
            return function(*args, **kwargs)

        return marked

    return wrap


def _mark_nuts() -> None:
    """Announce each kept program, when XLA starts compiling it, and each segment."""
    import jax

    from bayeslogreg import _programs

    original, current = _programs.compiled, []

    def compiled(name, *args, **kwargs):
        _say(f"compiling {name}")
        current.append(name)
        program = original(name, *args, **kwargs)
        current.clear()
        _say(f"compiled {name}")
        return _step("segment")(program) if name == "nuts-steps" else program

    def on_event(event: str, **kwargs) -> None:
        # JAX records this just before it looks a program up in its cache and compiles it.
        if event == "/jax/compilation_cache/compile_requests_use_cache" and current:
            _say(f"xla compile {current.pop()}")

    _programs.compiled = compiled
    jax.monitoring.register_event_listener(on_event)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("stage", choices=["nuts", "imh", "fit"])
    parser.add_argument("--num-warmup", type=int, default=NUTS_RUN["num_warmup"])
    args = parser.parse_args(argv)
    from bayeslogreg import fit_map, sample_posterior
    from bayeslogreg.datasets import simulate
    from bayeslogreg.estimators import _chunked, _large_posterior

    warnings.simplefilter("ignore")  # short runs warn about ESS: not what is tested
    if args.stage == "nuts":
        _mark_nuts()
        data = simulate(20_000, np.linspace(-1.0, 1.0, 10), intercept=0.3, seed=1)
        # Another warm-up length is another program for XLA (another adaptation schedule).
        run = {**NUTS_RUN, "num_warmup": args.num_warmup}
        sample_posterior(data.X, data.y, store_log_likelihood=False, seed=0, **run)
    elif args.stage == "imh":
        block = _large_posterior._block_log_likelihood
        _large_posterior._block_log_likelihood = _step("block")(block)
        data = simulate(50_000, np.linspace(-1.0, 1.0, 28), intercept=0.3, seed=1)
        sample_posterior(
            data.X, data.y, sampler="imh", store_log_likelihood=False, seed=0, **IMH_RUN
        )
    else:
        _chunked.ChunkedData._sum = _step("pass")(_chunked.ChunkedData._sum)
        data = simulate(_chunked.MIN_ROWS, np.linspace(-1.0, 1.0, 28), intercept=0.3, seed=1)
        for flip in range(20):  # fits of new labels until interrupted
            fit_map(data.X, data.y if flip % 2 else 1 - data.y)
    _say("done")


if __name__ == "__main__":
    main(sys.argv[1:])
