"""`python -m bento.registry pull` refuses what it cannot do before touching the store (the
real pull, against a real `mlflow server`, is in tests/e2e/test_retrain_loop.py)."""
from __future__ import annotations

import json

import pytest

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


def test_a_long_gate_report_keeps_its_decision_readable(tmp_path, monkeypatch):
    """A real MLflow store (SQLite): the gate tag of a report far over MLflow's tag size stays
    whole JSON, so pull() still reads the decision (a cut tag made it raise JSONDecodeError)."""
    from mlflow import MlflowClient

    from bento.registry import TAG_LIMIT, MlflowRegistry, NotServable

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    registry = MlflowRegistry()
    run = registry.client.create_run(registry.client.create_experiment("long", str(tmp_path)))
    registry.client.create_registered_model(registry.name)
    version = registry.client.create_model_version(registry.name, str(tmp_path),
                                                   run_id=run.info.run_id).version
    report = {"decision": "rejected", "finished_at": "2026-12-08T00:00:00Z",
              "reasons": [f"reason {i}: " + "x" * 100 for i in range(200)]}
    registry.record(version, run.info.run_id, report)
    tag = MlflowClient().get_model_version(registry.name, version).tags["gate"]
    assert len(tag) <= TAG_LIMIT and json.loads(tag)["decision"] == "rejected"
    with pytest.raises(NotServable, match="decision is rejected"):
        registry.pull(version)
