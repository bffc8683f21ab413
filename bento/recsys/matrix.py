"""Turn a loaded dataset into a sparse user x item matrix with id maps."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from bento.recsys.dataio import Dataset


@dataclass
class InteractionMatrix:
    """`user_items[u, i]` is the merged weight of user u on item i (CSR, float32)."""

    user_items: sp.csr_matrix
    user_ids: list[str]
    item_ids: list[str]

    @property
    def shape(self) -> tuple[int, int]:
        return self.user_items.shape


def build_matrix(dataset: Dataset) -> InteractionMatrix:
    """Items are every playlist in the catalogue, so items nobody touched still exist."""
    item_ids = list(dataset.playlists)
    item_index = {item_id: i for i, item_id in enumerate(item_ids)}
    user_ids = list(dict.fromkeys(dataset.user_ids))
    user_index = {user_id: i for i, user_id in enumerate(user_ids)}
    rows = np.fromiter((user_index[u] for u in dataset.user_ids), np.int64, len(dataset))
    cols = np.fromiter((item_index[p] for p in dataset.playlist_ids), np.int64, len(dataset))
    values = np.asarray(dataset.weights, dtype=np.float32)
    user_items = sp.csr_matrix((values, (rows, cols)), shape=(len(user_ids), len(item_ids)))
    user_items.sum_duplicates()
    return InteractionMatrix(user_items, user_ids, item_ids)


def binarize(user_items: sp.csr_matrix) -> sp.csr_matrix:
    """Presence only: histories at serving time are lists of ids, without weights."""
    binary = user_items.copy().astype(np.float32)
    binary.data[:] = 1.0
    return binary
