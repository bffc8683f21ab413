"""Promotion through Git: the pin file, and the pull request over a fake GitHub transport
(the REST calls are real code; only the network is faked here)."""
from __future__ import annotations

import base64
import json

import httpx
import pytest

from bento.promote import (PIN_PATH, PromotionError, open_pull_request, read_pin, read_pins,
                           write_pin)

ENV = {"GITHUB_REPOSITORY": "acme/recs", "GITHUB_TOKEN": "t0ken", "GITHUB_BASE_BRANCH": "main"}


def test_pin_file_round_trip_and_atomic_replace(tmp_path):
    pin = tmp_path / "prod" / "model-version.env"
    assert read_pin(pin) is None
    write_pin(pin, "4")
    write_pin(pin, "5")
    assert pin.read_text() == "MODEL_VERSION=5\n" and read_pin(pin) == "5"
    assert [p.name for p in pin.parent.iterdir()] == ["model-version.env"]  # no temp files left


def test_the_pin_carries_the_artifacts_digest_and_object(tmp_path):
    pin = tmp_path / "model-version.env"
    full = {"MODEL_VERSION": "6", "MODEL_SHA256": "ab" * 32,
            "MODEL_SOURCE": "s3://models/mlflow/1/r/artifacts/bentomodel/m.bentomodel",
            "MODEL_PROMOTED_AT": "2026-12-01T03:00:00+00:00"}
    write_pin(pin, dict(reversed(full.items())))
    assert pin.read_text() == "".join(f"{key}={value}\n" for key, value in full.items())
    assert read_pins(pin) == full and read_pin(pin) == "6"


class FakeGitHub:
    def __init__(self, pin_exists=True, fail=None):
        self.calls, self.pin_exists, self.fail = [], pin_exists, fail

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.calls.append((request.method, request.url.path, body, request.headers))
        route = (request.method, request.url.path)
        if self.fail == route:
            return httpx.Response(422, json={"message": "Reference already exists"})
        if route == ("GET", "/repos/acme/recs/git/ref/heads/main"):
            return httpx.Response(200, json={"object": {"sha": "abc123"}})
        if route == ("POST", "/repos/acme/recs/git/refs"):
            return httpx.Response(201, json={})
        if route == ("GET", f"/repos/acme/recs/contents/{PIN_PATH}"):
            if not self.pin_exists:
                return httpx.Response(404, json={"message": "Not Found"})
            return httpx.Response(200, json={"sha": "oldblob"})
        if route == ("PUT", f"/repos/acme/recs/contents/{PIN_PATH}"):
            return httpx.Response(200, json={})
        if route == ("POST", "/repos/acme/recs/pulls"):
            return httpx.Response(201, json={"html_url": "https://github.com/acme/recs/pull/9"})
        return httpx.Response(500, json={"message": f"unexpected {route}"})


def test_open_pr_branches_changes_only_the_pin_and_opens_the_pull_request():
    github = FakeGitHub()
    url = open_pull_request("12", {"decision": "promoted"}, ENV, httpx.MockTransport(github))
    assert url == "https://github.com/acme/recs/pull/9"
    methods = [(method, path.rsplit("/", 1)[-1]) for method, path, _, _ in github.calls]
    assert methods == [("GET", "main"), ("POST", "refs"), ("GET", "model-version.env"),
                       ("PUT", "model-version.env"), ("POST", "pulls")]
    _, _, branch, headers = github.calls[1]
    assert branch == {"ref": "refs/heads/model-version-12", "sha": "abc123"}
    assert headers["authorization"] == "Bearer t0ken"
    change = github.calls[3][2]
    assert base64.b64decode(change["content"]).decode() == "MODEL_VERSION=12\n"
    assert change["sha"] == "oldblob" and change["branch"] == "model-version-12"
    pull = github.calls[4][2]
    assert pull["head"] == "model-version-12" and pull["base"] == "main"
    assert '"decision": "promoted"' in pull["body"]


def test_a_missing_pin_file_is_created():
    github = FakeGitHub(pin_exists=False)
    open_pull_request("1", {}, ENV, httpx.MockTransport(github))
    assert "sha" not in github.calls[3][2]


def test_github_refusals_and_missing_settings_are_promotion_errors(tmp_path):
    refused = FakeGitHub(fail=("POST", "/repos/acme/recs/git/refs"))
    with pytest.raises(PromotionError, match="422 .*Reference already exists"):
        open_pull_request("3", {}, ENV, httpx.MockTransport(refused))
    assert [call[0] for call in refused.calls] == ["GET", "POST"]  # stopped there
    with pytest.raises(PromotionError, match="GITHUB_REPOSITORY"):
        open_pull_request("3", {}, {"GITHUB_TOKEN": "x"})
    with pytest.raises(PromotionError, match="GITHUB_TOKEN or GITHUB_TOKEN_FILE"):
        open_pull_request("3", {}, {"GITHUB_REPOSITORY": "acme/recs"})
    with pytest.raises(PromotionError, match="not owner/name"):
        open_pull_request("3", {}, {"GITHUB_REPOSITORY": "recs", "GITHUB_TOKEN": "x"})


def test_the_token_can_come_from_a_mounted_file(tmp_path):
    (tmp_path / "token").write_text("from-file\n")
    github = FakeGitHub()
    open_pull_request("2", {}, {"GITHUB_REPOSITORY": "acme/recs",
                                "GITHUB_TOKEN_FILE": str(tmp_path / "token")},
                      httpx.MockTransport(github))
    assert github.calls[0][3]["authorization"] == "Bearer from-file"
