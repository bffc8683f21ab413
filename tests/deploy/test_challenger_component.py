"""The optional challenger component (k8s/components/challenger) on top of prod, rendered by
k8s/examples/prod-challenger: the same strict checks the overlays pass."""
import pytest
import yaml

from tests.deploy import crosschecks as cc
from tests.deploy.manifests import REPO, k8s_schema_errors, render
from tests.deploy.test_checkov import scan


@pytest.fixture(scope="module")
def objects():
    return render(REPO / "k8s" / "examples" / "prod-challenger")


def find(objects, kind, name):
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def test_it_renders_valid_objects_that_fit_together(objects, argocd_objects):
    assert k8s_schema_errors(objects) == []
    assert cc.selector_errors(objects) == [] and cc.port_errors(objects) == []
    readers = cc.code_readers()
    readers["bento-challenger"] = readers["bento"]  # the same image and code, another model
    assert cc.env_errors(objects, readers) == []
    project = next(o for o in argocd_objects if o["kind"] == "AppProject")
    assert cc.project_kind_errors(objects, project) == []


def test_the_gateway_splits_to_the_challenger_alias(objects):
    config = next(o for o in objects if o["kind"] == "ConfigMap"
                  and o["metadata"]["name"].startswith("gateway-config"))
    assert config["data"]["CHALLENGER_URL"] == "http://bento-challenger:3000"
    assert 0 < float(config["data"]["CHALLENGER_PERCENT"]) < 100
    challenger = find(objects, "Deployment", "bento-challenger")["spec"]["template"]["spec"]
    assert challenger["initContainers"][0]["command"][-4:-2] == ["--alias", "challenger"]
    service = find(objects, "Service", "bento-challenger")
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": "bento-challenger"}
    # the champion's Service never selects challenger pods
    assert find(objects, "Service", "bento")["spec"]["selector"] == {
        "app.kubernetes.io/name": "bento"}


def test_checkov_passes(checkov, objects, tmp_path):
    (tmp_path / "prod-challenger.yaml").write_text(yaml.safe_dump_all(objects))
    _, failed, _ = scan(checkov, "kubernetes", "-d", tmp_path)
    assert failed == []
