"""Tag filters on /recommend: exact top-k under the mask, in-process and through `bentoml serve`."""
from __future__ import annotations

import httpx
import numpy as np
import pytest
import scipy.sparse as sp

from bento.recsys.model import ItemItemModel
from bento.tagfilter import TagIndex
from tests.bento.test_service import recommend

IDS = [f"p{i}" for i in range(8)]
CATALOGUE = {"p0": {"tags": ["jazz"]}, "p1": {"tags": ["rock"]}, "p2": {"tags": ["jazz", "live"]},
             "p3": {"tags": []}, "p4": {"tags": ["rock", "live"]}, "p5": {"tags": ["jazz"]},
             "p6": {"tags": ["pop"]}}  # p7 has no catalogue entry at all


def brute_force(model, history, k, allowed):
    scores = model.scores(np.asarray(history, dtype=np.int64))
    ranked = sorted((i for i in range(model.n_items) if allowed(i) and i not in history),
                    key=lambda i: (-scores[i], i))
    return ranked[:k]


@pytest.fixture
def model():
    rng = np.random.default_rng(3)
    weights = sp.csr_matrix(rng.random((8, 8)).astype(np.float32) * (rng.random((8, 8)) > .5))
    return ItemItemModel(IDS, rng.random(8).astype(np.float32) + .1, weights, "test")


def has(tags):
    return lambda i: bool(set(CATALOGUE.get(IDS[i], {}).get("tags", [])) & set(tags))


@pytest.mark.parametrize("tags,exclude_tags", [
    (["jazz"], []), (["jazz", "rock"], []), ([], ["live"]), (["jazz"], ["live"]),
    (["nope"], []), ([], ["nope"])])
@pytest.mark.parametrize("history", [[], [1], [0, 6]])
def test_filtered_top_k_is_the_exact_top_k_of_matching_items(model, tags, exclude_tags, history):
    index = TagIndex(IDS, CATALOGUE)
    blocked = index.blocked(tags, exclude_tags)

    def allowed(i):
        return (not tags or has(tags)(i)) and not (exclude_tags and has(exclude_tags)(i))

    for k in (1, 2, 8):
        items, _ = model.recommend(np.asarray(history, dtype=np.int64), k, blocked)
        assert items.tolist() == brute_force(model, history, k, allowed)


def test_k_items_come_back_when_k_match_even_if_they_score_nothing(model):
    # Popular-only items (no personal score) still fill the k slots once the personal ones run
    # out: 3 jazz items, asked for 3 with a history that scores none of them.
    model.weights = sp.csr_matrix((8, 8), dtype=np.float32)
    blocked = TagIndex(IDS, CATALOGUE).blocked(["jazz"], [])
    items, _ = model.recommend(np.asarray([1], dtype=np.int64), 3, blocked)
    assert sorted(IDS[i] for i in items) == ["p0", "p2", "p5"]


@pytest.fixture(scope="module")
def service(recommender):
    return recommender


def tags_of(service):
    from bento.recsys.model import ItemItemModel as Model
    _, catalogue = Model.load(service.bento_model.path)
    return {pid: set(entry["tags"]) for pid, entry in catalogue.items()}


def test_service_filters_by_tags_and_keeps_k(service):
    tags = tags_of(service)
    counts = {}
    for item_tags in tags.values():
        for tag in item_tags:
            counts[tag] = counts.get(tag, 0) + 1
    tag = max(counts, key=counts.get)  # the most common tag: more than k items carry it
    answer = recommend(service, history=[], k=10, tags=[tag])
    assert len(answer.items) == 10 and all(tag in tags[i.playlist_id] for i in answer.items)
    unfiltered = recommend(service, history=[], k=10)
    assert any(tag in tags[i.playlist_id] for i in unfiltered.items)
    without = recommend(service, history=[], k=10, exclude_tags=[tag])
    assert len(without.items) == 10 and not any(tag in tags[i.playlist_id] for i in without.items)


@pytest.mark.slow  # a real `bentoml serve`
def test_http_tag_filters(bento_server, bento_home):
    url = bento_server.url + "/recommend"
    popular = httpx.post(url, json={"k": 3}, timeout=10).json()["items"]
    history = [item["playlist_id"] for item in popular]
    everything = httpx.post(url, json={"history": history, "k": 100}, timeout=10).json()["items"]
    from bento.recsys.model import ItemItemModel as Model
    import bentoml
    _, catalogue = Model.load(bentoml.models.get("playlist_recommender:latest").path)
    tag = catalogue[everything[0]["playlist_id"]]["tags"][0]
    body = httpx.post(url, json={"history": history, "k": 5, "tags": [f" {tag.upper()}"]},
                      timeout=10).json()  # normalized like the gateway's tags
    expected = [i["playlist_id"] for i in everything
                if tag in catalogue[i["playlist_id"]]["tags"]][:5]
    assert [i["playlist_id"] for i in body["items"]] == expected
    body = httpx.post(url, json={"history": history, "k": 5, "exclude_tags": [tag]},
                      timeout=10).json()
    assert [i["playlist_id"] for i in body["items"]] == [
        i["playlist_id"] for i in everything if tag not in catalogue[i["playlist_id"]]["tags"]][:5]
    bad = httpx.post(url, json={"tags": ["a|b"]}, timeout=10)
    assert bad.status_code in (400, 422)
