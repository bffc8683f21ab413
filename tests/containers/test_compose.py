"""docker-compose.yml (and its PostgreSQL override) against the compose specification's JSON
schema and a real compose parser; the Dockerfiles against hadolint; the image scripts against
shellcheck. Each checker is also shown a broken input, to prove it can fail. A few seconds."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from scripts.images.smoke import image_env
from tests.containers.compose import COMPOSE_FILES, compose_config, docker_compose
from devtools.procs import REPO_ROOT

# CI lays shared/ beside the clone.
COMPOSE_SCHEMA = REPO_ROOT.parent / "shared" / "schemas" / "compose-spec.json"
DOCKERFILES = [REPO_ROOT / "gateway" / "Dockerfile", REPO_ROOT / "frontend" / "Dockerfile",
               REPO_ROOT / "bento" / "Dockerfile.spark",
               *sorted((REPO_ROOT / "scripts" / "images" / "standins").glob("*.Containerfile"))]
HADOLINT = Path(sys.executable).parent / "hadolint"


def schema_errors(document: dict) -> list[str]:
    if not COMPOSE_SCHEMA.is_file():
        pytest.fail(f"{COMPOSE_SCHEMA} is missing: the shared/ folder belongs beside the clone")
    validator = jsonschema.Draft7Validator(json.loads(COMPOSE_SCHEMA.read_text()))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(document)]


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_compose_files_match_the_compose_specification(path):
    assert schema_errors(yaml.safe_load(path.read_text())) == []


def test_the_schema_check_reports_a_broken_compose_file():
    document = yaml.safe_load(COMPOSE_FILES[0].read_text())
    document["services"]["gateway"]["depends_on"]["bento"]["condition"] = "service_up"
    document["services"]["frontend"]["helthcheck"] = document["services"]["frontend"].pop(
        "healthcheck")
    errors = schema_errors(document)
    assert len(errors) == 2, errors


@pytest.mark.parametrize("files", [COMPOSE_FILES[:1], COMPOSE_FILES], ids=["sqlite", "postgres"])
def test_docker_compose_parses_the_files(files):
    result = docker_compose("config", "-q", files=files)
    assert result.returncode == 0, result.stderr


def test_docker_compose_rejects_a_broken_file(tmp_path):
    broken = COMPOSE_FILES[0].read_text().replace("condition: service_healthy",
                                                  "condition: service_up", 1)
    (tmp_path / "docker-compose.yml").write_text(broken)
    result = docker_compose("config", "-q", files=[tmp_path / "docker-compose.yml"],
                            cwd=tmp_path)
    assert result.returncode != 0 and "service_up" in result.stderr


def test_only_the_frontend_publishes_a_port_and_on_loopback_by_default():
    services = compose_config()["services"]
    assert {name for name, s in services.items() if s.get("ports")} == {"frontend"}
    assert services["frontend"]["ports"] == ["127.0.0.1:8080:8080/tcp"]  # docker-compose v1 form


ONE_SHOT = {"bento-model", "migrate", "seed"}  # run to completion (bento-model: the initContainer)


def test_services_start_in_order_once_their_dependencies_are_healthy():
    """Servers wait for healthy servers; the gateway also for the migration and the dev seed
    to have run to completion (one-shot services, no healthcheck)."""
    for files, expected in ((COMPOSE_FILES[:1], {"gateway": {"bento"}, "frontend": {"gateway"}}),
                            (COMPOSE_FILES, {"gateway": {"bento", "postgres"},
                                             "frontend": {"gateway"},
                                             "migrate": {"postgres"}})):
        services = compose_config(files)["services"]
        assert all(s["healthcheck"]["test"] for name, s in services.items()
                   if name not in ONE_SHOT)
        assert services["seed"]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"}}
        assert services["migrate"]["command"] == ["alembic", "upgrade", "head"]
        for name, dependencies in expected.items():
            depends_on = services[name]["depends_on"]
            healthy = {d for d, how in depends_on.items()
                       if how["condition"] == "service_healthy"}
            assert healthy == dependencies
            one_shot = {"migrate", "seed"} if name == "gateway" else set()
            assert set(depends_on) - healthy == one_shot
            assert all(depends_on[d]["condition"] == "service_completed_successfully"
                       for d in set(depends_on) - healthy)
        assert services["bento"]["depends_on"] == {
            "bento-model": {"condition": "service_completed_successfully"}}


def test_the_bento_serves_the_model_its_one_shot_import_put_in_a_shared_volume():
    config = compose_config()
    model, bento = config["services"]["bento-model"], config["services"]["bento"]
    assert model["image"] == bento["image"] and model["network_mode"] == "none"
    [home] = [m for m in bento["volumes"] if m.startswith("bento-home:")]
    assert home in model["volumes"] and "bento-home" in config["volumes"]
    assert bento["environment"]["BENTOML_HOME"] == model["environment"]["BENTOML_HOME"] \
        == home.split(":")[1]


def test_the_gateway_database_lives_on_a_named_volume():
    config = compose_config()
    gateway = config["services"]["gateway"]
    [mount] = gateway["volumes"]
    source, target, _mode = mount.split(":")  # docker-compose v1 renders volume:path:mode
    assert source in config["volumes"]
    assert gateway["environment"]["DATABASE_URL"] == f"sqlite:///{target}/gateway.db"
    services = compose_config(COMPOSE_FILES)["services"]
    for name, role in (("migrate", "playlists_migrator:m-validation"),
                       ("seed", "playlists_gateway:g-validation"),
                       ("gateway", "playlists_gateway:g-validation")):
        assert services[name]["environment"]["DATABASE_URL"].startswith(
            f"postgresql://{role}@postgres:5432/"), name


def test_dockerfiles_start_from_the_bases_the_stand_ins_provide():
    env = image_env()
    for path, base in ((DOCKERFILES[0], env["PYTHON_BASE_IMAGE"]),
                       (DOCKERFILES[1], env["NGINX_BASE_IMAGE"])):
        froms = [line.split()[1] for line in path.read_text().splitlines()
                 if line.startswith("FROM ")]
        assert froms[-1] == base, (path, froms)
        assert set(froms) <= {env["PYTHON_BASE_IMAGE"], env["NGINX_BASE_IMAGE"]}, froms


def hadolint(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(HADOLINT), "--no-color", *map(str, paths)], capture_output=True,
                          text=True, timeout=60)


def test_hadolint_finds_nothing_in_our_dockerfiles():
    result = hadolint(*DOCKERFILES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_flags_a_careless_dockerfile(tmp_path):
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y curl\n")
    result = hadolint(careless)
    assert result.returncode != 0 and "DL3007" in result.stdout and "DL3008" in result.stdout


def test_the_image_scripts_pass_shellcheck():
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing: scripts/apt-packages.txt lists it"
    scripts = [*sorted((REPO_ROOT / "scripts" / "images").rglob("*.sh")),
               REPO_ROOT / "bento" / "spark-entrypoint.sh"]
    result = subprocess.run([shellcheck, "-x", *map(str, scripts)], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout
