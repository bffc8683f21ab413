"""The listener-summed statistics every fitter starts from, and who sums them.

Each listener adds the outer product of their own items to the item-item Gram matrix, so the
Gram of all listeners is the sum of the Grams of any split of them into groups ("partitions").
`partition_gram` is that per-group statistic, the ONE definition both engines use:

- local: the whole matrix as a single partition, in this process;
- spark (`bento.spark`): listeners hashed into partitions, one `partition_gram` each on the
  executors, the sparse blocks summed by item row (reduceByKey).

The fitters in `algorithms` ask `gram()` and get the sum from whichever engine is active
(`summed_by`), so the fitting, evaluation and saving code is the same for both.
"""
from __future__ import annotations

import contextlib
from typing import Iterator, Protocol

import numpy as np
import scipy.sparse as sp


def partition_gram(user_items: sp.csr_matrix, user_exponent: float = 0.0) -> sp.coo_matrix:
    """G[i, j] = sum over these users u having both i and j of n_u ** -user_exponent (COO,
    float32). Rows are whole users: n_u counts all of a user's items."""
    binary = (user_items > 0).astype(np.float32).tocsr()
    weighted = binary
    if user_exponent:
        per_user = np.diff(binary.indptr).astype(np.float32)
        scale = np.power(np.maximum(per_user, 1.0), -user_exponent, dtype=np.float32)
        weighted = sp.csr_matrix(sp.diags(scale) @ binary)
    return (weighted.T.tocsr() @ binary).tocoo()


def cosine_from_gram(gram: sp.csr_matrix) -> sp.csr_matrix:
    """Cosine between binary item columns: G[i, j] / sqrt(G[i, i] G[j, j]) (|x_i|^2 = G[i, i])."""
    norms = np.sqrt(np.maximum(gram.diagonal().astype(np.float64), 1e-12))
    rows = np.repeat(np.arange(gram.shape[0]), np.diff(gram.indptr))
    data = gram.data / (norms[rows] * norms[gram.indices])
    return sp.csr_matrix((data.astype(np.float32), gram.indices.copy(), gram.indptr.copy()),
                         shape=gram.shape)


class Engine(Protocol):
    def gram(self, user_items: sp.csr_matrix, user_exponent: float) -> sp.csr_matrix: ...


class Local:
    """All listeners in one partition, in this process."""

    name = "local"

    def gram(self, user_items: sp.csr_matrix, user_exponent: float) -> sp.csr_matrix:
        return partition_gram(user_items, user_exponent).tocsr()


_active: list[Engine] = [Local()]


def gram(user_items: sp.csr_matrix, user_exponent: float = 0.0) -> sp.csr_matrix:
    """The Gram of all listeners of `user_items` (CSR, float32), from the active engine."""
    result = _active[-1].gram(user_items, user_exponent).tocsr()
    result.sum_duplicates()
    result.sort_indices()
    return result.astype(np.float32)


@contextlib.contextmanager
def summed_by(engine: Engine) -> Iterator[Engine]:
    """Within the block, every Gram is summed by `engine`."""
    _active.append(engine)
    try:
        yield engine
    finally:
        _active.remove(engine)
