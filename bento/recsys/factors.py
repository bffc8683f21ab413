"""Implicit-feedback matrix factorisation (iALS, Hu, Koren and Volinsky 2008).

Item factors are trained by `implicit` (conjugate-gradient ALS in C++, multithreaded: a
well-kept library, far faster than numpy). A listener is never stored: their vector is folded
in from the history at serve time in numpy, so the service does not import implicit:
    x = A^-1 b,  A = G + (c - 1) Y_h' Y_h,  b = c Y_h' 1,  G = Y'Y + reg I,
where Y_h are the factors of the history's items and c the confidence of a positive (implicit's
`alpha`): the same solve as implicit's `recalculate_user`. Scores are Y x. A weighted history
(recency) gives history item h the confidence c w_h: A = G + Y_h' (c W - I) Y_h, b = c Y_h' w.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

# Systems solved at once (rows x factors^2 float64: 2^22 entries are 32 MiB), and history
# entries gathered at once (padded rows x longest x factors float32: 2^18 entries are 64 MiB
# at 64 factors): the batch memory stays bounded whatever the factor count.
SOLVE_ENTRIES = 1 << 22
GATHER_ENTRIES = 1 << 18


def regularised_gram(factors: np.ndarray, regularization: float) -> np.ndarray:
    """G = Y'Y + reg I in float64, shared by every fold-in against these factors."""
    gram = factors.T.astype(np.float64) @ factors.astype(np.float64)
    gram[np.diag_indices_from(gram)] += regularization
    return gram


def fold_in(factors: np.ndarray, gram: np.ndarray, confidence: float,
            histories: sp.csr_matrix) -> np.ndarray:
    """One vector per row of `histories` (rows x items; a stored value is that item's weight,
    1 in a binary history), against item `factors`.

    Rows go by history length, so a batch pads little: Y_h' Y_h for the whole batch is one
    batched matrix product."""
    histories = histories.tocsr()
    n_factors = factors.shape[1]
    solved = np.zeros((histories.shape[0], n_factors), dtype=np.float32)
    counts = np.diff(histories.indptr)
    order = np.argsort(counts, kind="stable")
    order = order[counts[order] > 0]
    batch = max(1, SOLVE_ENTRIES // n_factors ** 2)
    start = 0
    while start < order.size:
        stop = min(start + batch, order.size)
        if (stop - start) * counts[order[stop - 1]] > GATHER_ENTRIES:
            stop = start + max(1, GATHER_ENTRIES // int(counts[order[stop - 1]]))
        rows = order[start:stop]
        lengths = counts[rows]
        padded = np.zeros((rows.size, int(lengths.max()), n_factors), dtype=np.float32)
        # Each entry's confidence c w_h; padding has none (its factor rows are zero anyway).
        confidences = np.zeros((rows.size, padded.shape[1], 1), dtype=np.float32)
        row_of = np.repeat(np.arange(rows.size), lengths)
        position = np.arange(row_of.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        entries = np.repeat(histories.indptr[rows] - np.cumsum(lengths) + lengths, lengths) \
            + np.arange(row_of.size)
        padded[row_of, position] = factors[histories.indices[entries]]
        confidences[row_of, position, 0] = confidence * histories.data[entries]
        systems = gram + np.matmul(padded.transpose(0, 2, 1), (confidences - 1.0) * padded)
        targets = (confidences * padded).sum(axis=1, dtype=np.float64)
        solved[rows] = np.linalg.solve(systems, targets[:, :, None])[:, :, 0]
        start = stop
    return solved


def fold_in_one(factors: np.ndarray, gram: np.ndarray, confidence: float,
                history: np.ndarray, weights: np.ndarray | None = None,
                ) -> tuple[np.ndarray, np.ndarray]:
    """The listener vector for one history (item h weighted w_h, default 1), and A^-1 Y_h'
    whose column h, dotted with an item's factors and times c w_h, is history item h's share
    of that item's score."""
    picked = factors[history].astype(np.float64)
    confidences = confidence * (np.ones(history.size) if weights is None else weights)
    system = gram + picked.T @ ((confidences - 1.0)[:, None] * picked)
    inverse_picked = np.linalg.solve(system, picked.T)
    return inverse_picked @ confidences, inverse_picked


def fit_factors(user_items: sp.csr_matrix, n_factors: int = 64, regularization: float = 1.0,
                confidence: float = 10.0, iterations: int = 15, seed: int = 0) -> np.ndarray:
    """Item factors (items x n_factors, float32) from implicit's CPU ALS; a stored value
    scales that entry's confidence (1 on binary data; play-count confidence: bento.playcounts)."""
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    values = user_items.astype(np.float32).tocsr()
    with threadpool_limits(1, "blas"):  # implicit parallelises itself
        model = AlternatingLeastSquares(factors=n_factors, regularization=regularization,
                                        alpha=confidence, iterations=iterations,
                                        random_state=seed, num_threads=0)
        model.fit(values, show_progress=False)
    return np.ascontiguousarray(model.item_factors, dtype=np.float32)
