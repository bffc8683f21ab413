"""Content similarity for playlists with little or no feedback (issue 16, cold start).

TF-IDF (scikit-learn) over each item's tags, name and description gives an item-item cosine
matrix; it is blended into the collaborative weights column by column, by how much feedback the
target item has: `blend[:, j] = a_j * cf[:, j] / cf_scale + (1 - a_j) * content[:, j]` with
`a_j = n_j / (n_j + shrink)`. Scores stay `weights[history].sum(axis=0)`, so the blend is just
another item-item matrix (ItemItemModel serves it unchanged): a playlist nobody liked yet is
reached through the tags and words it shares with what a listener likes.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from bento.recsys.algorithms import keep_top_per_row


def item_texts(item_ids: list[str], catalogue: dict[str, dict]) -> list[str]:
    """Tags as single tokens (a multi-word tag stays one feature), then name and description."""
    texts = []
    for item_id in item_ids:
        entry = catalogue.get(item_id) or {}
        tags = " ".join("tag_" + tag.replace(" ", "_") for tag in entry.get("tags", []))
        texts.append(f"{tags} {entry.get('name', '')} {entry.get('description', '')}")
    return texts


def content_similarity(texts: list[str], neighbours: int = 100) -> sp.csr_matrix:
    """Cosine of TF-IDF vectors, the `neighbours` best per row, no self-similarity."""
    vectors = TfidfVectorizer(token_pattern=r"[^\s]+", sublinear_tf=True,
                              min_df=1).fit_transform(texts)
    similarity = sp.csr_matrix(cosine_similarity(vectors, dense_output=False), dtype=np.float32)
    similarity.setdiag(0)
    similarity.eliminate_zeros()
    return keep_top_per_row(similarity, neighbours)


def blend(collaborative: sp.csr_matrix | None, content: sp.csr_matrix, feedback: np.ndarray,
          shrink: float = 10.0) -> sp.csr_matrix:
    """Per target column j: a_j of the collaborative weights (scaled to content's range) and
    1 - a_j of content, a_j = n_j / (n_j + shrink) from item j's feedback count n_j."""
    trust = (feedback / (feedback + shrink)).astype(np.float32)
    mixed = content @ sp.diags(1 - trust)
    if collaborative is not None and collaborative.nnz:
        cf = sp.csr_matrix(collaborative, dtype=np.float32)
        scale = float(np.percentile(np.abs(cf.data), 99)) or 1.0
        content_scale = float(np.percentile(content.data, 99)) if content.nnz else 1.0
        mixed = mixed + cf @ sp.diags(trust * content_scale / scale)
    return sp.csr_matrix(mixed, dtype=np.float32)
