"""Who may reach the model registry (issue 25, item 8): MLflow's write API has no
authentication, so no pod running the gateway's image may reach it, neither admitted by a
NetworkPolicy over MLflow's pods nor let out to them by one over its own. The gateway reads the
last retrain's verdict from its database (retrain_reports) instead."""
from tests.deploy.crosschecks import env_names, matches, of_kind, selects
from tests.deploy.manifests import name_of

MLFLOW_PORT = 5000
GATEWAY_IMAGE = "playlist-recs-gateway"
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")


def pod_template(workload):
    spec = workload["spec"]
    return spec.get("jobTemplate", {}).get("spec", spec)["template"]


def workload_pods(objects):
    """(Kind/name, pod labels, containers) of every workload."""
    pods = []
    for workload in (o for o in objects if o.get("kind") in WORKLOADS):
        template = pod_template(workload)
        pods.append((name_of(workload), template["metadata"].get("labels", {}),
                     [*(template["spec"].get("initContainers") or []),
                      *template["spec"]["containers"]]))
    return pods


def covers(rule, port):
    """Does a rule apply to this port (no ports: every port; a named port may be it)?"""
    ports = rule.get("ports") or [{}]
    return any(p.get("port") in (None, port) or isinstance(p.get("port"), str) for p in ports)


def peer_holds(peer, labels, namespace):
    """May this peer be a pod of ours with these labels? An ipBlock may hold pod addresses."""
    if "ipBlock" in peer:
        return True
    if "namespaceSelector" in peer:
        named = peer["namespaceSelector"].get("matchLabels", {}).get("kubernetes.io/metadata.name")
        if named is not None and named != namespace:
            return False
    return "podSelector" not in peer or matches(peer["podSelector"], labels)


def reaches(policies, rules_key, peers_key, target_labels, peer_labels, namespace):
    """The policies selecting `target_labels` whose `rules_key` rules let `peer_labels` through
    on MLflow's port."""
    return [name_of(p) for p in policies if selects(p, target_labels)
            for rule in p["spec"].get(rules_key) or [] if covers(rule, MLFLOW_PORT)
            and (not rule.get(peers_key) or any(peer_holds(peer, peer_labels, namespace)
                                                for peer in rule[peers_key]))]


def registry(objects):
    """MLflow's pod labels (None without an MLflow), the policies and their namespace."""
    mlflow = next((labels for name, labels, _ in workload_pods(objects)
                   if name == "Deployment/mlflow"), None)
    policies = of_kind(objects, "NetworkPolicy")
    return mlflow, policies, next((p["metadata"].get("namespace") for p in policies), None)


def mlflow_admits(objects):
    """Kind/name of each workload whose pods a policy over MLflow's pods admits on 5000."""
    mlflow, policies, namespace = registry(objects)
    return {name for name, labels, _ in workload_pods(objects) if name != "Deployment/mlflow"
            and reaches(policies, "ingress", "from", mlflow, labels, namespace)}


def registry_reach_errors(objects):
    """No gateway-image pod reaches MLflow, from either end, or is told where it is; MLflow's
    ingress is fenced."""
    mlflow, policies, namespace = registry(objects)
    if mlflow is None:
        return []
    if not any(selects(p, mlflow) and "Ingress" in p["spec"].get("policyTypes", ["Ingress"])
               for p in policies):
        return ["no NetworkPolicy fences MLflow's ingress: every pod reaches its write API"]
    errors = []
    for name, labels, containers in workload_pods(objects):
        gateway = [c for c in containers if GATEWAY_IMAGE in c["image"]]
        if not gateway:
            continue
        errors += [f"{name}/{c['name']}: gets MLFLOW_TRACKING_URI" for c in gateway
                   if "MLFLOW_TRACKING_URI" in env_names(c, objects)]
        errors += [f"{policy}: admits {name}'s pods to MLflow" for policy in
                   reaches(policies, "ingress", "from", mlflow, labels, namespace)]
        errors += [f"{policy}: lets {name}'s pods out to MLflow" for policy in
                   reaches(policies, "egress", "to", labels, mlflow, namespace)]
    return errors
