"""Content and recency in the model, checked by hand, and the trainer's validation of them
(bento.signals) on data where each signal does, and does not, help."""
from __future__ import annotations

import time

import numpy as np
import pytest
import scipy.sparse as sp

from bento.content import content_neighbours, item_vectors
from bento.recsys.algorithms import fit
from bento.recsys.model import ItemItemModel
from bento.recsys.weighting import DAY_SECONDS, recency_weights
from bento.recency import entry_times, time_split, validate_recency, weighted_histories
from bento.signals import (OUT_OF_TIME, ContentSettings, Signals, choose_signals,
                           validate_content, with_content)

IDS = ["a", "b", "c", "d"]
# Content cosines of unit rows a = d = [1, 0], b = [0.6, 0.8], c = [0, 0] (no text).
VECTORS = sp.csr_matrix(np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 0.0], [1.0, 0.0]],
                                 dtype=np.float32))
SIMILARITY = content_neighbours(VECTORS)
POPULARITY = np.array([3.0, 1.0, 2.0, 0.0], dtype=np.float32)  # d: nobody liked it yet
WEIGHTS = np.array([[0, 2, 1, 0], [1, 0, 0, 0], [0, 4, 0, 0], [0, 0, 0, 0]], dtype=np.float32)
CONTENT = {"strength": 2.0, "shrink": 1.0, "scale": 0.5}


def model(weights=WEIGHTS, content=SIMILARITY, **signals) -> ItemItemModel:
    return ItemItemModel(IDS, POPULARITY, weights, "test", {}, None, content,
                         {"content": CONTENT, **signals} if content is not None else signals)


@pytest.mark.parametrize("sparse", [False, True])
def test_content_adds_feedback_weighted_cosine_by_hand(sparse):
    weights = sp.csr_matrix(WEIGHTS) if sparse else WEIGHTS
    scored = model(weights)
    # content weight = 2 * 0.5 * 1 / (1 + n_j): [1/4, 1/2, 1/3, 1]
    assert scored.content_weight == pytest.approx([0.25, 0.5, 1 / 3, 1.0])
    # History {a}: collaborative [0, 2, 1, 0]; cosines with a [-, 0.6, 0, 1] (no self).
    expected = np.array([0, 2 + 0.3, 1 + 0, 0 + 1.0])
    scores = scored.scores(np.array([0]))
    assert scores == pytest.approx(expected + 1e-6 * POPULARITY / 3, abs=1e-6)
    items, top = scored.recommend(np.array([0]), 3)
    assert [IDS[i] for i in items] == ["b", "c", "d"]  # the never-liked d is reached
    # d's only reason is content shared with a; batch scoring agrees with the single row.
    assert [IDS[h] for h in scored.explain(np.array([0]), np.array([3]))[0]] == ["a"]
    batch = scored.batch_scores(sp.csr_matrix(np.array([[1, 0, 0, 0]], dtype=np.float32)))
    assert batch[0] == pytest.approx(scores, abs=1e-6)


def test_content_neighbours_and_a_content_only_model(monkeypatch):
    assert SIMILARITY.toarray() == pytest.approx(np.array(
        [[0, 0.6, 0, 1], [0.6, 0, 0, 0.6], [0, 0, 0, 0], [1, 0.6, 0, 0]]), abs=1e-6)
    nearest = content_neighbours(VECTORS, neighbours=1).toarray()
    assert nearest[0].tolist() == [0, 0, 0, 1] and nearest[2].tolist() == [0, 0, 0, 0]
    alone = ItemItemModel(IDS, POPULARITY, content=SIMILARITY,
                          signals={"content": {"strength": 1.0, "shrink": None, "scale": 1.0}})
    assert alone.personal
    assert alone.scores(np.array([1]))[[0, 3]] == pytest.approx([0.6, 0.6], abs=1e-5)
    assert item_vectors(["x", "y"], {}).shape == (2, 0)
    assert content_neighbours(item_vectors(["x", "y"], {})).nnz == 0
    # Blocks of rows give the same neighbours as one block.
    rng = np.random.default_rng(2)
    vectors = sp.csr_matrix(rng.random((30, 5)) * (rng.random((30, 5)) > 0.6))
    import bento.content
    whole = content_neighbours(vectors, 4).toarray()
    cosines = (vectors @ vectors.T).toarray()
    np.fill_diagonal(cosines, 0.0)
    for row in range(30):  # each row: its 4 largest positive cosines, exactly
        best = np.sort(cosines[row][cosines[row] > 0])[::-1][:4]
        assert np.sort(whole[row][whole[row] > 0])[::-1] == pytest.approx(best)
    monkeypatch.setattr(bento.content, "BLOCK_ENTRIES", 60)
    assert content_neighbours(vectors, 4).toarray() == pytest.approx(whole)
    monkeypatch.setattr(bento.content, "DENSE_VECTOR_BYTES", 0)  # the sparse product
    assert content_neighbours(vectors, 4).toarray() == pytest.approx(whole)
    assert content_neighbours(vectors, 4, deadline=time.monotonic() - 1) is None


