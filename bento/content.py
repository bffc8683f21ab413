"""Content similarity for playlists with little or no feedback (issue 16, cold start).

TF-IDF (scikit-learn) over each item's tags, name and description, one unit row per item, then
each item's `neighbours` nearest items by cosine (computed in blocks of rows, so never a dense
item x item matrix): the model (bento.recsys.model) serves it like a sparse weight matrix, a
gather over the history's rows, whatever the catalogue's size. Only the trainer imports this
module; the Bento serves the stored matrix with numpy/scipy.
"""
from __future__ import annotations

import re
import time

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from bento.recsys.evaluation import top_k_per_row

WORD = re.compile(r"\w\w+")
# A term on most of the catalogue (a description's template words) tells items apart no
# better than chance and would give every pair a cosine floor (judged from 10 items on).
MAX_SHARE = 0.8
NEIGHBOURS = 100
BLOCK_ENTRIES = 1 << 24  # dense cosines per block of rows (64 MiB)
DENSE_VECTOR_BYTES = 1 << 28  # item vectors multiplied dense up to this size (float32)


def terms(entry: dict) -> list[str]:
    """A tag is one term (a multi-word tag stays whole), then the name's and description's
    lower-cased words."""
    words = WORD.findall(f"{entry.get('name', '')} {entry.get('description', '')}".lower())
    return [f"tag:{tag}" for tag in entry.get("tags", [])] + words


def item_vectors(item_ids: list[str], catalogue: dict[str, dict]) -> sp.csr_matrix:
    """items x terms TF-IDF, L2-normalised rows (an item without text: a zero row)."""
    entries = [catalogue.get(item_id) or {} for item_id in item_ids]
    vectorizer = TfidfVectorizer(analyzer=terms, sublinear_tf=True, norm="l2",
                                 max_df=MAX_SHARE if len(item_ids) >= 10 else 1.0)
    try:
        vectors = vectorizer.fit_transform(entries)
    except ValueError:  # no item has any text: an empty vocabulary
        return sp.csr_matrix((len(item_ids), 0), dtype=np.float32)
    return sp.csr_matrix(vectors, dtype=np.float32)


def content_neighbours(vectors: sp.csr_matrix, neighbours: int = NEIGHBOURS,
                       deadline: float | None = None) -> sp.csr_matrix | None:
    """items x items: each row's `neighbours` largest positive cosines, no self-similarity;
    None once `time.monotonic()` passes `deadline` (between blocks of rows). A small
    vocabulary (most catalogues: tags and a few words) is multiplied dense, by BLAS."""
    n_items, n_terms = vectors.shape
    keep = max(1, min(neighbours, n_items - 1))
    dense = n_items * n_terms * 4 <= DENSE_VECTOR_BYTES
    left = vectors.toarray() if dense else vectors
    right = np.ascontiguousarray(left.T) if dense else sp.csr_matrix(vectors.T)
    block = max(1, BLOCK_ENTRIES // max(n_items, 1))
    rows, cols, values = [], [], []
    for start in range(0, n_items, block):
        if deadline is not None and time.monotonic() > deadline:
            return None
        cosines = left[start:start + block] @ right
        cosines = cosines if dense else cosines.toarray()
        local = np.arange(cosines.shape[0])
        cosines[local, start + local] = 0.0
        top = top_k_per_row(cosines, keep)
        picked = np.take_along_axis(cosines, top, axis=1)
        positive = picked > 0
        rows.append(np.repeat(start + local, top.shape[1]).reshape(top.shape)[positive])
        cols.append(top[positive])
        values.append(picked[positive])
    if not rows:
        return sp.csr_matrix((n_items, n_items), dtype=np.float32)
    return sp.csr_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(n_items, n_items), dtype=np.float32)
