"""Day one on a cluster, played offline from the rendered prod overlay (issue 25): the README's
runbook (roles, Secrets, cluster facts), then Argo CD's order (the PreSync migration, the Sync
wave), each Job, initContainer and container run with exactly the command and environment the
manifests give it (tests/deploy/play.py), against a real PostgreSQL, the manifest's own `mlflow
server`, `bentoml serve` and the gateway, from an empty database and an empty registry, until
the gateway serves a listener personal recommendations; then a nightly retrain that is
rejected ends Complete with nothing promoted, and one that is accepted proposes the pin, which
the Bento then serves. Object storage is moto's S3 server; once the pin names the model's
object and digest, a new Bento replica starts and serves with MLflow stopped."""
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
from devtools.procs import REPO_ROOT, free_port, moto_server, wait_http
from tests.deploy.jobchecks import job_outcome
from tests.deploy.manifests import render
from tests.deploy.play import Cluster, argo_order, phase, pod_spec
from tests.e2e.github_stub import GitHubStub
from tests.e2e.test_retrain_loop import unrelated_set

pytestmark = pytest.mark.slow  # PostgreSQL, mlflow server, bentoml serve, uvicorn, 3 trainings
# This machine as the cluster: the pod network, the database and object storage on loopback.
PLAY_FACTS = {"PROXY_CIDR": "127.0.0.1/32", "DATABASE_CIDR": "127.0.0.1/32",
              "OBJECT_STORE_CIDR": "127.0.0.1/32"}
PASSWORDS = {"migrator_password": "m-pw", "gateway_password": "g-pw", "retrain_password": "r-pw"}
MLFLOW_PASSWORDS = {"migrator_password": "mm-pw", "server_password": "ms-pw"}
ROLES = ("playlists_retrain", "playlists_gateway", "playlists_migrator", "mlflow_migrator",
         "mlflow_server")
FRESH = 60  # new listeners before the accepted night (the CronJob asks for 50)


def rendered(tmp_path: Path, overlay: str, pin: str | None = None,
             facts: dict[str, str] | None = None) -> list[dict]:
    """The overlay rendered after the runbook's edits: the cluster facts, and a merged pin."""
    values = {**PLAY_FACTS, **(facts or {})}
    k8s = tmp_path / "k8s"
    shutil.rmtree(k8s, ignore_errors=True)
    shutil.copytree(REPO_ROOT / "k8s", k8s)
    facts = k8s / "overlays" / overlay / "cluster.env"
    facts.write_text("".join(
        f"{line.split('=')[0]}={values[line.split('=')[0]]}\n"
        if line.split("=")[0] in values else line + "\n"
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
        # boto3's credentials files: MLflow's writer and the Bento pull's reader (moto takes
        # any keys; a real store gives the reader s3:GetObject on the bucket only).
        "mlflow-object-store": {"credentials": credentials("mlflow-writer")},
        "model-object-store-reader": {"credentials": credentials("model-reader")},
    }


def credentials(user: str) -> str:
    return f"[default]\naws_access_key_id = {user}\naws_secret_access_key = {user}-secret\n"


def runbook_bucket(endpoint: str, store_uri: str) -> None:
    """Runbook step 5: the bucket MODEL_STORE_URI names (an object-store admin, once)."""
    import boto3

    boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-1",
                 aws_access_key_id="admin", aws_secret_access_key="admin-secret").create_bucket(
        Bucket=urlsplit(store_uri).netloc,
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})