def test_item_vectors_are_unit_rows_over_tags_and_words():
    vectors = item_vectors(["x", "y", "z"], {
        "x": {"name": "Late Night Jazz", "tags": ["smooth jazz"]},
        "y": {"name": "Jazz", "description": "late", "tags": ["smooth jazz"]},
        "z": {"name": "Metal", "tags": ["metal"]}})
    assert np.linalg.norm(vectors.toarray(), axis=1) == pytest.approx([1, 1, 1])
    cosine = (vectors @ vectors.T).toarray()
    assert cosine[0, 1] > 0.5 and cosine[0, 2] == 0
    # A word on most of a catalogue (a template's) is no term: it would relate every pair.
    ids = [f"i{i}" for i in range(10)]
    templated = item_vectors(ids, {item: {"description": f"picks of {item}"} for item in ids})
    assert (templated @ templated.T).toarray()[0, 1] == 0


def test_recency_weights_by_hand():
    newest = 1_700_000_000.0
    times = np.array([newest, newest - DAY_SECONDS, newest - 3 * DAY_SECONDS, np.nan])
    assert recency_weights(times, 1.0) == pytest.approx([1, 0.5, 0.125, 1])
    assert recency_weights(times, 3.0)[2] == pytest.approx(0.5)
    assert recency_weights(np.array([np.nan]), 1.0) == pytest.approx([1])


@pytest.mark.parametrize("sparse", [False, True])
def test_weighted_history_scales_each_row_and_its_reasons(sparse):
    weights = sp.csr_matrix(WEIGHTS) if sparse else WEIGHTS
    scored = model(weights, content=None)
    history, w = np.array([0, 2]), np.array([0.25, 1.0])
    # 0.25 * [0, 2, 1, 0] + 1 * [0, 4, 0, 0]
    assert scored.scores(history, w)[:3] == pytest.approx([0, 4.5, 0.25], abs=1e-5)
    shares = scored.contributions(history, np.array([1]), w)
    assert shares[:, 0] == pytest.approx([0.5, 4.0])
    weighted = sp.csr_matrix((w.astype(np.float32), history, [0, 2]), shape=(1, 4))
    assert scored.batch_scores(weighted)[0] == pytest.approx(scored.scores(history, w), abs=1e-6)


def test_weighted_fold_in_matches_the_dense_solve_and_the_batch():
    rng = np.random.default_rng(4)
    factors = rng.normal(size=(6, 3)).astype(np.float32)
    params = {"regularization": 0.5, "confidence": 4.0, "blend": 0.4}
    blend = ItemItemModel([f"i{i}" for i in range(6)], np.arange(6, 0, -1, dtype=np.float32),
                          sp.csr_matrix(rng.random((6, 6)).astype(np.float32)), "blend", params,
                          factors)
    history, w = np.array([1, 4]), np.array([0.3, 1.0])
    y = factors.astype(np.float64)
    picked = y[history]
    c = 4.0 * w
    system = y.T @ y + 0.5 * np.eye(3) + picked.T @ np.diag(c - 1) @ picked
    listener = np.linalg.solve(system, picked.T @ c)
    item_item = w @ blend.weights.toarray()[history]
    expected = 0.6 * item_item + 0.4 * (y @ listener)
    scores = blend.scores(history, w)
    assert scores == pytest.approx(expected, abs=1e-4)
    weighted = sp.csr_matrix((w.astype(np.float32), history, [0, 2]), shape=(1, 6))
    assert blend.batch_scores(weighted)[0] == pytest.approx(scores, abs=1e-4)
    # Each history item's shares add up to the score (the explanations stay exact).
    shares = blend.contributions(history, np.arange(6), w)
    assert shares.sum(axis=0) == pytest.approx(scores, abs=1e-4)
    assert blend.scores(history, np.ones(2)) == pytest.approx(blend.scores(history), abs=1e-5)


