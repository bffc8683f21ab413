"""The whole retrain loop for real: PostgreSQL -> gateway likes -> `python -m bento.retrain`
(the CronJob's command) -> a real `mlflow server` -> pin -> `bento.registry pull` -> a real
`bentoml serve` that recommends from the new likes; a worse candidate changes nothing. Each
night's verdict lands in the gateway's database (retrain_reports), which the gateway's Model
page shows with MLflow stopped: the gateway never asks the registry."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from bento.promote import read_pin, read_pins
from bento.recsys.dataio import load_dataset, write_dataset
from bento.recsys.model import ItemItemModel
from devtools.procs import REPO_ROOT, bentoml_serve, free_port, gateway_for, mlflow_server

pytestmark = pytest.mark.slow  # PostgreSQL, uvicorn, mlflow server, bentoml serve
NEW_LISTENERS = 30
TASTE_SIZE = 5  # the new listeners' shared likes; the fresh holdout takes 1 of 5
READER_PASSWORD = "reader-pw"


def split_by_time(data_dir: Path, out: Path, share_new: float = 0.1):
    """The sample's oldest 90% of likes as the initial database, the newest 10% to come later
    through the API (as listeners would)."""
    dataset = load_dataset(data_dir)
    rows = sorted(zip(dataset.user_ids, dataset.playlist_ids, dataset.weights,
                      dataset.timestamps), key=lambda row: row[3] or 0)
    cut = int(len(rows) * (1 - share_new))
    write_dataset(out, dataset.users, list(dataset.playlists.values()), rows[:cut])
    return out, [(user, playlist) for user, playlist, _, _ in rows[cut:]]


def database(postgres_url: str) -> tuple[str, str]:
    """A database of its own, and a login for the retrain job that reads, and records its
    verdicts (least privilege, as gateway/migrations/retrain-role.sql grants)."""
    admin = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS retrain_loop"))
        conn.execute(text("CREATE DATABASE retrain_loop"))
        conn.execute(text("DROP ROLE IF EXISTS retrain_reader"))
        conn.execute(text(f"CREATE ROLE retrain_reader LOGIN PASSWORD '{READER_PASSWORD}'"))
    admin.dispose()
    owner = postgres_url.rsplit("/", 1)[0] + "/retrain_loop"
    reader = owner.replace("postgres@", f"retrain_reader:{READER_PASSWORD}@")
    return owner, reader


def grant_read(owner_url: str) -> None:
    engine = create_engine(owner_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(text("GRANT SELECT ON ALL TABLES IN SCHEMA public TO retrain_reader"))
        conn.execute(text("GRANT INSERT ON retrain_reports TO retrain_reader"))
    engine.dispose()


def retrain(env: dict[str, str], pin: Path, work: Path, *extra: str):
    """Exactly the CronJob's command line; settings come from the environment."""
    result = subprocess.run(
        [sys.executable, "-m", "bento.retrain", "--pin-file", str(pin), "--work-dir", str(work),
         "--report", str(work / "report.json"), *extra],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900)
    report = json.loads(result.stdout)
    assert report == json.loads((work / "report.json").read_text())
    return result.returncode, report, result.stderr


