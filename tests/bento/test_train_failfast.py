"""What can fail at the end of a training is checked before its search (the model name, the
store, the report path, the MLflow server), through the real CLI; a failure after training keeps
the work and says where it went; with MLFLOW_TRACKING_URI set, the CLI logs its run to a real
`mlflow server`."""
from __future__ import annotations

import json

import pytest

from bento import preflight, train
from devtools.procs import free_port, mlflow_server
from tests.conftest import run_module
from tests.shapes import write_shape


@pytest.fixture(scope="module")
def two_columns(tmp_path_factory):
    return write_shape("two columns", tmp_path_factory.mktemp("two-columns"))


def train_cli(data_dir, *args, **env):
    return run_module("bento.train", "--data", str(data_dir), *args, env=env, check=False)


def stopped_before_search(result, reason: str) -> None:
    assert result.returncode == 2, result.stderr[-2000:]
    assert reason in result.stderr.strip().splitlines()[-1], result.stderr[-2000:]
    assert "choosing settings" not in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_mlflow_server_stops_the_training_before_its_search(two_columns,
                                                                           tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    result = train_cli(two_columns, BENTOML_HOME=str(tmp_path), MLFLOW_TRACKING_URI=dead)
    stopped_before_search(result, f"MLFLOW_TRACKING_URI={dead}")
    assert not (tmp_path / "models" / "playlist_recommender").exists()


def test_a_store_that_cannot_be_written_stops_the_training_before_its_search(two_columns,
                                                                             tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = train_cli(two_columns, BENTOML_HOME=str(blocker / "home"))
    stopped_before_search(result, "the model store")


@pytest.mark.parametrize("args, reason", [
    (["--model-name", "has space!"], "--model-name"),
    (["--model-name", "name:v1"], "without ':version'"),
    (["--metrics-out", "/proc/no-such-dir/metrics.json"], "--metrics-out"),
])
def test_bad_output_settings_stop_the_training_before_its_search(two_columns, tmp_path, args,
                                                                 reason):
    stopped_before_search(train_cli(two_columns, *args, BENTOML_HOME=str(tmp_path)), reason)


def test_a_store_without_room_for_the_model_is_refused(tmp_path):
    with pytest.raises(preflight.PreflightError, match="MiB free"):
        preflight.check_room(10**9, tmp_path)
    preflight.check_room(1_000, tmp_path)


def test_a_save_that_fails_after_training_keeps_the_report(two_columns, tmp_path, monkeypatch,
                                                           capsys):
    def disk_full(*_):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(train, "save_to_store", disk_full)
    monkeypatch.setattr(train.tempfile, "gettempdir", lambda: str(tmp_path))
    assert train.main(["--data", str(two_columns), "--model-name", "kept"]) == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "but saving it to the model store failed: OSError" in error, error
    assert "No space left on device" in error and "recall@10" in error
    report_path = error.rsplit("the report is in ", 1)[1]
    report = json.loads(open(report_path).read())
    assert report["model"] is None and report["metrics"]["model"]["recall@10"] > 0


@pytest.mark.slow  # starts an MLflow server
def test_the_cli_logs_its_run_to_mlflow(two_columns, tmp_path, artifacts_dir):
    server = mlflow_server(tmp_path / "mlflow", free_port(), artifacts_dir / "logs" / "mlflow.log")
    try:
        result = train_cli(two_columns, "--model-name", "tracked", BENTOML_HOME=str(tmp_path),
                           MLFLOW_TRACKING_URI=server.url)
        assert result.returncode == 0, result.stderr[-3000:]
        tag = result.stdout.strip().splitlines()[-1]
        from mlflow import MlflowClient

        client = MlflowClient(tracking_uri=server.url)
        experiment = client.get_experiment_by_name("playlist_recommender")
        (run,) = client.search_runs([experiment.experiment_id],
                                    f"tags.bento_tag = '{tag}'")
        assert run.data.params["algorithm"] and json.loads(run.data.params["params"]) is not None
        assert run.data.metrics["model/recall_at_10"] > run.data.metrics[
            "popularity/recall_at_10"]
        assert len(run.data.tags["dataset"]) == 16
        artifacts = [item.path for item in client.list_artifacts(run.info.run_id, "evaluation")]
        assert artifacts == ["evaluation/evaluation.png"]
    finally:
        server.stop()
