"""`python -m bento.registry pull` of a pin with a digest (issue 25): straight from object
storage (moto's real S3 server on loopback), no MLflow, and nothing imported unless the bytes
have the pinned sha256."""
from __future__ import annotations

import json

import pytest

from bento.objectstore import sha256_of
from devtools.procs import free_port, moto_server, s3_env
from tests.conftest import run_module

BUCKET, KEY = "models", "mlflow/1/abc/artifacts/bentomodel/playlist_recommender.bentomodel"


@pytest.fixture(scope="module")
def stored(bento_home, tmp_path_factory, artifacts_dir):
    """A real .bentomodel export in a moto S3 bucket; the reader's env and the file's sha256."""
    import bentoml
    import boto3

    scratch = tmp_path_factory.mktemp("pin")
    exported = bentoml.models.export_model("playlist_recommender:latest",
                                           str(scratch / "playlist_recommender"))
    port = free_port()
    server = moto_server(port, artifacts_dir / "logs" / f"moto-{port}.log")
    env = s3_env(server.url, scratch / "credentials")
    s3 = boto3.client("s3", endpoint_url=server.url, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test-secret")
    s3.create_bucket(Bucket=BUCKET)
    s3.upload_file(exported, BUCKET, KEY)
    yield env, sha256_of(exported)
    server.stop()


def pull(env, home, scratch, sha256, source=f"s3://{BUCKET}/{KEY}"):
    scratch.mkdir(exist_ok=True)
    return run_module("bento.registry", "pull", "--version", "1", "--info-out",
                      str(home / "registry.json"), check=False,
                      env={**env, "MLFLOW_TRACKING_URI": "", "BENTOML_HOME": str(home),
                           "TMPDIR": str(scratch), "MODEL_VERSION": "1",
                           "MODEL_SOURCE": source, "MODEL_SHA256": sha256,
                           "MODEL_PROMOTED_AT": "2026-12-01T03:00:00+00:00"})


def test_a_wrong_digest_is_refused_and_nothing_imported(stored, tmp_path):
    env, digest = stored
    wrong = ("0" if digest[0] != "0" else "1") + digest[1:]
    result = pull(env, tmp_path / "home", tmp_path / "scratch", wrong)
    assert result.returncode == 1, result.stderr
    assert f"is not the pinned MODEL_SHA256 {wrong}: refusing to import it" in result.stderr
    assert not list((tmp_path / "home").rglob("model.yaml"))
    assert not (tmp_path / "home" / "registry.json").exists()
    assert not list((tmp_path / "scratch").iterdir())  # the download is gone too


def test_the_pinned_digest_imports_without_mlflow(stored, tmp_path):
    env, digest = stored
    for _ in range(2):  # a retried initContainer in the same pod imports it once
        result = pull(env, tmp_path / "home", tmp_path / "scratch", digest.upper())
        assert result.returncode == 0, result.stderr
    [model] = list((tmp_path / "home").rglob("model.yaml"))
    info = json.loads((tmp_path / "home" / "registry.json").read_text())
    assert info["version"] == "1" and info["sha256"] == digest
    assert info["promoted_at"] == "2026-12-01T03:00:00+00:00"  # the Bento's promotion metric
    assert info["tag"].startswith("playlist_recommender:") and info["tag"].split(":")[1] in str(
        model)


@pytest.mark.parametrize("sha256, code, message", [
    ("", 2, "MODEL_SHA256 '' is not a sha256 hex digest"),
    ("not-hex", 2, "is not a sha256 hex digest: refusing an unverified object"),
])
def test_a_source_without_a_valid_digest_is_refused(stored, tmp_path, sha256, code, message):
    env, _ = stored
    result = pull(env, tmp_path / "home", tmp_path / "scratch", sha256)
    assert result.returncode == code and message in result.stderr, result.stderr
    assert not list((tmp_path / "home").rglob("model.yaml"))


def test_a_missing_object_is_a_clear_error(stored, tmp_path):
    env, digest = stored
    result = pull(env, tmp_path / "home", tmp_path / "scratch", digest,
                  source=f"s3://{BUCKET}/nothing/here.bentomodel")
    assert result.returncode == 1 and f"cannot read s3://{BUCKET}/nothing" in result.stderr
