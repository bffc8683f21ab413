"""Content similarity for playlists with little or no feedback (issue 16, cold start).

TF-IDF (scikit-learn) over each item's tags, name and description, one unit row per item, then
each item's `neighbours` nearest items by cosine (computed in blocks of rows, so never a dense
item x item matrix): the model (bento.recsys.model) serves it like a sparse weight matrix, a
gather over the history's rows, whatever the catalogue's size. Only the trainer imports this
module; the Bento serves the stored matrix with numpy/scipy.
"""
from __future__ import annotations

import re

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

WORD = re.compile(r"\w\w+")
# A term on most of the catalogue (a description's template words) tells items apart no
# better than chance and would give every pair a cosine floor (judged from 10 items on).
MAX_SHARE = 0.8
NEIGHBOURS = 100
BLOCK_ENTRIES = 1 << 24  # dense cosines per block of rows (64 MiB)


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


def content_neighbours(vectors: sp.csr_matrix, neighbours: int = NEIGHBOURS) -> sp.csr_matrix:
    """items x items: each row's `neighbours` largest positive cosines, no self-similarity."""
    n_items = vectors.shape[0]
    keep = max(1, min(neighbours, n_items - 1))
    transposed = sp.csr_matrix(vectors.T)
    block = max(1, BLOCK_ENTRIES // max(n_items, 1))
    rows, cols, values = [], [], []
    for start in range(0, n_items, block):
        cosines = (vectors[start:start + block] @ transposed).toarray()
        local = np.arange(cosines.shape[0])
        cosines[local, start + local] = 0.0
        top = np.argpartition(-cosines, keep - 1, axis=1)[:, :keep] if keep < n_items else \
            np.broadcast_to(np.arange(n_items), cosines.shape)
        picked = np.take_along_axis(cosines, top, axis=1)
        positive = picked > 0
        rows.append((start + local[:, None].repeat(top.shape[1], axis=1))[positive])
        cols.append(top[positive])
        values.append(picked[positive])
    if not rows:
        return sp.csr_matrix((n_items, n_items), dtype=np.float32)
    return sp.csr_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(n_items, n_items), dtype=np.float32)
