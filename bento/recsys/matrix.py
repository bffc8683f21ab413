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
    """Items are every playlist in the catalogue, so items nobody touched still exist; rows
    and columns are the dataset's codes (listeners in order of first appearance)."""
    item_ids = list(dataset.playlists)
    user_items = sp.csr_matrix(
        (dataset.weight_column.astype(np.float32), (dataset.user_codes, dataset.playlist_codes)),
        shape=(len(dataset.user_index), len(item_ids)))
    user_items.sum_duplicates()
    return InteractionMatrix(user_items, list(dataset.user_index), item_ids)


def binarize(user_items: sp.csr_matrix) -> sp.csr_matrix:
    """Presence only: histories at serving time are lists of ids, without weights."""
    binary = user_items.copy().astype(np.float32)
    binary.data[:] = 1.0
    return binary
