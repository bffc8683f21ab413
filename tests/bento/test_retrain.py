"""`python -m bento.retrain` without MLflow (the embedded default: the local BentoML store),
its exit codes for bad input and outages, and its verdict row in the gateway's database, which
never changes them."""
from __future__ import annotations

import json

import pytest

from sqlalchemy import create_engine

from devtools.procs import migrate_database, prepare_database, run_tool
from gateway.retrain_report import latest
from tests.conftest import run_module


def database(tmp_path, data_dir=None) -> str:
    """A migrated database, holding `data_dir` when given (as `make run` prepares one)."""
    url = f"sqlite:///{tmp_path}/gateway.db"
    if data_dir is None:
        migrate_database(url)
    else:
        prepare_database(url, data_dir)
    return url


def retrain(tmp_path, *args, **env):
    env = {"BENTOML_HOME": str(tmp_path / "home"), "MLFLOW_TRACKING_URI": "", **env}
    result = run_module("bento.retrain", *args, env=env, check=False)
    return result.returncode, json.loads(result.stdout or "{}"), result.stderr


def test_bad_settings_and_an_empty_database_are_bad_input(tmp_path):
    url = database(tmp_path)
    code, _, stderr = retrain(tmp_path, "--database-url", url, RETRAIN_P99_MS="soon")
    assert code == 2 and "RETRAIN_P99_MS='soon' is not a number" in stderr
    code, report, _ = retrain(tmp_path, "--database-url", url, "--report",
                              str(tmp_path / "r.json"))
    assert code == 2 and report["decision"] == "error" and "no interactions" in report["error"]
    assert json.loads((tmp_path / "r.json").read_text()) == report
    assert not list((tmp_path / "home").rglob("model.yaml"))  # nothing saved
    assert report["recorded_as"] and "record_error" not in report
    shown = last_retrain(url)  # the failed night, as the Model page shows it
    assert (shown["decision"], shown["exit_code"], shown["version"]) == ("error", 2, None)
    assert "no interactions" in shown["error"]


def last_retrain(database_url: str) -> dict | None:
    engine = create_engine(database_url)
    try:
        return latest(engine)
    finally:
        engine.dispose()


def test_a_database_refusing_the_verdict_changes_no_exit_code(tmp_path):
    """A schema before retrain_reports (0004): the row is refused, the outcome stays."""
    url = f"sqlite:///{tmp_path}/gateway.db"
    run_tool("alembic", "upgrade", "0004_impressions_per_answer", env={"DATABASE_URL": url})
    code, report, stderr = retrain(tmp_path, "--database-url", url)
    assert code == 2 and "no interactions" in report["error"]
    assert report["recorded_as"] is None and "no such table" in report["record_error"]
    assert "the verdict was not recorded in the database" in stderr


def test_the_search_options_pass_through_to_the_trainer():
    from bento.retrain import parse_args

    args = parse_args(["--database-url", "sqlite://", "--time-budget", "1800",
                       "--recency-half-life-days", "off"])
    assert (args.time_budget, args.recency_half_life_days) == (1800, False)
    defaults = parse_args(["--database-url", "sqlite://"])
    assert (defaults.time_budget, defaults.recency_half_life_days) == (0, None)


def test_an_unreachable_database_is_a_failure_not_bad_input(tmp_path):
    code, report, _ = retrain(tmp_path, "--database-url", "postgresql://nobody@127.0.0.1:9/x")
    assert code == 1 and report["decision"] == "error" and "OperationalError" in report["error"]
    assert report["recorded_as"] is None and "OperationalError" in report["record_error"]


@pytest.mark.slow  # trains twice
def test_local_store_first_model_promoted_worse_candidate_removed(tmp_path, sample_data_dir):
    url = database(tmp_path, sample_data_dir)
    code, first, _ = retrain(tmp_path, "--database-url", url)
    assert code == 0 and first["decision"] == "promoted" and first["champion"] is None
    assert first["candidate"]["registry_version"] is None
    code, second, _ = retrain(tmp_path, "--database-url", url, "--algorithm", "popularity")
    assert code == 3 and second["decision"] == "rejected"
    assert second["champion"]["tag"] == first["candidate"]["tag"]
    listed = run_module("bentoml", "models", "list", "-o", "json",
                        env={"BENTOML_HOME": str(tmp_path / "home")}).stdout
    assert [model["tag"] for model in json.loads(listed)] == [first["candidate"]["tag"]]
