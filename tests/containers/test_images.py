"""The three images, built with buildah and run with podman: the whole chain answers through the
frontend container. About 5-6 minutes on a fresh machine (stand-in bases, pip downloads), under a
minute once the layers are cached. Deselect locally with `-m "not images"`."""
from __future__ import annotations

import json

import httpx
import pytest

from scripts.images import smoke
from tests.containers.compose import compose_config
from tests.frontend.test_ui import pick_listener, recommendation_ids

pytestmark = [pytest.mark.images, pytest.mark.slow]


def test_the_spa_loads_through_the_frontend_container(stack):
    smoke.check_spa(stack)


def test_recommendations_come_from_the_model_imported_at_start(stack):
    smoke.check_recommendations(stack)


def test_a_listener_gets_recommendations_in_chromium_through_the_containers(stack, browser,
                                                                            artifacts_dir):
    """The SPA runs under the image's nginx config (CSP included) with no script errors."""
    problems: list[str] = []
    context = browser.new_context()  # its own context: the browser tests' settings stay theirs
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("console", lambda message: problems.append(f"console: {message.text}")
                if message.type == "error" else None)
        page.set_default_timeout(15_000)
        page.goto(stack.url("frontend") + "/")
        pick_listener(page, stack.url("frontend"), smoke.SAMPLE_USER)
        assert len(recommendation_ids(page)) > 0
        page.screenshot(path=str(artifacts_dir / "containers-recommendations.png"),
                        full_page=True)
    finally:
        context.close()
    assert not problems, problems


def test_each_image_healthcheck_passes(stack):
    smoke.check_healthchecks(stack)


def test_containers_run_as_their_images_non_root_users(stack):
    smoke.check_non_root(stack)
    for name in ("gateway", "frontend"):
        [image] = json.loads(stack.podman("image", "inspect", stack.images[name]))
        user = image["User"].split(":")[0]
        assert user.isdigit() and user != "0", (name, image["User"])  # numeric for runAsNonRoot
        assert image["Healthcheck"]["Test"], name


def test_the_compose_healthchecks_pass_inside_the_real_images(stack):
    """docker-compose.yml's own healthcheck commands, as its parser renders them."""
    for name, service in compose_config()["services"].items():
        if "healthcheck" not in service:   # the one-shot model import
            continue
        test = [part.replace("$$", "$") for part in service["healthcheck"]["test"]]
        kind, command = test[0], test[1:]
        if kind == "CMD-SHELL":
            command = ["sh", "-c", " ".join(command)]
        assert kind in ("CMD", "CMD-SHELL"), test
        stack.podman("exec", stack.containers[name], *command)


@pytest.mark.parametrize("name", ["bento", "gateway", "frontend"])
def test_final_stages_carry_no_build_tools(stack, name):
    probe = "for tool in gcc cc g++ make git uv; do command -v $tool && exit 1; done; exit 0"
    found = stack.podman("run", "--rm", "--network", "none", "--entrypoint", "sh",
                         stack.images[name], "-c", probe, check=False)
    assert found == "", f"{name} image has build tools: {found}"


def test_the_spark_image_runs_spark_as_its_user(built_images):
    """k8s/components/spark-retrain's image: Java, PySpark and the bento code run a Spark job,
    and the entrypoint speaks Spark on Kubernetes' `driver` command."""
    podman, _ = built_images
    checked = smoke.check_spark_image(podman, smoke.image_env()["SPARK_IMAGE"])
    assert "uid 1034: the Spark Gram equals the local one" in checked


def test_the_bento_image_carries_no_model(stack):
    """The pods serve the version imported at start; a model in the image would shadow it."""
    probe = ('test ! -e "$BENTO_PATH/models" && '
             'python -c "import bentoml; print(len(bentoml.models.list()))"')
    out = stack.podman("run", "--rm", "--network", "none", "--entrypoint", "sh",
                       stack.images["bento"], "-c", probe)
    assert out.splitlines()[-1] == "0", out


def liked_ids(base: str) -> set[str]:
    answer = httpx.get(f"{base}/api/users/{smoke.SAMPLE_USER}/likes", timeout=10)
    assert answer.status_code == 200, answer.text
    return {item["id"] for item in answer.json()["items"]}


def test_likes_survive_a_new_gateway_container_on_the_same_volume(stack):
    """The gateway's database lives on the named volume, writable by its non-root user."""
    base = stack.url("frontend")
    before = liked_ids(base)
    catalogue = httpx.get(f"{base}/api/playlists", params={"limit": 100}, timeout=10).json()
    new_like = next(p["id"] for p in catalogue["items"] if p["id"] not in before)
    liked = httpx.put(f"{base}/api/users/{smoke.SAMPLE_USER}/likes/{new_like}", timeout=10)
    assert liked.status_code == 200 and liked.json()["liked"] is True, liked.text
    stack.remove("gateway")
    stack.start_gateway()
    assert liked_ids(base) == before | {new_like}
