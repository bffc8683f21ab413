"""`history_times` through a real `bentoml serve`: weights as computed by hand, the half-life
setting that overrides the model's, and the contract for bad input."""
from __future__ import annotations

import httpx
import numpy as np
import pytest

from bento.recsys.dataio import load_dataset
from bento.recsys.model import ItemItemModel
from bento.recsys.weighting import DAY_SECONDS, recency_weights
from bento.service import RECENCY_SETTING, served_half_life
from devtools.procs import bentoml_serve, free_port, gateway_for

NOW = 1_767_000_000.0


def post(url: str, path: str, body: dict) -> httpx.Response:
    return httpx.post(url + path, json=body, timeout=10)


def test_half_life_setting_overrides_or_switches_off():
    validated = ItemItemModel(["a"], np.ones(1, np.float32),
                              signals={"recency": {"half_life_days": 30.0}})
    assert served_half_life(validated, {}) == 30.0
    assert served_half_life(validated, {RECENCY_SETTING: "2.5"}) == 2.5
    assert served_half_life(validated, {RECENCY_SETTING: "off"}) is None
    assert served_half_life(validated, {RECENCY_SETTING: "0"}) is None
    assert served_half_life(ItemItemModel(["a"], np.ones(1, np.float32)), {}) is None
    for bad in ("soon", "-3", "inf", "nan"):
        with pytest.raises(ValueError, match=RECENCY_SETTING):
            served_half_life(validated, {RECENCY_SETTING: bad})


def two_tastes(model: ItemItemModel) -> tuple[str, str]:
    """Two liked playlists whose own top-5 picks differ, so which one is recent matters."""
    order = np.argsort(-model.popularity)
    first = int(order[0])
    mine, _ = model.recommend(np.asarray([first]), 5)
    for other in order[1:].tolist():
        theirs, _ = model.recommend(np.asarray([other]), 5)
        if not set(mine.tolist()) & set(theirs.tolist()) and other not in mine:
            return model.item_ids[first], model.item_ids[other]
    raise AssertionError("no two playlists with different neighbours")


@pytest.mark.slow  # a real `bentoml serve`
def test_http_recent_likes_weigh_more_with_the_half_life_setting(bento_home, artifacts_dir,
                                                                 sample_data_dir, tmp_path):
    import bentoml

    model, _ = ItemItemModel.load(bentoml.models.get("playlist_recommender:latest").path)
    server = bentoml_serve(bento_home, free_port(), artifacts_dir / "logs" / "bento-recency.log",
                           env={RECENCY_SETTING: "2"})
    try:
        info = post(server.url, "/model_info", {}).json()
        assert info["recency_half_life_days"] == 2.0
        assert {"content", "recency"} <= set(info["signals"])
        old, new = two_tastes(model)
        history = np.asarray([model.index[old], model.index[new]])
        for times, weights in (([NOW - 4 * DAY_SECONDS, NOW], [0.25, 1.0]),
                               ([NOW, NOW - 4 * DAY_SECONDS], [1.0, 0.25]),
                               ([None, NOW], [1.0, 1.0])):  # unknown time: no discount
            body = {"history": [old, new], "history_times": times, "k": 5}
            answer = post(server.url, "/recommend", body).json()["items"]
            items, scores = model.recommend(history, 5, weights=np.asarray(weights))
            assert [item["playlist_id"] for item in answer] == [model.item_ids[i] for i in items]
            assert [item["score"] for item in answer] == pytest.approx(scores, abs=1e-5)
        recent_new = post(server.url, "/recommend", {"history": [old, new], "k": 5,
                                                     "history_times": [NOW - 30 * DAY_SECONDS,
                                                                       NOW]}).json()["items"]
        recent_old = post(server.url, "/recommend", {"history": [old, new], "k": 5,
                                                     "history_times": [NOW, NOW - 30 * DAY_SECONDS]
                                                     }).json()["items"]
        assert recent_new[0]["because"][0] == new and recent_old[0]["because"][0] == old
        mismatch = post(server.url, "/recommend", {"history": [old, new], "history_times": [NOW]})
        assert mismatch.status_code == 400 and "history_times has 1 entries for 2" in \
            mismatch.json()["detail"]
        infinite = post(server.url, "/recommend", {"history": [old], "history_times": ["inf"]})
        assert infinite.status_code == 400
        gateway_sends_like_times(server.url, model, sample_data_dir, tmp_path, artifacts_dir)
    finally:
        server.stop()


def gateway_sends_like_times(bento_url: str, model: ItemItemModel, data_dir, tmp_path,
                             artifacts_dir) -> None:
    """A real gateway over that Bento: a listener's picks are those of their likes weighted
    by when each happened (the imported times), not those of the unweighted history."""
    dataset = load_dataset(data_dir)
    listener = "u00011"
    rows = zip(dataset.user_ids, dataset.playlist_ids, dataset.timestamps)
    liked = sorted(((t, p) for u, p, t in rows if u == listener), reverse=True)  # newest first
    history = np.asarray([model.index[p] for _, p in liked])
    weighted, scores = model.recommend(history, 10, weights=recency_weights(
        np.asarray([t for t, _ in liked]), 2.0))
    plain, _ = model.recommend(history, 10)
    assert weighted.tolist() != plain.tolist()  # so the check below can fail
    gateway = gateway_for(bento_url, f"sqlite:///{tmp_path / 'gateway.db'}", data_dir,
                          artifacts_dir / "logs")
    try:
        answer = httpx.get(f"{gateway.url}/api/users/{listener}/recommendations?k=10",
                           timeout=10).json()["items"]
    finally:
        gateway.stop()
    assert [item["playlist_id"] for item in answer] == [model.item_ids[i] for i in weighted]
    assert [item["score"] for item in answer] == pytest.approx(scores, abs=1e-5)


@pytest.mark.slow
def test_http_times_change_nothing_where_recency_is_off(bento_server):
    info = post(bento_server.url, "/model_info", {}).json()
    if info["signals"]["recency"]["used"]:
        pytest.skip("this training validated recency")  # the sample's like times are random
    assert info["recency_half_life_days"] == 0.0
    popular = [item["playlist_id"] for item in
               post(bento_server.url, "/recommend", {"k": 2}).json()["items"]]
    plain = post(bento_server.url, "/recommend", {"history": popular, "k": 5}).json()
    timed = post(bento_server.url, "/recommend", {"history": popular, "k": 5,
                                                  "history_times": [NOW, NOW - 1e7]}).json()
    assert plain["items"] == timed["items"]
