"""The listener-summed statistics every fitter starts from, and who sums them.

Each listener adds the outer product of their own items to the item-item Gram matrix, so the
Gram of all listeners is the sum of the Grams of any split of them into groups ("partitions").
`partition_gram` is that per-group statistic, the ONE definition both engines use:

- local: the whole matrix as a single partition, in this process;
- spark (`bento.spark`): listeners hashed into partitions, one `partition_gram` each on the
  executors, the partial entries regrouped by item row and summed there.

The fitters in `algorithms` ask `gram()` and get the sum from whichever engine is active
(`summed_by`), so the fitting, evaluation and saving code is the same for both. Given a
per-row-block function (`rows`: pruning a block of rows needs nothing but those rows and
per-item vectors), an engine applies it where the rows are: Spark on its executors, so only
what `rows` keeps reaches the driver.
"""
from __future__ import annotations

import contextlib
from typing import Callable, Iterator, Protocol

import numpy as np
import scipy.sparse as sp


def partition_gram(user_items: sp.csr_matrix, user_exponent: float = 0.0) -> sp.coo_matrix:
    """G[i, j] = sum over these users u having both i and j of n_u ** -user_exponent x_ui x_uj
    (COO, float32): on binary rows the co-occurrence count, on confidence rows (play counts,
    `bento.playcounts`) their weighted sum. Rows are whole users: n_u counts all of a user's
    items."""
    values = user_items.astype(np.float32).tocsr()
    weighted = values
    if user_exponent:
        per_user = np.diff(values.indptr).astype(np.float32)
        scale = np.power(np.maximum(per_user, 1.0), -user_exponent, dtype=np.float32)
        weighted = sp.csr_matrix(sp.diags(scale) @ values)
    return (weighted.T.tocsr() @ values).tocoo()


def canonical(matrix: sp.spmatrix) -> sp.csr_matrix:
    """CSR, float32, duplicates summed, columns sorted: what a per-row-block function gets."""
    result = matrix.tocsr()
    result.sum_duplicates()
    result.sort_indices()
    return result.astype(np.float32)


RowsFunction = Callable[[sp.csr_matrix], sp.csr_matrix]


class Engine(Protocol):
    name: str

    def gram(self, user_items: sp.csr_matrix, user_exponent: float,
             rows: RowsFunction | None = None) -> sp.csr_matrix: ...


class Local:
    """All listeners in one partition, in this process."""

    name = "local"

    def gram(self, user_items: sp.csr_matrix, user_exponent: float,
             rows: RowsFunction | None = None) -> sp.csr_matrix:
        gram = canonical(partition_gram(user_items, user_exponent))
        return gram if rows is None else rows(gram)


_active: list[Engine] = [Local()]


def gram(user_items: sp.csr_matrix, user_exponent: float = 0.0,
         rows: RowsFunction | None = None) -> sp.csr_matrix:
    """The Gram of all listeners of `user_items` (CSR, float32), from the active engine; with
    `rows`, `rows` applied to it block by block of rows (a row's result must depend on that row
    and on per-item vectors only), where the engine holds the rows."""
    return canonical(_active[-1].gram(user_items, user_exponent, rows))


def distributed() -> bool:
    """True when the active engine sums the Grams away from this process."""
    return not isinstance(_active[-1], Local)


@contextlib.contextmanager
def summed_by(engine: Engine) -> Iterator[Engine]:
    """Within the block, every Gram is summed by `engine`."""
    _active.append(engine)
    try:
        yield engine
    finally:
        _active.remove(engine)
