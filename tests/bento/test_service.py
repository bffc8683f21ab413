"""The Bento service: called directly in-process, and over HTTP through a real `bentoml serve`."""
from __future__ import annotations


import httpx
import pytest

from bento.api_types import Recommendations
from tests import aio


@pytest.fixture(scope="module")
def service(recommender):
    return recommender


def recommend(service, **body) -> Recommendations:
    """/recommend called in process: its pre-serialised answer, read as the documented type."""
    return Recommendations.model_validate_json(aio.run(service.recommend(**body)).body)


def popular_ids(service, k=5) -> list[str]:
    return [item.playlist_id for item in recommend(service, history=[], k=k).items]


def test_direct_call_personalises_and_explains(service):
    history = popular_ids(service, 3)
    result = recommend(service, history=history + ["nope"], k=7)
    assert result.strategy == "personalized" and result.unknown == ["nope"]
    assert len(result.items) == 7
    assert not {item.playlist_id for item in result.items} & set(history)
    assert all(set(item.because) <= set(history) and len(item.because) <= 3
               for item in result.items)
    assert any(item.because for item in result.items)
    scores = [item.score for item in result.items]
    assert scores == sorted(scores, reverse=True)


def test_api_signatures_are_built_once_and_unchanged(service):
    """bento.service.keep_signatures: what BentoML reads per request is the signature
    inspect builds from the function itself."""
    import inspect

    from bento.service import PlaylistRecommender

    assert set(PlaylistRecommender.apis) == {"recommend", "similar", "model_info"}
    for method in PlaylistRecommender.apis.values():
        kept = method.func.__signature__
        assert inspect.signature(method.func) is kept
        del method.func.__signature__
        try:
            assert inspect.signature(method.func) == kept
        finally:
            method.func.__signature__ = kept


def test_direct_call_cold_start_and_model_info(service):
    cold = recommend(service, history=["ghost"], k=4)
    assert cold.strategy == "popular" and cold.unknown == ["ghost"] and len(cold.items) == 4
    info = aio.run(service.model_info())
    assert info.tag.startswith("playlist_recommender:") and info.counts["playlists"] == 150
    assert "recall@10" in info.metrics
    # catalogue.json, saved with the model, is what the service reports it was trained with
    assert info.catalogue["playlists"] == 150 and info.catalogue["tags"] > 5
    assert info.registry_version == "" and info.promoted_at == ""  # not pulled from MLflow


def post(server, path, body, **kwargs) -> httpx.Response:
    return httpx.post(server.url + path, json=body, timeout=10, **kwargs)


@pytest.mark.slow  # a real `bentoml serve`
def test_http_recommend_contract(bento_server):
    popular = post(bento_server, "/recommend", {"k": 3}).json()
    assert popular["strategy"] == "popular" and len(popular["items"]) == 3
    assert popular["model"].startswith("playlist_recommender:")
    history = [item["playlist_id"] for item in popular["items"]]
    exclude = [history[0]]
    response = post(bento_server, "/recommend",
                    {"history": history[1:] + ["unknown-id"], "k": 5, "exclude": exclude})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "strategy", "unknown", "model"}
    assert body["strategy"] == "personalized" and body["unknown"] == ["unknown-id"]
    returned = [item["playlist_id"] for item in body["items"]]
    assert len(returned) == 5 and not set(returned) & set(history)
    assert all(set(item) == {"playlist_id", "score", "because"} for item in body["items"])


@pytest.mark.slow  # a real `bentoml serve`
def test_http_new_listener_gets_personal_results_after_one_like(bento_server):
    items = post(bento_server, "/recommend", {"k": 10}).json()["items"]
    popular = [item["playlist_id"] for item in items]
    liked = popular[-1]
    body = post(bento_server, "/recommend", {"history": [liked], "k": 10}).json()
    assert body["strategy"] == "personalized"
    assert [i["playlist_id"] for i in body["items"]] != [p for p in popular if p != liked][:10]
    assert body["items"][0]["because"] == [liked]


@pytest.mark.slow  # a real `bentoml serve`
@pytest.mark.parametrize("body", [{"k": 0}, {"k": 101}, {"k": "ten"}, {"history": "pl0001"},
                                  {"history": [""]}, {"history": ["x" * 129]},
                                  {"history": ["bad\u0000id"]}, {"history": ["a"] * 2001},
                                  # the shared id rule (datarules): the gateway refuses these too
                                  {"history": ["../x"]}, {"history": ["   "]},
                                  {"history": ["c1\u0085"]}, {"exclude": [".."]}])
def test_http_bad_recommend_input_is_a_4xx_with_a_reason(bento_server, body):
    response = post(bento_server, "/recommend", body)
    assert 400 <= response.status_code < 500
    assert response.json()["error"]


@pytest.mark.slow  # a real `bentoml serve`
def test_http_similar_and_unknown_id(bento_server):
    seed = post(bento_server, "/recommend", {"k": 1}).json()["items"][0]["playlist_id"]
    body = post(bento_server, "/similar", {"playlist_id": seed, "k": 4}).json()
    assert body["playlist_id"] == seed and len(body["items"]) == 4
    assert seed not in {item["playlist_id"] for item in body["items"]}
    missing = post(bento_server, "/similar", {"playlist_id": "does-not-exist"})
    assert missing.status_code == 404 and "does-not-exist" in missing.text
    nearest = [item["playlist_id"] for item in body["items"]]
    without = post(bento_server, "/similar", {"playlist_id": seed, "k": 4,
                                              "exclude": nearest[:2] + ["unknown-id"]}).json()
    assert [item["playlist_id"] for item in without["items"]][:2] == nearest[2:]
    assert len(without["items"]) == 4 and not set(nearest[:2]) & {
        item["playlist_id"] for item in without["items"]}


@pytest.mark.slow  # a real `bentoml serve`
def test_http_model_info_and_builtin_endpoints(bento_server):
    info = post(bento_server, "/model_info", {}).json()
    assert info["algorithm"] and info["counts"]["playlists"] == 150 and info["trained_at"]
    for path in ("/livez", "/readyz", "/metrics"):
        assert httpx.get(bento_server.url + path, timeout=5).status_code == 200
    metrics = httpx.get(bento_server.url + "/metrics", timeout=5).text
    assert f'recommender_model_info{{registry_version="",tag="{info["tag"]}"}} 1.0' in metrics
    assert "/recommend" in httpx.get(bento_server.url + "/docs.json", timeout=5).json()["paths"]
