"""Tag filters for recommendations: which catalogue items a request rules out, as one boolean
mask over all items (a sparse item x tag matrix sliced by the asked tags; no loop over items).

The tags are the ones the model was trained with (catalogue.json), so the Bento needs no
database; the gateway drops any item whose tags changed since.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp


class TagIndex:
    """Which items carry which tag: `matrix[item, tag]` is True (CSC: fast column slices)."""

    def __init__(self, item_ids: list[str], catalogue: dict[str, dict]):
        vocabulary: dict[str, int] = {}
        rows, cols = [], []
        for row, item_id in enumerate(item_ids):  # once, at load
            for tag in (catalogue.get(item_id) or {}).get("tags", []):
                rows.append(row)
                cols.append(vocabulary.setdefault(tag, len(vocabulary)))
        self.vocabulary = vocabulary
        self.matrix = sp.csc_matrix((np.ones(len(rows), dtype=bool), (rows, cols)),
                                    shape=(len(item_ids), len(vocabulary)))

    def tagged(self, tags: list[str]) -> np.ndarray:
        """True for the items carrying any of `tags` (tags the model never saw match nothing)."""
        columns = [self.vocabulary[tag] for tag in tags if tag in self.vocabulary]
        return np.diff(self.matrix[:, columns].tocsr().indptr) > 0 if columns \
            else np.zeros(self.matrix.shape[0], dtype=bool)

    def blocked(self, tags: list[str], exclude_tags: list[str]) -> np.ndarray:
        """Indices of the items the filters rule out: lacking every one of `tags` (when any
        are given) or carrying one of `exclude_tags`."""
        ruled_out = np.zeros(self.matrix.shape[0], dtype=bool)
        if tags:
            ruled_out |= ~self.tagged(tags)
        if exclude_tags:
            ruled_out |= self.tagged(exclude_tags)
        return np.flatnonzero(ruled_out)
