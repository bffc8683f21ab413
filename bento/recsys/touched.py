"""Serve-time scoring over the columns a history touches, not the whole catalogue.

With sparse item-item weights (and optional content cosines) and no factors, an item the
history's rows do not store scores its tie-break alone (<= TIE_BREAK), so the top k are among
the touched columns whenever k of them score above TIE_BREAK. Scoring only those (a few hundred
of 100k) skips four catalogue-sized passes per request (bincount, cast + add, compare,
flatnonzero). Every value is computed with the same operations in the same order as
`ItemItemModel.scores`, and the candidates come out in the same (ascending) order, so the
answer is the dense path's, bit for bit; with fewer than k candidates the caller falls back to
the dense top-k over scores rebuilt from these (`dense`).
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate

import numpy as np
import scipy.sparse as sp

# Popularity breaks ties and fills slots the history says nothing about; small enough never to
# reorder items that have a real personal score.
TIE_BREAK = 1e-6
# Up to this many blocked ids (a history and a short exclude list) are looked up in Python:
# fewer numpy calls, each dear on the served worker's cold caches.
BLOCKED_IN_PYTHON = 64


def row_slices(matrix: sp.csr_matrix, rows: np.ndarray,
               ) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """The stored entries of some CSR rows as (columns, values, each row's end among them):
    each row's entries are one slice, joined (2 numpy calls where computing every entry's
    offset took 15, each dear when the served worker's caches are cold)."""
    ptr, indices, data = matrix.indptr, matrix.indices, matrix.data
    spans = [slice(ptr[row], ptr[row + 1]) for row in rows.tolist()]
    ends = list(accumulate(int(span.stop - span.start) for span in spans))
    return (np.concatenate([indices[span] for span in spans] or [indices[:0]]),
            np.concatenate([data[span] for span in spans] or [data[:0]]), ends)


def positions_of(ends: list[int]) -> np.ndarray:
    """Each entry's row position, from row_slices' ends."""
    return np.repeat(np.arange(len(ends)), [end - start for start, end in zip([0] + ends, ends)])


def row_entries(matrix: sp.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, ...]:
    """The stored entries of some CSR rows as (row position, column, value): a gather over a
    few rows, much cheaper than scipy's fancy row indexing."""
    columns, values, ends = row_slices(matrix, rows)
    return positions_of(ends), columns, values


def gathered(matrix: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray,
             entries: tuple[np.ndarray, ...] | None = None) -> np.ndarray:
    """matrix[rows][:, cols] as a dense float32 array, from a row gather (no scipy indexing:
    this runs on every request); `entries`: that gather when the caller has it already."""
    positions, found, values = row_entries(matrix, rows) if entries is None else entries
    # Each stored column's place among `cols` by a binary search over the few cols, not a
    # catalogue-sized lookup table (100k entries to fill for 10 columns).
    order = np.argsort(cols, kind="stable")
    sorted_cols = cols[order]
    place = np.searchsorted(sorted_cols, found)
    wanted = place < cols.size
    wanted[wanted] = sorted_cols[place[wanted]] == found[wanted]
    block = np.zeros((rows.size, cols.size), dtype=np.float32)
    block[positions[wanted], order[place[wanted]]] = values[wanted]
    return block


@dataclass
class Touched:
    """One history's gathered rows (`sliced`: item-item entries as row_slices gives them,
    `content`: cosines as row_entries does, both reusable for its explanations) and the score
    of every touched column (`columns` ascending, `scores` float32 as the dense path computes
    them)."""

    sliced: tuple[np.ndarray, np.ndarray, list[int]]
    content: tuple[np.ndarray, ...] | None
    columns: np.ndarray
    scores: np.ndarray
    # each item-item entry's place among `columns`, then each content entry's
    inverse: np.ndarray
    # the top k's places among `columns`, best first, once `top_k` has decided them
    places: np.ndarray | None = None
    positions: np.ndarray | None = None  # each item-item entry's row, built when needed

    @property
    def entries(self) -> tuple[np.ndarray, ...]:
        """The item-item entries as row_entries gives them."""
        if self.positions is None:
            self.positions = positions_of(self.sliced[2])
        return self.positions, self.sliced[0], self.sliced[1]


def unique(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(values, return_inverse=True) without its generality (a few microseconds
    per request): the sorted distinct values and each value's place among them."""
    order = values.argsort()
    ordered = values[order]
    if not values.size:
        return ordered, order
    first = np.concatenate([[True], ordered[1:] != ordered[:-1]])
    inverse = np.empty(values.size, dtype=np.intp)
    inverse[order] = first.cumsum() - 1
    return ordered[first], inverse


def applies(model) -> bool:
    """Sparse item-item weights without factors: factor scores reach every item."""
    return model.factors is None and sp.issparse(model.weights)


def weighted(entries: tuple[np.ndarray, ...], weights: np.ndarray | None) -> np.ndarray:
    rows, _, values = entries
    return values if weights is None else values * weights[rows]


def scored(model, history: np.ndarray, weights: np.ndarray | None = None) -> Touched:
    """The history's rows gathered once and its touched columns scored (see the module)."""
    sliced = row_slices(model.weights, history)
    content = None if model.content is None else row_entries(model.content, history)
    cols = sliced[0] if content is None else np.concatenate([sliced[0], content[1]])
    columns, inverse = unique(cols)
    size = sliced[0].size
    positions = None if weights is None else positions_of(sliced[2])
    # bincount adds each column's entries in the order given, as the catalogue-wide one does
    summed = np.bincount(inverse[:size], minlength=columns.size, weights=sliced[1]
                         if weights is None else weighted((positions, *sliced[:2]), weights))
    if content is not None:
        cosines = np.bincount(inverse[size:], weights=weighted(content, weights),
                              minlength=columns.size)
        summed = summed + cosines * model.content_weight[columns]
    scores = np.add(summed, model.tie_break[columns], dtype=np.float32)
    return Touched(sliced, content, columns, scores, inverse, positions=positions)


def top_k(found: Touched, k: int, blocked: np.ndarray, n_items: int,
          ) -> tuple[np.ndarray, np.ndarray] | None:
    """The top k (indices, scores) as `ItemItemModel.top_k` picks them, or None when fewer
    than k touched columns score above the tie-break (the dense path decides then); their
    places among the columns are kept in `found.places` for `reasons`."""
    if n_items - blocked.size < k:  # a tiny catalogue: only then can blocking leave < k
        k = min(k, n_items - np.unique(blocked).size)
    if k <= 0:
        found.places = np.empty(0, dtype=np.intp)
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    columns = found.columns
    keep = found.scores > TIE_BREAK
    if columns.size and blocked.size:  # blocked columns by binary search (columns sorted)
        at = columns.searchsorted(blocked)
        if blocked.size <= BLOCKED_IN_PYTHON:
            last = columns.size
            for place, item in zip(at.tolist(), blocked.tolist()):
                if place < last and columns[place] == item:
                    keep[place] = False
        else:
            at = np.minimum(at, columns.size - 1)
            keep[at[columns[at] == blocked]] = False
    where = keep.nonzero()[0]  # array methods: numpy's Python wrappers skipped
    if where.size < k:
        return None
    scores = found.scores[where]  # the same candidates in the same order as before
    best = (-scores).argpartition(k - 1)[:k]
    # k values in descending order, ties in argpartition's order: a stable sort, in Python
    # (scores above the tie-break are never NaN)
    top = scores[best].tolist()
    best = best[sorted(range(best.size), key=lambda i: -top[i])]
    found.places = where[best]
    return columns[found.places], scores[best]


def reasons(found: Touched, history: np.ndarray, n: int,
            weights: np.ndarray | None = None) -> list[np.ndarray]:
    """`ItemItemModel.explain` for the top k `top_k` decided, without content: each item's up
    to n history items with the largest positive contributions (ties: the earlier history
    item), read off the gathered entries that hit those k columns. The dense path builds a
    history x k block and sorts every column of it; here only the few positive hits are
    ordered, in Python (fewer numpy calls, each dear on a cold cache, for ~10 items)."""
    places = found.places.tolist()
    chosen = np.zeros(found.columns.size, dtype=bool)
    chosen[places] = True
    _, values, ends = found.sliced
    hit = chosen[found.inverse[:values.size]].nonzero()[0]
    entries = hit.tolist()
    rows = [bisect_right(ends, entry) for entry in entries]
    values = values[hit]
    if weights is not None:  # float32 products, as `contributions` forms them
        values = values * weights[rows].astype(np.float32)
    slot = {place: at for at, place in enumerate(places)}
    picked: list[list[tuple[float, int]]] = [[] for _ in places]
    for row, place, value in zip(rows, found.inverse[hit].tolist(), values.tolist()):
        if value > 0:
            picked[slot[place]].append((-value, row))
    ids = history.tolist()
    return [np.asarray([ids[row] for _, row in sorted(pairs)[:n]], dtype=history.dtype)
            for pairs in picked]


def dense(model, found: Touched) -> np.ndarray:
    """The catalogue-wide scores: an untouched item's is its tie-break (0 + tie-break)."""
    scores = model.tie_break.copy()
    scores[found.columns] = found.scores
    return scores
