"""Day one of the retrain loop against a real, empty `mlflow server` (issue 25, defect 2):
Git pins MODEL_VERSION=1 before anything is trained. The CronJob's command line registers and
serves version 1; the Bento's pull waits (exit 2, retried) until then and never serves a
rejected version; a rejected night exits 0 (the Job ends Complete) with nothing promoted."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bento.promote import read_pin, read_pins
from devtools.procs import REPO_ROOT, free_port, mlflow_server, prepare_database

pytestmark = pytest.mark.slow  # an mlflow server and two trainings (~1 min)
# The CronJob's own arguments (k8s/overlays/prod/cronjob-retrain.yaml), scratch paths aside.
CRONJOB_FLAGS = ["--time-budget", "30", "--rejected-exit-code", "0"]


def run(module, *args, env):
    return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def test_first_deploy_registers_the_pinned_version_then_a_rejection_completes(
        sample_data_dir, tmp_path, artifacts_dir):
    database = f"sqlite:///{tmp_path / 'gateway.db'}"
    prepare_database(database, sample_data_dir)
    mlflow = mlflow_server(tmp_path / "mlflow", free_port(),
                           artifacts_dir / "logs" / "mlflow-first.log")
    try:
        env = {**os.environ, "DATABASE_URL": database, "MLFLOW_TRACKING_URI": mlflow.url,
               "MODEL_VERSION": "1", "BENTOML_HOME": str(tmp_path / "job-home"),
               "PYTHONPATH": str(REPO_ROOT)}
        pod = {**env, "BENTOML_HOME": str(tmp_path / "pod-home")}
        pull = ["pull", "--version", "1", "--info-out", str(tmp_path / "pod-home" / "info.json")]

        waiting = run("bento.registry", *pull, env=pod)  # the initContainer before the Job ran
        assert waiting.returncode == 2 and "not registered yet" in waiting.stderr, waiting.stderr

        pin = tmp_path / "model-version.env"
        pin.write_text("MODEL_VERSION=1\n")
        first = run("bento.retrain", "--pin-file", str(pin), "--work-dir", str(tmp_path / "r1"),
                    *CRONJOB_FLAGS, env=env)
        report = json.loads(first.stdout)
        assert first.returncode == 0 and report["decision"] == "promoted", first.stderr
        assert report["pinned_version_missing"] == "1" and report["champion"] is None
        assert report["candidate"]["registry_version"] == "1"
        # Git pinned the number; the pin now names its bytes too (a pull request with --open-pr).
        assert read_pins(pin) == report["promotion"]["pin"] and read_pin(pin) == "1"
        assert len(read_pins(pin)["MODEL_SHA256"]) == 64

        served = run("bento.registry", *pull, env=pod)  # the initContainer's next retry
        assert served.returncode == 0, served.stderr
        assert json.loads(served.stdout)["version"] == "1"

        # The next night: no listener has new likes, so there is nothing to judge: rejected,
        # registered as version 2 for the record, exit 0, pin untouched, never servable.
        second = run("bento.retrain", "--pin-file", str(pin), "--work-dir", str(tmp_path / "r2"),
                     *CRONJOB_FLAGS, env=env)
        report = json.loads(second.stdout)
        assert second.returncode == 0 and report["decision"] == "rejected", second.stderr
        assert report["champion"]["registry_version"] == "1" and "promotion" not in report
        assert report["candidate"]["registry_version"] == "2"
        assert read_pin(pin) == "1"
        refused = run("bento.registry", "pull", "--version", "2", env=pod)
        assert refused.returncode == 2 and "gate's decision is rejected" in refused.stderr
    finally:
        mlflow.stop()
