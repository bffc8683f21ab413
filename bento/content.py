"""Content vectors for playlists with little or no feedback (issue 16, cold start).

TF-IDF (scikit-learn) over each item's tags, name and description, one unit row per item: the
dot product of two rows is their cosine, so the model (bento.recsys.model) scores an item's
content as its summed cosine with the history without ever holding an item x item matrix.
Only the trainer imports this module; the Bento serves the stored vectors with numpy/scipy.
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