def test_save_load_and_reindex_keep_content_and_recency(tmp_path):
    saved = model(sp.csr_matrix(WEIGHTS), recency={"half_life_days": 7.0})
    saved.save(tmp_path)
    loaded, _ = ItemItemModel.load(tmp_path)
    assert loaded.half_life_days == 7.0 and loaded.signals == saved.signals
    assert loaded.scores(np.array([0])) == pytest.approx(saved.scores(np.array([0])))
    moved = saved.reindexed(["d", "x", "a"])
    history = np.array([moved.index["a"]])
    assert moved.scores(history)[moved.index["d"]] == pytest.approx(1.0, abs=1e-5)


def taste_data(seed=0, n_users=400, n_items=60, groups=4):
    """Listeners who like one tag group; playlist i carries the tag of group i % groups."""
    rng = np.random.default_rng(seed)
    group = np.arange(n_items) % groups
    taste = rng.integers(groups, size=n_users)
    rows, cols = [], []
    for user in range(n_users):
        liked = rng.choice(np.flatnonzero(group == taste[user]), 8, replace=False)
        rows += [user] * liked.size
        cols += liked.tolist()
    matrix = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)),
                           shape=(n_users, n_items))
    ids = [f"p{i}" for i in range(n_items)]
    catalogue = {ids[i]: {"tags": [f"g{group[i]}"], "name": f"Mix {i}"} for i in range(n_items)}
    return matrix, ids, catalogue


def test_the_content_grid_scores_like_the_served_model():
    matrix, ids, catalogue = taste_data()
    vectors = content_neighbours(item_vectors(ids, catalogue))
    fitted = fit("itemknn", matrix, ids, {"neighbours": 30})
    grid = ContentSettings(fitted, vectors)
    for strength, shrink in ((0.5, 1.0), (2.0, 10.0)):
        served = with_content(fitted, vectors, strength, shrink, 0.7)
        assert grid.set(strength, shrink, 0.7).batch_scores(matrix[:50]) == pytest.approx(
            served.batch_scores(matrix[:50]), abs=1e-5)
    assert len(grid.cache) == 1  # one scoring for every setting


def test_content_is_chosen_where_tags_predict_taste_and_off_without_text():
    matrix, ids, catalogue = taste_data()
    report = validate_content(matrix, ids, content_neighbours(item_vectors(ids, catalogue)),
                              "itemknn",
                              {"neighbours": 30}, 10, 0)
    assert report["used"], report
    assert report["chosen"]["cold"]["recall"] > report["without"]["cold"]["recall"]
    assert report["chosen"]["warm"]["ndcg"] >= report["without"]["warm"]["ndcg"] * 0.99
    off = validate_content(matrix, ids, content_neighbours(item_vectors(ids, {})), "itemknn",
                           {}, 10, 0)
    assert off == {"used": False, "reason": "no two playlists share a tag or a word"}
    popular = validate_content(matrix, ids, content_neighbours(item_vectors(ids, catalogue)),
                               "popularity", {}, 10, 0)
    assert not popular["used"] and "popularity" in popular["reason"]


def drifting_times(seed=0, n_users=300, groups=10, days=400.0):
    """Playlists come in groups of 4 that are liked together. Each listener liked 3 of one
    group long ago and all 4 of another lately, so their newest like is from the recent group."""
    rng = np.random.default_rng(seed)
    start = 1_600_000_000.0
    rows, cols, times = [], [], []
    for user in range(n_users):
        old, new = rng.choice(groups, 2, replace=False)
        old_items = rng.choice(4, 3, replace=False) + 4 * old
        for items, first, last in ((old_items, 0.0, 0.5), (np.arange(4) + 4 * new, 0.9, 1.0)):
            rows += [user] * items.size
            cols += items.tolist()
            times += (start + rng.uniform(first, last, items.size) * days * DAY_SECONDS).tolist()
    return sp.csr_matrix((np.asarray(times), (rows, cols)), shape=(n_users, 4 * groups))


def test_recency_on_where_taste_drifts_off_where_time_says_nothing():
    times = drifting_times()
    ids = [f"p{i}" for i in range(times.shape[1])]
    report = validate_recency(times, ids, "itemknn", {"neighbours": 30}, 10, 0)
    assert report["used"], report
    assert report["chosen"]["ndcg"] > report["without"]["ndcg"] * 1.01
    shuffled = times.copy()
    shuffled.data = np.random.default_rng(1).permutation(shuffled.data)
    # Random times: whatever weighting, the "newest" likes are not the listener's taste of late.
    shuffled_report = validate_recency(shuffled, ids, "itemknn", {"neighbours": 30}, 10, 0)
    assert not shuffled_report["used"], shuffled_report
    untimed = sp.csr_matrix((np.full(times.nnz, np.nan), times.indices, times.indptr),
                            shape=times.shape)
    assert validate_recency(untimed, ids, "itemknn", {}, 10, 0)["reason"] == \
        "only 0% of the likes have a time"