class Pods:
    """The long-running containers started so far, stopped together."""

    def __init__(self, logs: Path):
        self.logs, self.running, self.named = logs, [], {}

    def start(self, cluster: Cluster, obj: dict, container: str) -> str:
        """Start it and wait for its readiness probe; its loopback base URL."""
        process = cluster.process(obj, container)
        log = self.logs / f"play-{obj['metadata']['name']}-{container}.log"
        child = process.start(log)
        self.running.append(child)
        self.named[obj["metadata"]["name"]] = child
        url = process.probe_url()
        wait_http(url, 240, child, log)
        return "http://" + urlsplit(url).netloc

    def stop(self, last: bool = False, name: str | None = None):
        chosen = [self.named[name]] if name else self.running[-1:] if last else self.running
        for child in list(chosen):
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
    store_port = free_port()
    store = moto_server(store_port, artifacts_dir / "logs" / f"play-moto-{store_port}.log")
    facts = {"OBJECT_STORE_ENDPOINT": store.url}
    objects = rendered(tmp_path, "prod", facts=facts)
    host = next(o for o in objects if o["metadata"]["name"].startswith("cluster-facts"))[
        "data"]["HOST"]
    runbook_bucket(store.url, next(o for o in objects if o["metadata"]["name"].startswith(
        "cluster-facts"))["data"]["MODEL_STORE_URI"])
    cluster = Cluster(objects, runbook_database(postgres_url), tmp_path / "volumes")
    github, pods = GitHubStub(), Pods(artifacts_dir / "logs")

    def merged(pin: str, pod: str) -> dict:
        """The pin pull request merged: Argo CD renders it, a new Bento pod (fresh emptyDirs)
        runs its initContainer; the Deployment."""
        cluster.objects = rendered(tmp_path, "prod", pin, facts)
        cluster.root = tmp_path / pod
        for obj in argo_order(cluster.objects):
            cluster.apply(obj)
        rolled = cluster.get("Deployment", "bento")
        pulled = cluster.process(rolled, "registry-pull").run()
        assert pulled.returncode == 0, pulled.stderr[-3000:]
        return rolled
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
        mlflow_url = pods.start(cluster, cluster.get("Deployment", "mlflow"), "mlflow")
        gateway_url = pods.start(cluster, cluster.get("Deployment", "gateway"), "gateway")
        bento = cluster.get("Deployment", "bento")
        waiting = cluster.process(bento, "registry-pull").run()
        assert waiting.returncode == 2, waiting.stderr[-2000:]  # no version 1 yet: retried
        assert "no MODEL_SOURCE is pinned" in waiting.stderr

        # Runbook: fill the empty database (the gateway image's importer, its own env).
        importer = cluster.process(cluster.get("Deployment", "gateway"), "gateway")
        importer.argv = ["python", "-m", "gateway.importer", str(sample_data_dir)]
        assert importer.run().returncode == 0
        listener = load_dataset(sample_data_dir).user_ids[0]
        waiting_answer = personal(gateway_url, host, listener)  # no Bento yet: a JSON 503
        assert waiting_answer.status_code == 503 and waiting_answer.json()["detail"]

        # Runbook: the first model by hand; it becomes version 1, which Git already pins by
        # number: the pull request adds its digest and object, and the pods wait for it.
        _, first = nightly(cluster, github, "retrain-first")
        assert first["decision"] == "promoted", (first["reasons"], first["checks"])
        assert first["candidate"]["registry_version"] == "1"
        [first_pin] = github.proposed_pins()
        assert first_pin.startswith("MODEL_VERSION=1\nMODEL_SHA256=") and \
            "\nMODEL_SOURCE=s3://playlist-recs-models/mlflow/" in first_pin, first_pin
        assert cluster.process(bento, "registry-pull").run().returncode == 2  # not merged yet
        bento = merged(first_pin, "volumes-first")
        pods.start(cluster, bento, "bento")
        answer = personal(gateway_url, host, listener)
        assert answer.status_code == 200 and answer.json()["strategy"] == "personalized", answer

        # A night with too few fresh listeners: rejected, the Job Complete, nothing proposed.
        _, second = nightly(cluster, github, "retrain-night-1")
        assert second["decision"] == "rejected" and github.proposed_pins() == [first_pin], second
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
        pin = github.proposed_pins()[-1]
        assert len(github.proposed_pins()) == 2 and pin.startswith(f"MODEL_VERSION={version}\n")
        assert last_retrain(gateway_url, host) == ("promoted", version)

        # The pull request merged: a new Bento pod pulls and serves it.
        pods.stop(name="bento")
        rolled = merged(pin, "volumes-rolled")
        pods.start(cluster, rolled, "bento")
        model = httpx.get(f"{gateway_url}/api/model", headers={"Host": host}, timeout=10)
        assert model.json()["registry_version"] == version, model.text

        # MLflow down: a new Bento replica still starts from the pin and object storage alone.
        pods.stop(name="mlflow")
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{mlflow_url}/health", timeout=2)
        pods.stop(name="bento")
        replica = merged(pin, "volumes-replica")
        pods.start(cluster, replica, "bento")
        answer = personal(gateway_url, host, listener)
        assert answer.status_code == 200 and answer.json()["strategy"] == "personalized", answer
        info = json.loads((tmp_path / "volumes-replica" / "bento" / "bentoml-home" /
                           "registry.json").read_text())
        pinned = read_pins_text(pin)
        assert (info["version"], info["sha256"], info["promoted_at"]) == (
            version, pinned["MODEL_SHA256"], pinned["MODEL_PROMOTED_AT"])
    finally:
        pods.stop()
        github.close()
        store.stop()
        time.sleep(0.5)
        reset(postgres_url)


def read_pins_text(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


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
