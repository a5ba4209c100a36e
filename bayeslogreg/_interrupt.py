"""Ctrl-C during long work: KeyboardInterrupt reaches the caller at once, the process exits cleanly.

Python runs signal handlers in the main thread only, between bytecodes. Two things went
wrong with JAX work there (issue 15, item 8; the measurements are in ``docs/design.md``):

* jaxlib checks for signals while the main thread waits for an XLA compile, and raises
  KeyboardInterrupt, but the compile goes on in XLA's own threads; when the process then
  exits, it dies of a segmentation fault.
* while the main thread waits for worker threads (NUTS chains), an interrupt left the
  workers running, and the pool's shutdown waited for every chain to finish.

So long JAX work runs in worker threads (:func:`call`, :func:`gather`) while the main
thread waits in short timed waits. On KeyboardInterrupt the main thread sets the work's
stop flag and re-raises at once; a worker stops at its next safe point
(:func:`check`: between NUTS segments, IMH row blocks, Newton's row chunks), or when its
XLA call (a compile) returns. Workers are ordinary, non-daemon threads: the interpreter
waits for them before it shuts down, so no XLA work runs while it tears down. Called
from any other thread, :func:`call` runs the work in place: signals never arrive there.
"""

import concurrent.futures
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from bayeslogreg._jax import settings_of_this_thread

__all__ = ["POLL_SECONDS", "Stopped", "call", "check", "gather"]

#: The main thread waits for workers this long at a time, then lets Python run its
#: signal handlers (a wait without a timeout cannot be interrupted on every platform).
POLL_SECONDS = 0.1

T = TypeVar("T")
_local = threading.local()


class Stopped(BaseException):
    """Raised in a worker at a safe point once its caller was interrupted.

    A BaseException, as KeyboardInterrupt: ``except Exception`` clauses let it through.
    Nobody catches it: the caller has already raised KeyboardInterrupt.
    """


def check() -> None:
    """Raise :class:`Stopped` if the work of this thread was interrupted (else nothing).

    Call it between bounded stretches of work. Outside a worker of this module it does
    nothing.
    """
    stop = getattr(_local, "stop", None)
    if stop is not None and stop.is_set():
        raise Stopped


def _in_worker(stop: threading.Event, settings, function, *args, **kwargs):
    """Body of a worker: ``function`` with the caller's JAX settings and stop flag."""
    _local.stop = stop
    try:
        with settings():
            return function(*args, **kwargs)
    finally:
        _local.stop = None


def _wait(futures: list[Future]) -> list:
    """Results of ``futures`` in order, once all are done; raise the first failure at once."""
    pending = set(futures)
    while pending:
        done, pending = concurrent.futures.wait(
            pending, timeout=POLL_SECONDS, return_when=concurrent.futures.FIRST_EXCEPTION
        )
        for future in futures:
            if future in done and future.exception() is not None:
                return future.result()  # raises it
    return [future.result() for future in futures]


def gather(function: Callable[[T], object], items: Iterable[T], max_workers: int) -> list:
    """``[function(item) for item in items]`` on ``max_workers`` worker threads.

    The workers run with this thread's JAX settings (64-bit mode, the cache threshold:
    JAX keeps them per thread). When a call fails, or the wait is interrupted
    (KeyboardInterrupt), the other calls are stopped at their next :func:`check` and
    those not yet started are cancelled; the exception propagates at once, without
    waiting for them.
    """
    stop = threading.Event()
    settings = settings_of_this_thread()
    pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="bayeslogreg")
    try:
        return _wait([pool.submit(_in_worker, stop, settings, function, item) for item in items])
    except BaseException:
        stop.set()
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def call(function: Callable[..., T], *args, **kwargs) -> T:
    """Return ``function(*args, **kwargs)``, run in a worker thread if this is the main one.

    As :func:`gather` with one call: the wait can be interrupted, the worker stops at its
    next :func:`check` (or when its XLA call returns), and an exception of ``function``
    propagates as if it had been called here. In other threads it runs in place.
    """
    if threading.current_thread() is not threading.main_thread():
        return function(*args, **kwargs)
    return gather(lambda _: function(*args, **kwargs), [None], 1)[0]
