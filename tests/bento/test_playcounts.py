"""Play counts as confidence (bento.playcounts): on where the counts say which likes matter,
off where the same counts are shuffled across interactions."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from bento.playcounts import confident, fitted_matrix, validate_weights
from bento.recsys.stats import partition_gram
from bento.signals import Signals


def plays_data(seed=0, n_users=600, n_items=80, groups=4):
    """Each listener plays 6 playlists of their taste group often, tried 6 others once."""
    rng = np.random.default_rng(seed)
    group = np.arange(n_items) % groups
    taste = rng.integers(groups, size=n_users)
    rows, cols, plays = [], [], []
    for user in range(n_users):
        liked = rng.choice(np.flatnonzero(group == taste[user]), 6, replace=False)
        tried = rng.choice(np.flatnonzero(group != taste[user]), 6, replace=False)
        rows += [user] * 12
        cols += liked.tolist() + tried.tolist()
        plays += rng.integers(10, 60, 6).tolist() + [1] * 6
    matrix = sp.csr_matrix((np.asarray(plays, np.float32), (rows, cols)),
                           shape=(n_users, n_items))
    return matrix, [f"p{i}" for i in range(n_items)]


def test_confidence_has_mean_one_and_enters_the_gram():
    plays = sp.csr_matrix(np.array([[1, 9, 0], [0, 3, 1]], dtype=np.float32))
    weighted = confident(plays, 2.0)
    assert weighted.data.mean() == pytest.approx(1.0)
    assert weighted[0, 1] > weighted[1, 1] > weighted[0, 0]
    gram = partition_gram(weighted).toarray()
    assert gram[0, 1] == pytest.approx(weighted[0, 0] * weighted[0, 1])
    assert fitted_matrix(plays, {"used": False}).data.tolist() == [1.0] * 4


@pytest.mark.parametrize("algorithm,params", [("itemknn", {"neighbours": 30}),
                                              ("ease", {"l2": 50.0})])
def test_on_where_counts_carry_signal_off_when_shuffled(algorithm, params):
    plays, ids = plays_data()
    report = validate_weights(plays, ids, algorithm, params, 10, 0)
    assert report["used"] and report["alpha"] in (0.5, 2.0, 8.0)
    assert report["chosen"]["ndcg"] > report["without"]["ndcg"] * 1.02
    shuffled = plays.copy()
    shuffled.data = np.random.default_rng(1).permutation(shuffled.data)
    off = validate_weights(shuffled, ids, algorithm, params, 10, 0)
    assert not off["used"] and off["reason"]
    binary = plays.copy()
    binary.data[:] = 1.0
    assert validate_weights(binary, ids, algorithm, params, 10, 0)["reason"] == \
        "every interaction has the same weight"
    assert Signals({"used": False}, {"used": False}, report).metadata()["interaction_weights"]
