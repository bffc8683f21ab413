"""Day one on a cluster, played offline from the rendered prod overlay (issue 25): the README's
runbook (roles, Secrets, cluster facts), then Argo CD's order (the PreSync migration, the Sync
wave), each Job, initContainer and container run with exactly the command and environment the
manifests give it (tests/deploy/play.py), against a real PostgreSQL, the manifest's own `mlflow
server`, `bentoml serve` and the gateway, from an empty database and an empty registry, until
the gateway serves a listener personal recommendations; then a nightly retrain that is
rejected ends Complete with nothing promoted, and one that is accepted proposes the pin, which
the Bento then serves."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from bento.recsys.dataio import load_dataset
from bento.recsys.model import ItemItemModel
from devtools.procs import REPO_ROOT, wait_http
from tests.deploy.jobchecks import job_outcome
from tests.deploy.manifests import render
from tests.deploy.play import Cluster, argo_order, phase, pod_spec
from tests.e2e.github_stub import GitHubStub
from tests.e2e.test_retrain_loop import unrelated_set

pytestmark = pytest.mark.slow  # PostgreSQL, mlflow server, bentoml serve, uvicorn, 3 trainings
# This machine as the cluster: the pod network and the database are on loopback.
PLAY_FACTS = {"PROXY_CIDR": "127.0.0.1/32", "DATABASE_CIDR": "127.0.0.1/32"}
PASSWORDS = {"migrator_password": "m-pw", "gateway_password": "g-pw", "retrain_password": "r-pw"}
MLFLOW_PASSWORDS = {"migrator_password": "mm-pw", "server_password": "ms-pw"}
ROLES = ("playlists_retrain", "playlists_gateway", "playlists_migrator", "mlflow_migrator",
         "mlflow_server")
FRESH = 60  # new listeners before the accepted night (the CronJob asks for 50)


def rendered(tmp_path: Path, overlay: str, pin: str | None = None) -> list[dict]:
    """The overlay rendered after the runbook's edits: the cluster facts, and a merged pin."""
    k8s = tmp_path / "k8s"
    shutil.rmtree(k8s, ignore_errors=True)
    shutil.copytree(REPO_ROOT / "k8s", k8s)
    facts = k8s / "overlays" / overlay / "cluster.env"
    facts.write_text("".join(
        f"{line.split('=')[0]}={PLAY_FACTS[line.split('=')[0]]}\n"
        if line.split("=")[0] in PLAY_FACTS else line + "\n"
        for line in facts.read_text().splitlines()))
    if pin:
        (k8s / "overlays" / overlay / "model-version.env").write_text(pin)
    return render(k8s / "overlays" / overlay)


def psql(url: str, *args: str) -> None:
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", *args], check=True,
                   capture_output=True, text=True)


def reset(admin: str) -> None:
    psql(admin, "-c", "DROP DATABASE IF EXISTS playlists WITH (FORCE)",
         "-c", "DROP DATABASE IF EXISTS mlflow WITH (FORCE)",
         *[arg for role in ROLES for arg in ("-c", f"DROP ROLE IF EXISTS {role}")])


def runbook_database(admin: str) -> dict[str, dict[str, str]]:
    """Runbook step 5: the databases, the roles (roles.sql, retrain-role.sql, mlflow-roles.sql),
    the Secrets."""
    reset(admin)
    psql(admin, "-c", "CREATE DATABASE playlists", "-c", "CREATE DATABASE mlflow")
    server = admin.rsplit("/", 1)[0].split("@", 1)[1]
    playlists = f"postgresql://postgres@{server}/playlists"
    variables = [arg for key, value in PASSWORDS.items() for arg in ("-v", f"{key}={value}")]
    for sql in ("roles.sql", "retrain-role.sql"):
        psql(playlists, *variables, "-f", str(REPO_ROOT / "gateway" / "migrations" / sql))
    psql(f"postgresql://postgres@{server}/mlflow",
         "-f", str(REPO_ROOT / "bento" / "mlflow-roles.sql"),
         *[arg for key, value in MLFLOW_PASSWORDS.items() for arg in ("-v", f"{key}={value}")])

    def login(role: str, password: str, database: str = "playlists", driver: str = "") -> str:
        return f"postgresql{driver}://{role}:{password}@{server}/{database}"
    return {
        "gateway-database": {"DATABASE_URL": login("playlists_gateway", "g-pw")},
        "gateway-database-migrator": {"DATABASE_URL": login("playlists_migrator", "m-pw")},
        "retrain-database": {"DATABASE_URL": login("playlists_retrain", "r-pw")},
        "mlflow-database": {"MLFLOW_BACKEND_STORE_URI":
                            login("mlflow_server", "ms-pw", "mlflow", "+psycopg")},
        "mlflow-database-migrator": {"MLFLOW_BACKEND_STORE_URI":
                                     login("mlflow_migrator", "mm-pw", "mlflow", "+psycopg")},
        "retrain-github": {"token": "play-token"},
    }


