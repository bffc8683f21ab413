"""The CD quality gate: a retrained model ships only if Recall@10 holds up."""
import json
import subprocess
import sys

import pytest

from tests.conftest import run_module
from tests.deploy.manifests import REPO

GATE = REPO / "scripts" / "quality_gate.py"


def metrics(tmp_path, name, recall, popularity=0.05):
    path = tmp_path / name
    path.write_text(json.dumps({"algorithm": {"recall@10": recall, "ndcg@10": recall / 2},
                                "popularity": {"recall@10": popularity}}))
    return path


def gate(*args):
    result = subprocess.run([sys.executable, str(GATE), *map(str, args)],
                            capture_output=True, text=True, timeout=60)
    return result.returncode, json.loads(result.stdout)


def test_passes_above_floor_and_production(tmp_path):
    code, verdict = gate("--candidate", metrics(tmp_path, "new.json", 0.31),
                         "--baseline", metrics(tmp_path, "prod.json", 0.30), "--floor", "0.1")
    assert code == 0 and verdict["passed"] and verdict["production"] == 0.30


def test_fails_below_production_beyond_the_tolerance(tmp_path):
    baseline = metrics(tmp_path, "prod.json", 0.30)
    new = metrics(tmp_path, "new.json", 0.28)
    assert gate("--candidate", new, "--baseline", baseline, "--tolerance", "0.03")[0] == 0
    code, verdict = gate("--candidate", new, "--baseline", baseline, "--tolerance", "0.01")
    assert code == 1 and "below production's 0.3000" in verdict["reasons"][0]


def test_fails_below_the_floor_when_there_is_no_production_model_yet(tmp_path):
    code, verdict = gate("--candidate", metrics(tmp_path, "new.json", 0.08),
                         "--baseline", tmp_path / "absent.json", "--floor", "0.1")
    assert code == 1 and "production" not in verdict
    assert verdict["reasons"] == ["recall@10 0.0800 is below the floor 0.1000"]


def test_fails_when_no_better_than_popularity(tmp_path):
    new = metrics(tmp_path, "new.json", 0.2, popularity=0.2)
    code, verdict = gate("--candidate", new)
    assert code == 1 and "does not beat the popularity" in verdict["reasons"][0]
    assert gate("--candidate", new, "--allow-below-popularity")[0] == 0


@pytest.mark.parametrize("content, reason", [
    ("{not json", "new.json:1: not JSON"),
    ('{"algorithm": {"ndcg@10": 0.2}}', "no algorithm.recall@10"),
    ('{"algorithm": {"recall@10": 1.5}}', "is not a number in 0..1"),
])
def test_unusable_metrics_exit_2_with_the_reason(tmp_path, content, reason):
    (tmp_path / "new.json").write_text(content)
    code, verdict = gate("--candidate", tmp_path / "new.json")
    assert code == 2 and reason in verdict["error"]


def test_gates_the_real_trainers_metrics_out(sample_data_dir, tmp_path):
    """The contract with bento.train: its --metrics-out file is what the gate reads."""
    out = tmp_path / "metrics.json"
    run_module("bento.train", "--data", str(sample_data_dir), "--metrics-out", str(out))
    trained = json.loads(out.read_text())
    code, verdict = gate("--candidate", out, "--baseline", out, "--floor", "0.01")
    assert code == 0, verdict
    assert verdict["candidate"] == trained["algorithm"]["recall@10"] == verdict["production"]
    worse = metrics(tmp_path, "worse.json", verdict["candidate"] / 2)
    assert gate("--candidate", worse, "--baseline", out)[0] == 1
