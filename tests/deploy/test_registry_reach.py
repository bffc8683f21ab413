"""No gateway pod reaches MLflow (issue 25, item 8; tests/deploy/reachchecks.py): the rule
passes on prod and on prod with the challenger, and fails on each way back to it."""
import copy

import pytest

from tests.deploy import reachchecks as rc
from tests.deploy.manifests import REPO, render
from tests.deploy.test_crosschecks import find

GATEWAY_PEER = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}}


@pytest.fixture
def prod(rendered):
    return copy.deepcopy(rendered["prod"])


def test_only_the_retrain_job_reaches_mlflow(prod):
    assert rc.registry_reach_errors(prod) == []
    assert rc.mlflow_admits(prod) == {"CronJob/retrain"}  # Bento pods read object storage


def test_the_challenger_component_adds_its_bento_only():
    objects = render(REPO / "k8s" / "examples" / "prod-challenger")
    assert rc.registry_reach_errors(objects) == []
    assert rc.mlflow_admits(objects) == {"CronJob/retrain", "Deployment/bento-challenger"}


def test_dev_has_no_registry(rendered):
    assert rc.registry_reach_errors(rendered["dev"]) == []


def ingress_from(objects):
    return find(objects, "NetworkPolicy", "mlflow")["spec"]["ingress"][0]["from"]


def test_the_gateway_admitted_to_mlflow_fails(prod):
    ingress_from(prod).append(GATEWAY_PEER)
    assert rc.registry_reach_errors(prod) == [
        "NetworkPolicy/mlflow: admits Deployment/gateway's pods to MLflow"]


@pytest.mark.parametrize("peer", [{"podSelector": {}}, {"ipBlock": {"cidr": "10.0.0.0/8"}},
                                  {"namespaceSelector": {}}])
def test_a_peer_that_may_hold_gateway_pods_fails(prod, peer):
    ingress_from(prod).append(peer)
    assert "NetworkPolicy/mlflow: admits Deployment/gateway's pods to MLflow" in \
        rc.registry_reach_errors(prod)
    assert "NetworkPolicy/mlflow: admits Job/gateway-migrate's pods to MLflow" in \
        rc.registry_reach_errors(prod)


def test_a_rule_without_peers_or_another_namespace(prod):
    find(prod, "NetworkPolicy", "mlflow")["spec"]["ingress"].append(
        {"ports": [{"protocol": "TCP", "port": 5000}]})  # from everyone
    assert "NetworkPolicy/mlflow: admits Deployment/gateway's pods to MLflow" in \
        rc.registry_reach_errors(prod)
    find(prod, "NetworkPolicy", "mlflow")["spec"]["ingress"][-1] = {"from": [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "other"}}}]}
    assert rc.registry_reach_errors(prod) == []  # other namespaces hold no gateway pod


def test_another_port_admits_nothing_of_mlflows(prod):
    find(prod, "NetworkPolicy", "mlflow")["spec"]["ingress"].append(
        {"from": [GATEWAY_PEER], "ports": [{"protocol": "TCP", "port": 9999}]})
    assert rc.registry_reach_errors(prod) == []


def test_gateway_egress_to_mlflow_and_its_address_fail(prod):
    prod.append({"kind": "NetworkPolicy", "metadata": {"name": "gateway-mlflow"}, "spec": {
        "podSelector": GATEWAY_PEER["podSelector"], "policyTypes": ["Egress"],
        "egress": [{"to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "mlflow"}}}],
                    "ports": [{"protocol": "TCP", "port": 5000}]}]}})
    config = next(o for o in prod if o["kind"] == "ConfigMap"
                  and o["metadata"]["name"].startswith("gateway-config"))
    config["data"]["MLFLOW_TRACKING_URI"] = "http://mlflow:5000"
    assert rc.registry_reach_errors(prod) == [
        "Deployment/gateway/gateway: gets MLFLOW_TRACKING_URI",
        "NetworkPolicy/gateway-mlflow: lets Deployment/gateway's pods out to MLflow"]


def test_mlflow_without_an_ingress_fence_fails(prod):
    prod[:] = [o for o in prod if not (o["kind"] == "NetworkPolicy" and o["metadata"]["name"] in
                                       ("mlflow", "default-deny"))]
    assert rc.registry_reach_errors(prod) == [
        "no NetworkPolicy fences MLflow's ingress: every pod reaches its write API"]