class Pods:
    """The long-running containers started so far, stopped together."""

    def __init__(self, logs: Path):
        self.logs, self.running = logs, []

    def start(self, cluster: Cluster, obj: dict, container: str) -> str:
        """Start it and wait for its readiness probe; its loopback base URL."""
        process = cluster.process(obj, container)
        log = self.logs / f"play-{obj['metadata']['name']}-{container}.log"
        child = process.start(log)
        self.running.append(child)
        url = process.probe_url()
        wait_http(url, 240, child, log)
        return "http://" + urlsplit(url).netloc

    def stop(self, last: bool = False):
        for child in self.running[-1:] if last else list(self.running):
            if child.poll() is None:
                child.terminate()
                child.wait(30)
            self.running.remove(child)


def nightly(cluster: Cluster, github: GitHubStub, name: str) -> tuple[str, dict]:
    """`kubectl create job --from=cronjob/retrain NAME`: the job's pod, to its Job outcome."""
    cronjob = cluster.get("CronJob", "retrain")
    process = cluster.process(cronjob, "retrain")
    process.env["GITHUB_API_URL"] = github.url  # the one setting the play adds: GitHub is away
    result = process.run()
    written = cluster.root / "retrain" / "scratch" / "report.json"
    assert written.is_file(), (name, result.returncode, result.stderr[-3000:])
    report = json.loads(written.read_text())
    outcome = job_outcome(cronjob["spec"]["jobTemplate"]["spec"], "retrain", result.returncode)
    assert outcome == "Complete", (name, result.returncode, result.stderr[-3000:])
    return outcome, report


def served_model(root: Path) -> ItemItemModel:
    """The model the Bento pod's initContainer pulled into its store."""
    store = root / "bento" / "bentoml-home" / "models" / "playlist_recommender"
    return ItemItemModel.load(next(p for p in store.iterdir() if p.is_dir()))[0]


def personal(gateway: str, host: str, listener: str) -> httpx.Response:
    """The listener's recommendations, signed in as the ingress passes it on."""
    return httpx.get(f"{gateway}/api/me/recommendations", timeout=10,
                     headers={"Host": host, "X-Auth-Request-User": listener})


def last_retrain(gateway: str, host: str) -> tuple[str, str]:
    """The Model page's last retrain: its decision and candidate version."""
    shown = httpx.get(f"{gateway}/api/model", headers={"Host": host}, timeout=10).json()
    return shown["last_retrain"]["decision"], shown["last_retrain"]["version"]


