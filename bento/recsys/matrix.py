"""Turn loaded interactions into a sparse user x item matrix with id maps.

Every source ends here (`from_pairs`): the CSV data dir loaded in this process (`build_matrix`),
and a Parquet snapshot read by Spark (`bento.spark_snapshot`). Users are in id order and items
in catalogue order whatever the source's row order, so the same data gives the same matrix, the
same splits and the same model from every source.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from bento.recsys.dataio import Dataset


@dataclass
class InteractionMatrix:
    """`user_items[u, i]` is the merged weight of user u on item i (CSR, float32); `liked_at`
    the latest unix time of each stored entry (in `user_items.data` order), NaN where unknown."""

    user_items: sp.csr_matrix
    user_ids: list[str]
    item_ids: list[str]
    liked_at: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.user_items.shape


def from_pairs(users: np.ndarray, items: np.ndarray, weights: np.ndarray,
               liked_at: np.ndarray, user_ids: list[str], item_ids: list[str],
               ) -> InteractionMatrix:
    """Index columns (each (user, item) pair once, duplicates already merged) as the matrix."""
    order = np.lexsort((items, users))
    users, items = users[order], items[order]
    if np.any((np.diff(users) == 0) & (np.diff(items) == 0)):
        raise ValueError("duplicate (user, item) pairs: merge them before building the matrix")
    indptr = np.zeros(len(user_ids) + 1, dtype=np.int64)
    np.cumsum(np.bincount(users, minlength=len(user_ids)), out=indptr[1:])
    user_items = sp.csr_matrix((np.asarray(weights, np.float32)[order],
                                items.astype(np.int32), indptr),
                               shape=(len(user_ids), len(item_ids)))
    return InteractionMatrix(user_items, user_ids, item_ids,
                             np.asarray(liked_at, np.float64)[order])


def build_matrix(dataset: Dataset) -> InteractionMatrix:
    """Items are every playlist in the catalogue, so items nobody touched still exist; columns
    are the dataset's playlist codes, rows its listeners in id order."""
    item_ids = list(dataset.playlists)
    user_ids = sorted(dataset.user_index)  # id order: every snapshot source agrees on it
    position = {user_id: i for i, user_id in enumerate(user_ids)}
    rank = np.fromiter((position[user_id] for user_id in dataset.user_index), np.int64,
                       len(user_ids))
    return from_pairs(rank[dataset.user_codes], dataset.playlist_codes.astype(np.int64),
                      dataset.weight_column, dataset.timestamp_column, user_ids, item_ids)


def binarize(user_items: sp.csr_matrix) -> sp.csr_matrix:
    """Presence only: histories at serving time are lists of ids, without weights."""
    binary = user_items.copy().astype(np.float32)
    binary.data[:] = 1.0
    return binary


def part(matrix: sp.csr_matrix, mask: np.ndarray) -> sp.csr_matrix:
    """The entries of `matrix` where `mask` (one flag per stored entry) holds."""
    coo = matrix.tocoo()
    return sp.csr_matrix((coo.data[mask], (coo.row[mask], coo.col[mask])), shape=matrix.shape)
