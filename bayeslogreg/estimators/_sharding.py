"""Rows split over the devices of a mesh, and sums over them (for :mod:`.distributed`).

Data are checked in every process and the processes agree on the layout
(:func:`checked_everywhere`) before :func:`place` pads each process's rows with weight-0
rows and builds global arrays sharded along the mesh axis ``"rows"``. :func:`sharded`
turns a per-block sum into a sum over all devices: each device sums over its own rows in
blocks (:func:`bayeslogreg.model.block_sum`) and ``psum`` adds the devices' sums.
"""

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from bayeslogreg import model
from bayeslogreg._validation import check_X, check_y

AXIS = "rows"
"""Name of the mesh axis that the rows are split over."""


class ShardedRows(NamedTuple):
    """Data whose rows are split over the devices of ``mesh``.

    Made by :func:`bayeslogreg.distributed.shard_rows`.

    X : jax.Array of shape (n_padded, n_features), float32 or float64
    y : jax.Array of shape (n_padded,), 0/1 in the dtype of X
    weight : jax.Array of shape (n_padded,), 1 for a row of data, 0 for padding
    n_rows : int, rows of data over all processes (without the padding)
    mesh : Mesh with an axis ``"rows"``; each array is sharded along it
    """

    X: jax.Array
    y: jax.Array
    weight: jax.Array
    n_rows: int
    mesh: Mesh

    @property
    def n_features(self) -> int:
        """Number of columns of X."""
        return self.X.shape[1]


def check_mesh(mesh) -> Mesh:
    """Return ``mesh`` if it has a ``"rows"`` axis; None gives all devices on one axis."""
    if mesh is None:
        return Mesh(np.array(jax.devices()), (AXIS,))
    if not isinstance(mesh, Mesh):
        raise ValueError(f"mesh must be a jax.sharding.Mesh; got {type(mesh).__name__}.")
    if AXIS not in mesh.axis_names:
        raise ValueError(
            f"mesh must have an axis named {AXIS!r} to split the rows over; got axes "
            f"{tuple(mesh.axis_names)}. Build one with "
            f"Mesh(np.array(jax.devices()), ({AXIS!r},))."
        )
    return mesh


def _local_row_shards(mesh: Mesh) -> int:
    """How many positions along the rows axis this process's devices occupy."""
    position = mesh.axis_names.index(AXIS)
    here = jax.process_index()
    return len(
        {index[position] for index, d in np.ndenumerate(mesh.devices) if d.process_index == here}
    )


def checked_everywhere(X, y, mesh: Mesh):
    """Validate this process's rows, and that every process's rows fit together.

    Returns X, y (as :func:`~bayeslogreg._validation.check_X` and ``check_y`` give them),
    and a table with one row per process: rows, columns, bytes per number of X, number
    of 1 labels, positions on the rows axis of the mesh, and whether its data were bad.
    Every process raises if any process's data are bad, so that none is left waiting
    for the others in a collective.
    """
    try:
        X = check_X(X)
        y = check_y(y, n_samples=X.shape[0], dtype=X.dtype, require_both_classes=False)
        error = None
        mine = [X.shape[0], X.shape[1], X.dtype.itemsize, int(y.sum())]
    except ValueError as err:
        error, mine = err, [0, 0, 0, 0]
    mine = np.array([*mine, _local_row_shards(mesh), error is not None])
    if jax.process_count() == 1:
        table = mine[None, :]
    else:
        table = np.asarray(multihost_utils.process_allgather(mine)).reshape(-1, mine.size)
    if error is not None:
        raise error
    if table[:, 5].any():
        raise ValueError(
            f"processes {np.flatnonzero(table[:, 5]).tolist()} were given bad X or y (their "
            "error messages say how); every process stops."
        )
    _check_processes(table)
    return X, y, table


def _check_processes(table: np.ndarray) -> None:
    for column, what in ((1, "features (columns of X)"), (2, "bytes per number (dtype) of X")):
        if (table[:, column] != table[0, column]).any():
            raise ValueError(
                f"every process must pass X with the same number of {what}; got "
                f"{table[:, column].tolist()} for processes 0..{len(table) - 1}."
            )
    if (table[:, 4] == 0).any():
        raise ValueError(
            "the mesh has no device of processes "
            f"{np.flatnonzero(table[:, 4] == 0).tolist()}; build it from jax.devices()."
        )
    n_samples, n_ones = table[:, 0].sum(), table[:, 3].sum()
    if n_ones in (0, n_samples):
        raise ValueError(
            f"y contains only class {int(n_ones > 0)} ({n_samples} rows over all processes); "
            "logistic regression needs both 0s and 1s."
        )


def _pad(array: np.ndarray, rows: int) -> np.ndarray:
    padding = np.zeros((rows - array.shape[0], *array.shape[1:]), dtype=array.dtype)
    return np.concatenate([array, padding])


def place(X: np.ndarray, y: np.ndarray, table: np.ndarray, mesh: Mesh) -> ShardedRows:
    """Pad and place data checked by :func:`checked_everywhere`."""
    shards = table[jax.process_index(), 4]
    rows_per_shard = int(max(-(-table[:, 0] // table[:, 4])))
    local_rows = rows_per_shard * shards
    n_padded = rows_per_shard * mesh.shape[AXIS]
    sharding = NamedSharding(mesh, P(AXIS))

    def put(array):
        global_shape = (n_padded, *array.shape[1:])
        return jax.make_array_from_process_local_data(
            sharding, _pad(array, local_rows), global_shape
        )

    weight = np.ones(X.shape[0], dtype=X.dtype)
    return ShardedRows(put(X), put(y), put(weight), int(table[:, 0].sum()), mesh)


def weighted_rows_sum(params, X, y_or_padding):
    """Log-likelihood summed over the rows whose label is not -1 (padding)."""
    # Padding rows carry the label -1 (see _local_sums), so that model.block_sum can
    # slice one label array; they are masked out exactly, with no effect on derivatives.
    is_data = y_or_padding >= 0
    rows = model.log_likelihood_rows(params, X, jnp.where(is_data, y_or_padding, 0))
    return jnp.sum(jnp.where(is_data, rows, 0.0))


def weighted_value_grad_hess(params, X, y_or_padding):
    """:func:`weighted_rows_sum`, its gradient and its Hessian."""
    value, grad = jax.value_and_grad(weighted_rows_sum)(params, X, y_or_padding)
    return value, grad, jax.hessian(weighted_rows_sum)(params, X, y_or_padding)


def _local_sums(fn, params, X, y, weight):
    """Sum of ``fn`` over this device's rows, then ``psum`` over the rows axis."""
    # Mark params as differing per device, so that derivatives inside fn stay this
    # device's own; differentiating an axis-invariant input would psum them already.
    params = jax.lax.pcast(params, AXIS, to="varying")
    labels = jnp.where(weight > 0, y, -1)
    total = model.block_sum(fn, params, X, labels, model.default_block_rows(X.shape[1]))
    return jax.lax.psum(total, AXIS)


@functools.cache
def sharded(fn, mesh: Mesh):
    """``(params, X, y, weight) -> sum of fn over every device's rows`` for ``mesh``."""
    spec = P(AXIS)
    local = functools.partial(_local_sums, fn)
    return jax.shard_map(local, mesh=mesh, in_specs=(P(), spec, spec, spec), out_specs=P())


def replicated(value, mesh: Mesh) -> jax.Array:
    """Copy a float64 value to every device (it must be the same in every process)."""
    return jax.device_put(np.asarray(value, dtype=np.float64), NamedSharding(mesh, P()))