def test_time_split_and_weights_by_hand():
    day = DAY_SECONDS
    times = sp.csr_matrix(np.array([[1 * day, 3 * day, 2 * day, 4 * day, 5 * day],
                                    [1 * day, 2 * day, 0, 0, 0]]))
    older, newest = time_split(times)  # row 0: 5 likes -> the newest one held out
    assert newest.toarray().tolist() == [[0, 0, 0, 0, 1], [0, 0, 0, 0, 0]]
    weights = weighted_histories(older, 1.0).toarray()
    assert weights[0] == pytest.approx([0.125, 0.5, 0.25, 1.0, 0])  # row 0's newest left: day 4
    assert weights[1][:2] == pytest.approx([0.5, 1.0])
    binary = sp.csr_matrix(np.array([[0, 1, 0, 1, 0], [1, 0, 1, 0, 0]], dtype=np.float32))
    aligned = entry_times(times, binary)
    assert aligned[0, 1] == 3 * day and aligned[0, 3] == 4 * day and aligned[1, 0] == day
    assert np.isnan(aligned[1, 2])  # a like the times do not know


def test_signals_apply_switches_on_only_what_was_chosen():
    matrix, ids, catalogue = taste_data()
    vectors = content_neighbours(item_vectors(ids, catalogue))
    fitted = fit("itemknn", matrix, ids, {"neighbours": 30})
    off = Signals({"used": False}, {"used": False}).apply(fitted, vectors, matrix)
    assert off.content is None and off.half_life_days is None
    on = Signals({"used": True, "strength": 0.5, "shrink": 1.0},
                 {"used": True, "half_life_days": 3.0}).apply(fitted, vectors, matrix)
    assert on.content is not None and on.half_life_days == 3.0
    assert on.signals["content"]["scale"] > 0
    assert Signals({"used": False}, {"used": False}).metadata()["interaction_weights"] is False


def test_signals_are_not_checked_past_the_time_budget_and_say_so():
    matrix, ids, catalogue = taste_data()
    times = sp.csr_matrix((np.arange(1, matrix.nnz + 1, dtype=np.float64) * DAY_SECONDS,
                           matrix.indices, matrix.indptr), shape=matrix.shape)
    vectors = content_neighbours(item_vectors(ids, catalogue))
    late = choose_signals(matrix, times, ids, vectors, "itemknn", {"neighbours": 30}, 10, 0,
                          deadline=time.monotonic() - 1)
    unbuilt = choose_signals(matrix, times, ids, None, "itemknn", {"neighbours": 30}, 10, 0,
                             deadline=time.monotonic() + 600)
    assert late.content == late.recency == {"used": False, "reason": OUT_OF_TIME}
    assert unbuilt.content == {"used": False, "reason": OUT_OF_TIME}
    assert "used" in unbuilt.recency and unbuilt.recency.get("reason") != OUT_OF_TIME


def test_the_trainer_records_both_verdicts_and_parses_its_flag(bento_home, capsys):
    import bentoml

    from bento.train import parse_args

    signals = bentoml.models.get("playlist_recommender:latest").info.metadata["signals"]
    assert signals["interaction_weights"] is False
    # The generated sample: tags follow taste, like times are drawn at random over a year.
    assert signals["content"]["used"] and signals["content"]["strength"] > 0
    assert not signals["recency"]["used"] and signals["recency"]["reason"]
    assert parse_args(["--data", "d"]).recency_half_life_days is None
    assert parse_args(["--data", "d", "--recency-half-life-days", "off"]) \
        .recency_half_life_days is False
    assert parse_args(["--data", "d", "--recency-half-life-days", "7"]).recency_half_life_days == 7
    for bad in ("soon", "-1", "inf"):
        with pytest.raises(SystemExit):
            parse_args(["--data", "d", "--recency-half-life-days", bad])
    assert "--recency-half-life-days" in capsys.readouterr().err
    assert parse_args(["--data", "d"]).time_budget == 0
    assert parse_args(["--data", "d", "--time-budget", "0"]).time_budget == 0
    for bad in ("-1", "nan", "inf", "soon"):
        with pytest.raises(SystemExit):
            parse_args(["--data", "d", "--time-budget", bad])
    assert "--time-budget" in capsys.readouterr().err
