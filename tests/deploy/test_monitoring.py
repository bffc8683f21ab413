"""Monitoring in prod (issue 25): the ServiceMonitors scrape ports that exist and that the
scrape NetworkPolicies open to the monitoring namespace (the gateway's metrics port, never its
API port), and the alerts read only metrics this code or kube-state-metrics exports."""
import re

import pytest

from tests.deploy.crosschecks import of_kind, selects
from tests.deploy.manifests import REPO

ALERTS = {"GatewayHigh5xxRate", "GatewayP99OverBudget", "BentoNotReady", "RetrainFailed",
          "RetrainNotRunIn26Hours", "NoPromotionIn14Days", "ImpressionsWriterLagging"}
METRIC = re.compile(r"\b((?:gateway|recommender|kube)_[a-z_]+|up)\b(?=\s*[{\[)<>=!]|\s*$)")


@pytest.fixture(scope="module")
def prod(rendered):
    return rendered["prod"]


def scraped_ports(objects):
    """(pod labels, container port) each ServiceMonitor endpoint reaches."""
    found = []
    for monitor in of_kind(objects, "ServiceMonitor"):
        selector = monitor["spec"]["selector"]["matchLabels"]
        [service] = [s for s in of_kind(objects, "Service")
                     if selector.items() <= s["metadata"].get("labels", {}).items()]
        for endpoint in monitor["spec"]["endpoints"]:
            [port] = [p for p in service["spec"]["ports"] if p["name"] == endpoint["port"]]
            [deployment] = [d for d in of_kind(objects, "Deployment") if service["spec"][
                "selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()]
            containers = deployment["spec"]["template"]["spec"]["containers"]
            [number] = [p["containerPort"] for c in containers for p in c.get("ports", [])
                        if p["name"] == port["targetPort"] or p["containerPort"] ==
                        port["targetPort"]]
            found.append((deployment["spec"]["template"]["metadata"]["labels"], number))
    return found


def monitoring_open(objects, labels, port, namespace):
    for policy in of_kind(objects, "NetworkPolicy"):
        if not selects(policy, labels):
            continue
        for rule in policy["spec"].get("ingress", []):
            peers = [p.get("namespaceSelector", {}).get("matchLabels", {}).get(
                "kubernetes.io/metadata.name") for p in rule.get("from", [])]
            if namespace in peers and port in {p["port"] for p in rule.get("ports", [])}:
                return True
    return False


def test_every_scrape_target_exists_and_is_open_to_monitoring_only_there(prod):
    facts = next(o for o in prod if o["metadata"]["name"].startswith("cluster-facts"))["data"]
    targets = scraped_ports(prod)
    assert sorted(labels["app.kubernetes.io/name"] for labels, _ in targets) == [
        "bento", "gateway"]
    for labels, port in targets:
        assert monitoring_open(prod, labels, port, facts["MONITORING_NAMESPACE"]), (labels, port)
    [(gateway_labels, gateway_port)] = [t for t in targets
                                        if t[0]["app.kubernetes.io/name"] == "gateway"]
    assert gateway_port != 8000
    assert not monitoring_open(prod, gateway_labels, 8000, facts["MONITORING_NAMESPACE"])
    config = next(o for o in prod if o["metadata"]["name"].startswith("gateway-config"))
    assert config["data"]["METRICS_PORT"] == str(gateway_port)


def unknown_metrics(expr, exported):
    """The metric names `expr` reads that neither this code nor kube-state-metrics exports."""
    names = set(METRIC.findall(expr)) - {"up"}
    return sorted(name for name in names if not name.startswith("kube_")
                  and f'"{re.sub(r"_(bucket|total)$", "", name)}' not in exported)


def exported_text():
    return (REPO / "gateway" / "observability.py").read_text() + \
        (REPO / "bento" / "service.py").read_text()


def test_the_alerts_an_operator_needs_read_metrics_that_exist(prod):
    [rule] = of_kind(prod, "PrometheusRule")
    rules = [r for group in rule["spec"]["groups"] for r in group["rules"]]
    assert {r["alert"] for r in rules} == ALERTS
    for alert in rules:
        assert METRIC.findall(alert["expr"]), alert["alert"]
        assert unknown_metrics(alert["expr"], exported_text()) == [], alert["alert"]


def test_a_metric_nobody_exports_is_caught():
    assert unknown_metrics("rate(gateway_nonexistent_total[5m]) > 0 or up == 0",
                           exported_text()) == ["gateway_nonexistent_total"]