def champion_version(env: dict[str, str]) -> str:
    code = ("from mlflow import MlflowClient; print(MlflowClient()"
            ".get_model_version_by_alias('playlist_recommender', 'champion').version)")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_live_likes_retrain_promote_and_serve(postgres_url, sample_data_dir, tmp_path,
                                              artifacts_dir, browser):
    logs = artifacts_dir / "logs"
    initial, later_likes = split_by_time(sample_data_dir, tmp_path / "initial")
    owner_url, reader_url = database(postgres_url)
    gateway = gateway_for("http://127.0.0.1:9", owner_url, initial, logs)  # no Bento needed
    mlflow = mlflow_server(tmp_path / "mlflow", free_port(), logs / "mlflow.log")
    servers = [gateway, mlflow]
    try:
        grant_read(owner_url)
        pin = tmp_path / "model-version.env"
        pin.write_text("MODEL_VERSION=0\n")
        env = {**os.environ, "DATABASE_URL": reader_url, "MLFLOW_TRACKING_URI": mlflow.url,
               "BENTOML_HOME": str(tmp_path / "job-home"), "PYTHONPATH": str(REPO_ROOT)}

        # 1. The first model: no champion, so it passes the comparison and says why.
        code, first, _ = retrain(env, pin, tmp_path / "run1")
        assert code == 0 and first["decision"] == "promoted", first
        assert first["champion"] is None and "no champion" in first["notes"][0]
        assert read_pin(pin) == first["candidate"]["registry_version"]
        assert read_pins(pin)["MODEL_SHA256"] == first["promotion"]["pin"]["MODEL_SHA256"]
        v1 = first["candidate"]["registry_version"]

        # 2. Listeners keep liking, through the gateway's API.
        with httpx.Client(base_url=gateway.url, timeout=10) as api:
            # Each as themselves (X-Demo-User): every listener has a write quota of their own.
            for user, playlist in later_likes:
                assert api.put(f"/api/users/{user}/likes/{playlist}",
                               headers={"X-Demo-User": user}).status_code == 200
            champion = ItemItemModel.load(
                Path(first_model_path(env, first["candidate"]["tag"])))[0]
            taste = unrelated_set(champion, TASTE_SIZE)
            for n in range(NEW_LISTENERS):
                user = api.post("/api/users", json={"id": f"new{n:03}", "name": f"New {n}"})
                assert user.status_code == 201
                # Liked within a second: the holdout breaks the tie at random, so each playlist
                # of the taste is held out for some and in the others' training.
                for playlist in taste:
                    assert api.put(f"/api/users/new{n:03}/likes/{playlist}",
                                   headers={"X-Demo-User": f"new{n:03}"}).status_code == 200

        # 3. A deliberately worse candidate is rejected: nothing promoted, pin unchanged.
        code, worse, stderr = retrain(env, pin, tmp_path / "run2", "--algorithm", "popularity")
        assert code == 3 and worse["decision"] == "rejected", stderr
        assert any(reason.startswith("recall@10") for reason in worse["reasons"])
        assert worse["champion"]["registry_version"] == v1  # scored on the same holdout
        assert worse["champion"]["evaluated_users"] >= 20
        assert read_pin(pin) == v1 and champion_version(env) == v1
        assert worse["recorded_as"] and recorded(owner_url) == [
            ("promoted", True, 0, v1), ("rejected", False, 3, worse["candidate"][
                "registry_version"])]

        # 4. The real candidate learns from the new likes and is promoted.
        code, better, stderr = retrain(env, pin, tmp_path / "run3")
        assert code == 0 and better["decision"] == "promoted", (better, stderr)
        # By more than noise: the new listeners' held-out likes are found by it, not the champion.
        assert better["candidate"]["recall@10"] > better["champion"]["recall@10"] + 0.02, better
        v3 = better["candidate"]["registry_version"]
        assert int(v3) > int(v1) and champion_version(env) == v3
        assert read_pin(pin) == v3
        assert better["snapshot"]["counts"]["users"] == first["snapshot"]["counts"]["users"] \
            + NEW_LISTENERS

        # 5. A Bento pulls the pinned version into a fresh store and serves exactly it.
        home = tmp_path / "bento-home"
        pinned = read_pins(pin)  # no MODEL_SOURCE (artifacts on disk): MLflow, digest checked
        assert "MODEL_SOURCE" not in pinned and len(pinned["MODEL_SHA256"]) == 64
        subprocess.run([sys.executable, "-m", "bento.registry", "pull", "--version",
                        pinned["MODEL_VERSION"], "--info-out", str(home / "registry.json")],
                       cwd=REPO_ROOT, env={**env, **pinned, "BENTOML_HOME": str(home)},
                       check=True, capture_output=True)
        bento = bentoml_serve(home, free_port(), logs / "bento-retrained.log",
                              env={"RECOMMENDER_REGISTRY_INFO": str(home / "registry.json"),
                                   "RECOMMENDER_MODEL": "playlist_recommender:latest"})
        servers.append(bento)
        info = httpx.post(f"{bento.url}/model_info", json={}, timeout=10).json()
        assert info["registry_version"] == v3 and info["tag"] == better["candidate"]["tag"]
        assert info["promoted_at"] == better["promotion"]["promoted_at"]
        picks = httpx.post(f"{bento.url}/recommend", json={"history": taste[:1], "k": 5},
                           timeout=10).json()["items"]
        assert picks[0]["playlist_id"] in taste[1:], (picks, taste)
        metrics = httpx.get(f"{bento.url}/metrics", timeout=10).text
        assert f'recommender_model_info{{registry_version="{v3}",' in metrics
        found = re.search(r"^recommender_model_promoted_timestamp_seconds (\S+)$", metrics,
                          re.M)
        assert found and float(found.group(1)) == datetime.fromisoformat(
            info["promoted_at"]).timestamp()

        # 6. The gateway shows the serving version and the last night's verdict, from its
        # database: the registry may be down (and no gateway pod may reach it in prod).
        mlflow.stop()
        shown = gateway_for(bento.url, owner_url, initial, logs,
                            SPA_DIR=str(REPO_ROOT / "frontend"))
        servers.append(shown)
        model = httpx.get(f"{shown.url}/api/model", timeout=10).json()
        assert model["registry_version"] == v3 and model["last_retrain"]["version"] == v3
        assert model["last_retrain"]["decision"] == "promoted"
        assert model["last_retrain"]["champion"]["registry_version"] == v1
        assert model["last_retrain"]["candidate"]["recall@10"] == better["candidate"]["recall@10"]
        page = browser.new_page()
        try:
            page.goto(f"{shown.url}/model")
            expect(page.locator(".model-version")).to_have_text(f"playlist_recommender v{v3}")
            expect(page.locator(".model-promoted")).to_have_text(
                re.compile(r"\d{4}, \d\d:\d\d \((just now|\d+ min ago)\)"))
            expect(page.locator(".retrain-verdict")).to_contain_text(f"Promoted: version {v3}")
            table = page.get_by_role("table", name="Last retrain against the serving model")
            expect(table).to_contain_text(f"serving v{v1}")
            expect(table).to_contain_text(str(better["candidate"]["recall@10"])[:5])
            page.screenshot(path=artifacts_dir / "retrain-model-page.png", full_page=True)
        finally:
            page.close()
    finally:
        for server in reversed(servers):
            server.stop()


def recorded(database_url: str) -> list[tuple]:
    """(decision, accepted, exit code, candidate version) of each recorded night, oldest first."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT decision, accepted, exit_code, candidate_version "
                                 "FROM retrain_reports ORDER BY finished_at")).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def first_model_path(env: dict[str, str], tag: str) -> str:
    code = f"import bentoml; print(bentoml.models.get({tag!r}).path)"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def unrelated_set(model: ItemItemModel, size: int) -> list[str]:
    """A fairly popular playlist A and `size - 1` playlists the champion ranks mid-list for [A]:
    a taste it would not suggest."""
    import numpy as np

    a = int(np.argsort(-model.popularity)[model.n_items // 4])
    ranked, _ = model.recommend(np.asarray([a]), model.n_items - 1)
    middle = len(ranked) // 2
    return [model.item_ids[a]] + [model.item_ids[int(i)] for i in ranked[middle:middle + size - 1]]
