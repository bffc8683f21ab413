"""`python -m bento.registry pull` refuses what it cannot do before touching the store (the
real pull, against a real `mlflow server`, is in tests/e2e/test_retrain_loop.py)."""
from __future__ import annotations

from tests.conftest import run_module


def test_pull_needs_a_tracking_server(tmp_path):
    result = run_module("bento.registry", "pull", "--version", "1",
                        env={"MLFLOW_TRACKING_URI": "", "BENTOML_HOME": str(tmp_path)},
                        check=False)
    assert result.returncode == 2 and "MLFLOW_TRACKING_URI is not set" in result.stderr


def test_pull_rejects_a_version_that_is_not_a_number(tmp_path):
    result = run_module("bento.registry", "pull", "--version", "latest",
                        env={"MLFLOW_TRACKING_URI": "http://127.0.0.1:9",
                             "BENTOML_HOME": str(tmp_path)}, check=False)
    assert result.returncode == 2 and "'latest' is not a version number" in result.stderr
    assert not list(tmp_path.rglob("model.yaml"))


def test_pull_wants_exactly_one_of_version_and_alias():
    result = run_module("bento.registry", "pull", "--version", "1", "--alias", "champion",
                        check=False)
    assert result.returncode == 2 and "not allowed with argument" in result.stderr