def test_day_one_prod_from_empty_database_and_registry(postgres_url, sample_data_dir, tmp_path,
                                                       artifacts_dir):
    objects = rendered(tmp_path, "prod")
    host = next(o for o in objects if o["metadata"]["name"].startswith("cluster-facts"))[
        "data"]["HOST"]
    cluster = Cluster(objects, runbook_database(postgres_url), tmp_path / "volumes")
    github, pods = GitHubStub(), Pods(artifacts_dir / "logs")
    try:
        # Argo CD, PreSync: the hooks in wave order; the migration Job must complete.
        ordered = argo_order(objects)
        for obj in (o for o in ordered if phase(o) == "PreSync"):
            cluster.apply(obj)
            if obj["kind"] == "Job":
                for container in pod_spec(obj)["containers"]:
                    done = cluster.process(obj, container["name"]).run()
                    assert done.returncode == 0, done.stderr[-3000:]
        # Sync: everything else, then the pods start.
        for obj in (o for o in ordered if phase(o) == "Sync"):
            cluster.apply(obj)
        pods.start(cluster, cluster.get("Deployment", "mlflow"), "mlflow")
        gateway_url = pods.start(cluster, cluster.get("Deployment", "gateway"), "gateway")
        bento = cluster.get("Deployment", "bento")
        waiting = cluster.process(bento, "registry-pull").run()
        assert waiting.returncode == 2, waiting.stderr[-2000:]  # no version 1 yet: retried

        # Runbook: fill the empty database (the gateway image's importer, its own env).
        importer = cluster.process(cluster.get("Deployment", "gateway"), "gateway")
        importer.argv = ["python", "-m", "gateway.importer", str(sample_data_dir)]
        assert importer.run().returncode == 0
        listener = load_dataset(sample_data_dir).user_ids[0]
        waiting_answer = personal(gateway_url, host, listener)  # no Bento yet: a JSON 503
        assert waiting_answer.status_code == 503 and waiting_answer.json()["detail"]

        # Runbook: the first model by hand; it becomes version 1, which Git already pins.
        _, first = nightly(cluster, github, "retrain-first")
        assert first["decision"] == "promoted", (first["reasons"], first["checks"])
        assert first["candidate"]["registry_version"] == "1"
        assert github.calls == []  # nothing to propose: the pin is already 1
        assert cluster.process(bento, "registry-pull").run().returncode == 0
        pods.start(cluster, bento, "bento")
        answer = personal(gateway_url, host, listener)
        assert answer.status_code == 200 and answer.json()["strategy"] == "personalized", answer

        # A night with too few fresh listeners: rejected, the Job Complete, nothing proposed.
        _, second = nightly(cluster, github, "retrain-night-1")
        assert second["decision"] == "rejected" and github.calls == [], second
        assert last_retrain(gateway_url, host) == ("rejected", second["candidate"][
            "registry_version"])  # the retrain role's row, read by the gateway

        # Listeners arrive and like; the next night is accepted and proposes its version.
        with httpx.Client(base_url=gateway_url, headers={"Host": host}, timeout=10) as api:
            liked = unrelated_set(served_model(cluster.root), 5)  # a taste the champion lacks
            for n in range(FRESH):
                for playlist in liked:
                    assert api.put(f"/api/me/likes/{playlist}",
                                   headers={"X-Auth-Request-User": f"fresh{n:03}"}
                                   ).status_code == 200
        _, third = nightly(cluster, github, "retrain-night-2")
        version = third["candidate"]["registry_version"]
        assert third["decision"] == "promoted", (third["reasons"], third["checks"])
        assert github.proposed_pins() == [f"MODEL_VERSION={version}\n"]
        assert last_retrain(gateway_url, host) == ("promoted", version)

        # The pull request merged: Argo CD renders the new pin, a new Bento pod pulls and serves it.
        pods.stop(last=True)
        cluster.objects = rendered(tmp_path, "prod", github.proposed_pins()[0])
        cluster.root = tmp_path / "volumes-rolled"  # a new pod: fresh emptyDirs
        for obj in argo_order(cluster.objects):
            cluster.apply(obj)
        rolled = cluster.get("Deployment", "bento")
        assert cluster.process(rolled, "registry-pull").run().returncode == 0
        pods.start(cluster, rolled, "bento")
        model = httpx.get(f"{gateway_url}/api/model", headers={"Host": host}, timeout=10)
        assert model.json()["registry_version"] == version, model.text
    finally:
        pods.stop()
        github.close()
        time.sleep(0.5)
        reset(postgres_url)


def test_day_one_dev_runs_on_its_own(tmp_path, artifacts_dir):
    """The dev overlay needs nothing outside it: its pods migrate and seed SQLite, train a
    seeded model and serve it (no Secret, no registry); a listener gets personal picks."""
    objects = rendered(tmp_path, "dev")
    cluster = Cluster(objects, {}, tmp_path / "volumes")
    # The gateway image's build made the sample (gateway/Dockerfile, `sample-data` stage).
    sample = tmp_path / "image-sample"
    subprocess.run([sys.executable, "-m", "bento.datagen", "--out", str(sample), "--seed", "0"],
                   cwd=REPO_ROOT, check=True, capture_output=True)
    cluster.built = {"/app/data/sample": sample}
    pods = Pods(artifacts_dir / "logs")
    try:
        assert not any(phase(o) != "Sync" for o in objects)  # no hooks: nothing to wait for
        for obj in argo_order(objects):
            cluster.apply(obj)
        for name in ("bento", "gateway"):
            deployment = cluster.get("Deployment", name)
            for init in pod_spec(deployment).get("initContainers", []):
                done = cluster.process(deployment, init["name"]).run()
                assert done.returncode == 0, (name, init["name"], done.stderr[-3000:])
            gateway_url = pods.start(cluster, deployment, name)
        listener = load_dataset(sample).user_ids[0]
        answer = httpx.get(f"{gateway_url}/api/me/recommendations", timeout=10,
                           headers={"X-Demo-User": listener})
        assert answer.status_code == 200 and answer.json()["strategy"] == "personalized", answer
    finally:
        pods.stop()
