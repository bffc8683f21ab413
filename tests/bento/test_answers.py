"""bento.answers writes the bytes pydantic would (the routes' documented response types)."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from bento import answers
from bento.api_types import Item, Recommendations, SimilarPlaylists
from bento.recsys.model import ItemItemModel

# odd ids on purpose: quotes, backslashes and non-ASCII text all go through the JSON escaping
IDS = ["a", 'q"uote', "back\\slash", "caf\u00e9", "\u266b-mix", "e"]


def hand_made_model() -> ItemItemModel:
    weights = np.zeros((6, 6), dtype=np.float32)
    weights[0, [1, 2, 3]] = [0.9, 0.3333333, 1e-7]
    weights[4, [1, 3, 5]] = [0.2, 2.5, 123456.789]
    return ItemItemModel(IDS, np.array([5, 4, 3, 2, 1, 1], dtype=np.float32),
                         sp.csr_matrix(weights), "hand")


def pydantic_items(model, indices, scores, reasons) -> list[Item]:
    return [Item(playlist_id=model.item_ids[i], score=round(float(s), 6),
                 because=[model.item_ids[h] for h in why])
            for i, s, why in zip(indices, scores, reasons)]


def test_recommendations_are_pydantics_bytes():
    model = hand_made_model()
    for history, k in [([0, 4], 4), ([0], 5), ([], 3), ([4], 1)]:
        indices, scores, reasons = model.answer(np.asarray(history, dtype=np.int64), k)
        items = answers.items(model.item_ids, indices, scores, reasons)
        body = answers.recommendations(items, "personalized", ["gh\u00f8st"], "m:1").body
        expected = Recommendations(items=pydantic_items(model, indices, scores, reasons),
                                   strategy="personalized", unknown=["gh\u00f8st"], model="m:1")
        assert body == expected.model_dump_json().encode()
    assert items == [{"playlist_id": "e", "score": 123456.789062, "because": ["\u266b-mix"]}]
    assert answers.recommendations([], "popular", [], "m:1").headers["content-type"] \
        == "application/json"


def test_similar_playlists_are_pydantics_bytes():
    model = hand_made_model()
    indices, scores, reasons = model.answer(np.array([0]), 3)
    body = answers.similar_playlists("a", answers.items(model.item_ids, indices, scores,
                                                        reasons), "m:1").body
    expected = SimilarPlaylists(playlist_id="a", model="m:1",
                                items=pydantic_items(model, indices, scores, reasons))
    assert body == expected.model_dump_json().encode()
    assert [item.playlist_id for item in expected.items] == ['q"uote', "back\\slash", "caf\u00e9"]


def test_non_finite_scores_are_written_as_pydantic_writes_them():
    items = [{"playlist_id": "a", "score": float("nan"), "because": []}]
    expected = Recommendations(items=[Item(playlist_id="a", score=float("nan"), because=[])],
                               strategy="popular", unknown=[], model="m")
    assert answers.recommendations(items, "popular", [], "m").body == \
        expected.model_dump_json().encode()
