"""JAX precision: bayeslogreg computes in float64 without changing the user's JAX config.

JAX's ``jax_enable_x64`` switch is global. Rather than flip it on import (which would
silently change every other JAX program in the user's process), every public entry point
that runs JAX code does so inside :func:`float64`, a thread-local context.
"""

import functools

import jax

__all__ = ["float64", "in_float64"]


def float64():
    """Context manager that runs JAX in 64-bit mode for the enclosed block only."""
    return jax.enable_x64(True)


def in_float64(func):
    """Decorate ``func`` so that its JAX computations run in 64-bit mode."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with float64():
            return func(*args, **kwargs)

    return wrapper
