"""Cluster facts are set once per overlay, in its cluster.env (issue 25, defect 6)."""
import re
import shutil

import pytest

from tests.deploy.crosschecks import env_values, of_kind
from tests.deploy.manifests import OVERLAYS, REPO, min_kubectl, render
from tests.deploy.registrychecks import registry_pull, resolved_env

CIDR = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}/\d{1,2}\b")
# Not facts of a cluster: "anywhere" and the private and link-local ranges it excepts.
UNIVERSAL = {"0.0.0.0/0", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"}
FACT_FILES = {"cluster.env"}
OTHER_CLUSTER = {"DATABASE_CIDR": "192.168.50.0/24", "PROXY_CIDR": "192.168.128.0/17",
                 "MONITORING_NAMESPACE": "observability", "HOST": "recs.other.example",
                 "CLUSTER_ISSUER": "internal-ca", "OIDC_ISSUER_URL": "https://id.other.example/",
                 "OBJECT_STORE_CIDR": "192.168.60.0/24", "MODEL_STORE_URI": "s3://other/models",
                 "OBJECT_STORE_ENDPOINT": "https://minio.other.example"}


def literal_cidrs(root):
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name not in FACT_FILES:
            for number, line in enumerate(path.read_text().splitlines(), 1):
                found += [f"{path.relative_to(root)}:{number}: {cidr}"
                          for cidr in CIDR.findall(line.split("#")[0])
                          if cidr not in UNIVERSAL]
    return found


def test_no_cidr_literal_outside_the_cluster_facts():
    assert literal_cidrs(REPO / "k8s") == []
    assert literal_cidrs(REPO / "argocd") == []


def test_a_cidr_literal_in_a_manifest_is_found(tmp_path):
    shutil.copytree(REPO / "k8s", tmp_path / "k8s")
    policy = tmp_path / "k8s" / "overlays" / "prod" / "networkpolicy-mlflow.yaml"
    policy.write_text(policy.read_text().replace("cidr: CLUSTER_FACT", "cidr: 10.20.0.0/24", 1))
    [found] = literal_cidrs(tmp_path / "k8s")
    assert found.startswith("overlays/prod/networkpolicy-mlflow.yaml:") and "10.20.0.0/24" in found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_placeholder_is_filled(rendered, overlay):
    assert "CLUSTER_FACT" not in str(rendered[overlay])


def database_egress(objects):
    return {p["metadata"]["name"]: rule["to"][0]["ipBlock"]["cidr"]
            for p in of_kind(objects, "NetworkPolicy") for rule in p["spec"].get("egress", [])
            if any(port.get("port") == 5432 for port in rule.get("ports", []))}


@pytest.mark.parametrize("kubectl", ["newest", "oldest"])
def test_one_edit_of_cluster_env_moves_every_object(tmp_path, kubectl):
    binary = None if kubectl == "newest" else min_kubectl()
    if kubectl == "oldest" and binary is None:
        pytest.skip("no kubectl with the oldest supported kustomize")
    shutil.copytree(REPO / "k8s", tmp_path / "k8s")
    facts = tmp_path / "k8s" / "overlays" / "prod" / "cluster.env"
    text = facts.read_text()
    for key, value in OTHER_CLUSTER.items():
        text = re.sub(rf"^{key}=.*$", f"{key}={value}", text, flags=re.M)
    facts.write_text(text)
    objects = render(tmp_path / "k8s" / "overlays" / "prod", binary)
    assert set(database_egress(objects).values()) == {OTHER_CLUSTER["DATABASE_CIDR"]}
    assert set(database_egress(objects)) == {"gateway-database", "gateway-migrate", "mlflow",
                                             "mlflow-migrate",
                                             "retrain"}
    gateway = next(d for d in of_kind(objects, "Deployment") if d["metadata"]["name"] == "gateway")
    container = gateway["spec"]["template"]["spec"]["containers"][0]
    config_maps = {c["metadata"]["name"]: c["data"] for c in of_kind(objects, "ConfigMap")}
    env = {name: config_maps[ref["configMapKeyRef"]["name"]][ref["configMapKeyRef"]["key"]]
           if isinstance(ref, dict) else ref
           for name, ref in env_values(container, objects).items()
           if not isinstance(ref, dict) or "configMapKeyRef" in ref}
    assert env["AUTH_TRUSTED_PROXIES"] == OTHER_CLUSTER["PROXY_CIDR"]
    https = {p["metadata"]["name"]: rule["to"][0]["ipBlock"]["cidr"]
             for p in of_kind(objects, "NetworkPolicy") for rule in p["spec"].get("egress", [])
             if any(port.get("port") == 443 for port in rule.get("ports", []))
             and rule["to"][0].get("ipBlock", {}).get("cidr") not in (None, "0.0.0.0/0")}
    assert https == {"mlflow": OTHER_CLUSTER["OBJECT_STORE_CIDR"],
                     "bento-object-store": OTHER_CLUSTER["OBJECT_STORE_CIDR"]}
    _, pull = registry_pull(objects)
    mlflow = next(d for d in of_kind(objects, "Deployment") if d["metadata"]["name"] == "mlflow")
    assert resolved_env(pull, objects)["AWS_ENDPOINT_URL"] == OTHER_CLUSTER[
        "OBJECT_STORE_ENDPOINT"]
    assert resolved_env(mlflow["spec"]["template"]["spec"]["containers"][0], objects)[
        "MLFLOW_ARTIFACTS_DESTINATION"] == OTHER_CLUSTER["MODEL_STORE_URI"]
    assert env["ALLOWED_HOSTS"] == OTHER_CLUSTER["HOST"]
    for ingress in of_kind(objects, "Ingress"):
        assert ingress["spec"]["rules"][0]["host"] == OTHER_CLUSTER["HOST"]
        assert ingress["spec"]["tls"][0]["hosts"] == [OTHER_CLUSTER["HOST"]]
        assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == \
            OTHER_CLUSTER["CLUSTER_ISSUER"]
    scrape = next(p for p in of_kind(objects, "NetworkPolicy")
                  if p["metadata"]["name"] == "allow-metrics-scrape")
    assert scrape["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": OTHER_CLUSTER["MONITORING_NAMESPACE"]}
    proxy = next(d for d in of_kind(objects, "Deployment")
                 if d["metadata"]["name"] == "oauth2-proxy")
    proxy_env = {e["name"]: e.get("value")
                 for e in proxy["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert proxy_env["OAUTH2_PROXY_REDIRECT_URL"] == "https://recs.other.example/oauth2/callback"
    assert proxy_env["OAUTH2_PROXY_OIDC_ISSUER_URL"] == OTHER_CLUSTER["OIDC_ISSUER_URL"]
