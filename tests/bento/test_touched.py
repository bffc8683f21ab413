"""Serve-time scoring over the touched columns (bento.recsys.touched) against the catalogue-wide
path it replaces: the same items in the same order, the same float32 scores and the same
explanations, bit for bit."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from bento.recsys import touched
from bento.recsys.model import ItemItemModel


def random_model(rng, n_items: int, density: float, content: bool) -> ItemItemModel:
    weights = sp.random(n_items, n_items, density=density, format="csr", random_state=rng,
                        dtype=np.float32)
    weights.data -= 0.2  # negative weights too, like EASE
    # few distinct popularities: tie-breaks tie, as they do on real catalogues
    popularity = rng.integers(0, 4, n_items).astype(np.float32)
    cosines, signals = None, {}
    if content:
        cosines = sp.random(n_items, n_items, density=density, format="csr", random_state=rng,
                            dtype=np.float32)
        signals = {"content": {"strength": 0.5, "shrink": 3.0, "scale": 2.0}}
    return ItemItemModel([f"i{i}" for i in range(n_items)], popularity, weights, "random",
                         content=cosines, signals=signals)


def catalogue_wide(model, history, k, exclude, weights):
    """What `recommend` + `explain` answered before the touched-columns path."""
    scores = model.scores(history, weights)
    items = model.top_k(scores, k, np.concatenate([history, exclude]).astype(np.int64))
    return items, scores[items], model.explain(history, items, weights=weights)


@pytest.mark.parametrize("blocked_in_python", [touched.BLOCKED_IN_PYTHON, 0])
@pytest.mark.parametrize("content", [False, True])
@pytest.mark.parametrize("density", [0.01, 0.05, 0.4])
def test_answer_is_the_catalogue_wide_answer_bit_for_bit(content, density, blocked_in_python,
                                                         monkeypatch):
    """Blocked ids looked up in Python (up to BLOCKED_IN_PYTHON of them) or in numpy alike."""
    monkeypatch.setattr(touched, "BLOCKED_IN_PYTHON", blocked_in_python)
    rng = np.random.default_rng(11)
    model = random_model(rng, 200, density, content)
    for _ in range(60):
        history = rng.choice(200, int(rng.integers(1, 12)), replace=False)
        # repeats, overlaps with history; now and then past BLOCKED_IN_PYTHON
        exclude = rng.choice(200, int(rng.integers(0, 5 if rng.random() < 0.8 else 90)))
        weights = None if rng.random() < 0.5 else rng.random(history.size)
        k = int(rng.integers(1, 30))
        items, scores, reasons = model.answer(history, k, exclude, weights)
        want_items, want_scores, want_reasons = catalogue_wide(model, history, k, exclude,
                                                               weights)
        assert items.tolist() == want_items.tolist()
        assert scores.dtype == np.float32 and scores.tobytes() == want_scores.tobytes()
        assert [r.tolist() for r in reasons] == [r.tolist() for r in want_reasons]


def test_fewer_than_k_touched_candidates_fall_back_to_the_catalogue_wide_top_k():
    """One history item storing a single positive weight: the other k - 1 slots are filled by
    popularity, as before."""
    weights = sp.csr_matrix(np.array([[0, 2.0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]],
                                     dtype=np.float32))
    model = ItemItemModel(list("abcd"), np.array([1, 1, 5, 3], dtype=np.float32), weights)
    found = touched.scored(model, np.array([0]))
    assert found.columns.tolist() == [1]
    assert touched.top_k(found, 3, np.array([0]), model.n_items) is None
    items, scores, reasons = model.answer(np.array([0]), 3)
    assert [model.item_ids[i] for i in items] == ["b", "c", "d"]
    assert [r.tolist() for r in reasons] == [[0], [], []]
    assert scores.tolist() == pytest.approx([2.0, 1e-6, 0.6e-6])


def test_unique_is_numpys():
    rng = np.random.default_rng(2)
    for size in (0, 1, 7, 300):
        values = rng.integers(0, 50, size)
        columns, inverse = touched.unique(values)
        want_columns, want_inverse = np.unique(values, return_inverse=True)
        assert columns.tolist() == want_columns.tolist()
        assert inverse.tolist() == want_inverse.tolist()


def test_reasons_by_hand_ties_go_to_the_earlier_history_item():
    """History [0, 1, 2] over items 3..5 (of 8): item 3 gets 0.5 from each of 0 and 2 (a tie: 0
    first) and 0.7 from 1; item 4 only a negative weight (no reason); item 5 one positive."""
    weights = np.zeros((8, 8), dtype=np.float32)  # rows 3 to 7 store nothing
    weights[0, [3, 4]] = [0.5, -0.2]
    weights[1, [3, 5]] = [0.7, 0.1]
    weights[2, 3] = 0.5
    model = ItemItemModel([f"i{i}" for i in range(8)], np.ones(8, dtype=np.float32),
                          sp.csr_matrix(weights))
    history = np.array([0, 1, 2])
    found = touched.scored(model, history)
    assert found.sliced[2] == [2, 4, 5] and found.entries[0].tolist() == [0, 0, 1, 1, 2]
    items, scores = touched.top_k(found, 2, history, model.n_items)
    assert items.tolist() == [3, 5] and found.columns[found.places].tolist() == [3, 5]
    assert [r.tolist() for r in touched.reasons(found, history, 3)] == [[1, 0, 2], [1]]
    assert [r.tolist() for r in touched.reasons(found, history, 2)] == [[1, 0], [1]]
    # recency-style weights: 0 counts 0.5 * 2, 1 counts 0.7 * 0.5, 2 counts 0.5 * 1
    weights_by_row = np.array([2.0, 0.5, 1.0])
    found = touched.scored(model, history, weights_by_row)
    items, _ = touched.top_k(found, 2, history, model.n_items)
    assert items.tolist() == [3, 5]
    assert [r.tolist() for r in touched.reasons(found, history, 3, weights_by_row)] == \
        [[0, 2, 1], [1]]
    reasons = model.explain(history, items, weights=weights_by_row)  # the dense path
    assert [r.tolist() for r in reasons] == [[0, 2, 1], [1]]
    # rows storing nothing (6 and 7, first and in the middle) take no entries, shift no reason
    history = np.array([6, 0, 7, 1, 2])
    found = touched.scored(model, history)
    assert found.sliced[2] == [0, 2, 2, 4, 5]
    assert found.entries[0].tolist() == [1, 1, 3, 3, 4]
    items, _ = touched.top_k(found, 2, history, model.n_items)
    assert [r.tolist() for r in touched.reasons(found, history, 3)] == [[1, 0, 2], [1]]


def test_row_entries_are_scipys_rows_in_order():
    matrix = sp.random(50, 40, density=0.2, format="csr", random_state=1, dtype=np.float32)
    for rows in ([], [3], [0, 49, 7, 7], list(range(50))):
        rows = np.asarray(rows, dtype=np.int64)
        positions, columns, values = touched.row_entries(matrix, rows)
        want = matrix[rows].tocoo()
        assert (positions.dtype, columns.dtype, values.dtype) == (np.int64, np.int32, np.float32)
        assert positions.tolist() == want.row.tolist() and columns.tolist() == want.col.tolist()
        assert values.tobytes() == want.data.tobytes()
