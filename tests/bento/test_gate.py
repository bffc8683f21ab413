"""The retrain gate's parts: the fresh holdout, the champion in the snapshot's item space,
the verdict and its settings."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from bento.gate import GateSettings, champion_holdout, fresh_split, model_mib, verdict
from bento.recsys.dataio import Dataset, Playlist
from bento.recsys.evaluation import evaluate
from bento.recsys.matrix import build_matrix
from bento.recsys.model import ItemItemModel


def dataset(rows):
    """rows: (user, playlist, timestamp or None)."""
    playlists = {p: Playlist(p, p) for _, p, _ in rows}
    return Dataset.from_rows([u for u, _, _ in rows], [p for _, p, _ in rows],
                             [1.0] * len(rows), [t for _, _, t in rows], playlists,
                             {u: u for u, _, _ in rows})


def held_out(split, data):
    matrix = build_matrix(data)
    train, test = split(matrix)
    assert (train.multiply(test)).nnz == 0 and train.nnz + test.nnz == len(data)
    coo = test.tocoo()
    return {(matrix.user_ids[u], matrix.item_ids[i]) for u, i in zip(coo.row, coo.col)}


def test_fresh_split_holds_out_only_newest_likes_after_the_cutoff():
    data = dataset([("old", "a", 10), ("old", "b", 20), ("old", "c", 30),
                    ("mixed", "a", 10), ("mixed", "b", 150), ("mixed", "c", 200),
                    ("new", "a", 300), ("new", "b", 400),
                    ("single", "c", 500), ("undated", "a", None), ("undated", "b", None)])
    # "old" liked nothing after 100; "single" has nothing left as history; "mixed" keeps its
    # older fresh like in the history.
    assert held_out(fresh_split(100), data) == {("mixed", "c"), ("new", "b")}


def test_fresh_split_holds_out_a_fraction_of_many_new_likes():
    rows = [("u", f"p{i}", 1000 + i) for i in range(10)] + [("u", "old", 1)]
    assert held_out(fresh_split(100, fraction=0.2), dataset(rows)) == {("u", "p9"), ("u", "p8")}


def test_fresh_split_breaks_same_second_ties_at_random_not_by_column():
    # 40 listeners liked a, b and c in the same second: one is held out each, and not always a.
    rows = [(f"u{n}", p, 500) for n in range(40) for p in "abc"]
    held = held_out(fresh_split(100), dataset(rows))
    assert len(held) == 40 and {item for _, item in held} == {"a", "b", "c"}
    assert held_out(fresh_split(100), dataset(rows)) == held  # seeded: the same every run


def model(ids, weights):
    return ItemItemModel(ids, np.arange(len(ids), 0, -1).astype(np.float32),
                         sp.csr_matrix(np.asarray(weights, dtype=np.float32)), "test")


@pytest.mark.parametrize("dense", [False, True])
def test_a_reindexed_model_scores_like_the_original_and_unknown_items_miss(dense):
    champion = model(["a", "b", "c"], [[0, 2, 1], [2, 0, 0], [1, 0, 0]])
    if dense:
        champion.weights = champion.weights.toarray()
    aligned = champion.reindexed(["c", "new", "a"])
    assert aligned.item_ids == ["c", "new", "a", "b"]
    original = champion.scores(np.array([0]))           # history [a]
    moved = aligned.scores(np.array([2]))
    assert moved[[2, 3, 0]].tolist() == pytest.approx(original.tolist())
    assert moved[1] == 0.0                              # "new": never recommended above others


def test_the_champion_is_scored_on_exactly_the_candidates_holdout():
    champion = model(["a", "b"], [[0, 1], [1, 0]])
    snapshot_items = ["b", "a", "c"]                     # c is new: the champion cannot know it
    train = sp.csr_matrix(np.array([[0, 1, 0], [1, 0, 0], [0, 1, 0]], dtype=np.float32))
    test = sp.csr_matrix(np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32))
    aligned, train_a, test_a = champion_holdout(champion, snapshot_items, train, test)
    metrics = evaluate(aligned, train_a, test_a, k=1)
    # users 0 and 1 get their held-out item first; user 2 wanted "c", which only misses
    assert metrics["users"] == 3 and metrics["recall"] == pytest.approx(2 / 3)


FIGURES = {"recall@10": 0.30, "ndcg@10": 0.20, "size_mib": 100.0, "p99_ms": 2.0}


def test_verdict_checks_quality_memory_and_latency():
    settings = GateSettings(tolerance=0.01, memory_limit_mib=1024, bento_base_mib=300,
                            p99_ms=5, min_fresh_users=20)
    champion = {"recall@10": 0.305, "ndcg@10": 0.25, "evaluated_users": 50}
    result = verdict(FIGURES, champion, settings, 10)
    assert not result["passed"]
    assert result["reasons"] == ["ndcg@10 0.2 is below the bound 0.24"]
    heavy = {**FIGURES, "size_mib": 800.0, "p99_ms": 9.0}
    assert [r.split()[0] for r in verdict(heavy, None, settings, 10)["reasons"]] == [
        "memory_mib", "p99_ms"]
    few = verdict(FIGURES, {**champion, "ndcg@10": 0.2, "evaluated_users": 3}, settings, 10)
    assert any("nothing new to judge" in reason for reason in few["reasons"])


def test_no_champion_passes_the_comparison_and_says_so():
    result = verdict(FIGURES, None, GateSettings(), 10)
    assert result["passed"] and "first model" in result["notes"][0]
    assert {check["check"] for check in result["checks"]} == {"memory_mib", "p99_ms"}


def test_settings_come_from_the_environment_and_bad_values_name_the_variable():
    settings = GateSettings.from_env({"RETRAIN_TOLERANCE": "0.05", "RETRAIN_LATENCY_SAMPLES": "9"})
    assert settings.tolerance == 0.05 and settings.latency_samples == 9
    assert GateSettings.from_env({}) == GateSettings()
    with pytest.raises(ValueError, match="RETRAIN_P99_MS='fast' is not a number"):
        GateSettings.from_env({"RETRAIN_P99_MS": "fast"})
    with pytest.raises(ValueError, match="RETRAIN_TOLERANCE='-1' must not be negative"):
        GateSettings.from_env({"RETRAIN_TOLERANCE": "-1"})


def test_model_size_counts_the_weight_arrays():
    small = model(["a", "b"], [[0, 1], [1, 0]])
    dense = ItemItemModel(["a"] * 512, np.ones(512, np.float32),
                          np.zeros((512, 512), np.float32))
    assert model_mib(small) < 0.001 and model_mib(dense) == pytest.approx(1.0, abs=0.01)
