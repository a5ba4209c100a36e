"""MLE and MAP with the data's rows sharded over JAX devices, on one host or several.

The log-likelihood, its gradient and its Hessian are sums over rows. Here the rows are
split evenly over the devices of a :class:`jax.sharding.Mesh` (its axis ``"rows"``);
each device sums over its own rows (in blocks, as :mod:`bayeslogreg.model` does on one
device) inside :func:`jax.shard_map`, and ``psum`` adds the per-device sums. Only those
sums, a scalar, a (p + 1,) vector and a (p + 1, p + 1) matrix, cross devices or hosts;
no device ever holds another device's rows. Newton's method then runs on the small,
replicated sums: the very Newton iteration that :func:`bayeslogreg.fit_mle` runs
(driven from the host, as over row chunks of big data), so the two give
the same estimate.

Several devices
    CPU devices (``XLA_FLAGS=--xla_force_host_platform_device_count=4``) or the GPUs of
    one host: every device of the process is used.
Several processes (hosts, or one process per GPU)
    Call ``jax.distributed.initialize(...)`` in every process first; then each process
    passes *its own* rows to :func:`shard_rows` (or to :func:`fit_mle`/:func:`fit_map`)
    and every process gets the same result. Collectives between CPU processes use Gloo
    (JAX's default), between GPUs NCCL.

Rows are padded to an equal count per device with rows of weight 0, which contribute
nothing. Float64 is used inside these calls only (see :mod:`bayeslogreg._jax`).
"""

from bayeslogreg.estimators._distributed import (
    fit_map,
    fit_mle,
    loglik_value_grad_hess,
    shard_rows,
)
from bayeslogreg.estimators._sharding import AXIS, ShardedRows

__all__ = ["AXIS", "ShardedRows", "fit_map", "fit_mle", "loglik_value_grad_hess", "shard_rows"]
