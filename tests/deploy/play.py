"""Day one played offline from the rendered manifests (issue 25): the objects in Argo CD's order,
and each container's command line and environment as the kubelet would build them, with the
cluster mapped onto this machine: a Service's host and port become a loopback port, a volume a
directory, a Secret the runbook's values. Nothing here knows the app: only the manifests and
the images' own settings (ENV, WORKDIR, CMD from their build files) are read.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from devtools.procs import REPO_ROOT, free_port

# gitops-engine's kind order within one wave (pkg/sync/syncwaves: kindOrder); others go last.
KIND_ORDER = ["Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
              "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap",
              "StorageClass", "PersistentVolume", "PersistentVolumeClaim",
              "CustomResourceDefinition", "ClusterRole", "ClusterRoleList",
              "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding",
              "RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController",
              "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job",
              "CronJob", "IngressClass", "Ingress", "APIService"]
PHASES = ["PreSync", "Sync", "PostSync"]
HOOK = "argocd.argoproj.io/hook"
WAVE = "argocd.argoproj.io/sync-wave"
VENV_BIN = Path(sys.executable).parent


class NotSchedulable(Exception):
    """The kubelet could not start this container (CreateContainerConfigError): a ConfigMap or
    Secret it reads does not exist yet."""


@dataclass
class Image:
    """What an image gives a container the manifest does not: ENV, WORKDIR (mapped to this
    checkout, which holds the same files) and ENTRYPOINT + CMD."""
    env: dict[str, str]
    workdir: str
    cmd: list[str]


def dockerfile_image(path: Path) -> Image:
    """ENV, WORKDIR and CMD of the last stage of a Dockerfile (JSON-form CMD)."""
    text = path.read_text().replace("\\\n", " ")
    last = text.split("\nFROM ")[-1]
    env: dict[str, str] = {}
    for line in re.findall(r"^ENV (.+)$", last, re.M):
        env.update(dict(re.findall(r"(\w+)=(\S+)", line)))
    workdir = re.findall(r"^WORKDIR (\S+)", last, re.M)[-1]
    cmd = json.loads(re.findall(r"^CMD (\[.+\])\s*$", last, re.M)[-1])
    return Image(env, workdir, cmd)


def images() -> dict[str, Image]:
    """By image name. The Bento image is `bentoml containerize`'s: its entrypoint runs the
    arguments given, BentoML's own default host 0.0.0.0, working dir the bento's src."""
    return {"playlist-recs-gateway": dockerfile_image(REPO_ROOT / "gateway" / "Dockerfile"),
            "playlist-recs-bento": Image({"BENTOML_HOST": "0.0.0.0"},
                                         "/home/bentoml/bento/src", ["bentoml", "serve"])}


def image_name(reference: str) -> str:
    return reference.split("@")[0].rsplit("/", 1)[-1].split(":")[0]


def phase(obj: dict) -> str:
    hook = obj["metadata"].get("annotations", {}).get(HOOK)
    return hook.split(",")[0] if hook else "Sync"


def argo_order(objects: list[dict]) -> list[dict]:
    """Argo CD's apply order: phase, then sync wave, then kind, then name."""
    def key(obj):
        kind = obj["kind"]
        return (PHASES.index(phase(obj)),
                int(obj["metadata"].get("annotations", {}).get(WAVE, "0")),
                KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER),
                obj["metadata"]["name"])
    return sorted(objects, key=key)


def pod_spec(obj: dict) -> dict:
    spec = obj["spec"]
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def expand(value: str, env: dict[str, str]) -> str:
    """Kubernetes' $(VAR) expansion ($$ escapes; unknown names stay as written)."""
    return re.sub(r"\$\$|\$\((\w+)\)",
                  lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)),
                  value)


@dataclass
class Cluster:
    """The objects applied so far, the runbook's Secrets, and where each Service's ports and
    each pod's volumes live on this machine."""
    objects: list[dict]
    secrets: dict[str, dict[str, str]]
    root: Path
    applied: set = field(default_factory=set)
    ports: dict = field(default_factory=dict)  # (workload, containerPort) -> loopback port
    built: dict = field(default_factory=dict)  # a path an image build made -> its copy here

    def __post_init__(self):
        self.images = images()
        self.namespace = next(o["metadata"]["name"] for o in self.objects
                              if o["kind"] == "Namespace")

    def get(self, kind: str, name: str) -> dict:
        return next(o for o in self.objects if (o["kind"], o["metadata"]["name"]) == (kind, name))

    def apply(self, obj: dict) -> None:
        self.applied.add((obj["kind"], obj["metadata"]["name"]))

    def exists(self, kind: str, name: str) -> bool:
        return (kind, name) in self.applied or (kind == "Secret" and name in self.secrets)

    # Services: a host (any DNS form) and port -> 127.0.0.1 and the backing container's port.
    def port(self, workload: str, container_port: int) -> int:
        return self.ports.setdefault((workload, container_port), free_port())

    def service_ports(self) -> dict[tuple[str, int], int]:
        found = {}
        for service in (o for o in self.objects if o["kind"] == "Service"):
            selector = service["spec"]["selector"]
            backing = [o for o in self.objects if o["kind"] == "Deployment" and selector.items()
                       <= o["spec"]["template"]["metadata"]["labels"].items()]
            for port in service["spec"]["ports"]:
                target = port.get("targetPort", port["port"])
                for workload in backing:
                    if isinstance(target, str):
                        target = next(p["containerPort"] for c in pod_spec(workload)["containers"]
                                      for p in c.get("ports", []) if p.get("name") == target)
                    found[(service["metadata"]["name"], port["port"])] = self.port(
                        workload["metadata"]["name"], target)
        return found

    def host_names(self, service: str) -> list[str]:
        base = f"{service}.{self.namespace}"
        return [service, base, f"{base}.svc", f"{base}.svc.cluster.local"]

    def map_hosts(self, value: str, ports: dict[tuple[str, int], int]) -> str:
        """URLs and host[:port] lists naming a Service, pointed at its loopback port (`ports`:
        service_ports())."""
        hosts = {name: service for service, _ in ports for name in self.host_names(service)}

        def token(text: str) -> str:
            parts = urlsplit(text) if "://" in text else None
            host, _, port = (parts.netloc if parts else text).partition(":")
            if host not in hosts:
                return text
            service = hosts[host]
            number = int(port) if port else (80 if parts else None)
            local = ports.get((service, number)) if number else None
            netloc = f"127.0.0.1:{local}" if local else "127.0.0.1"
            return parts._replace(netloc=netloc).geturl() if parts else netloc
        return ",".join(token(part) for part in value.split(","))

    # Volumes: a directory per pod and volume; Secret volumes hold the runbook's keys as files.
    def mounts(self, obj: dict, container: dict) -> dict[str, Path]:
        volumes = {v["name"]: v for v in pod_spec(obj).get("volumes", [])}
        found = {}
        for mount in container.get("volumeMounts", []):
            volume = volumes[mount["name"]]
            where = self.root / obj["metadata"]["name"] / mount["name"]
            where.mkdir(parents=True, exist_ok=True)
            if "secret" in volume:
                name = volume["secret"]["secretName"]
                if name not in self.secrets:
                    raise NotSchedulable(f"Secret {name} (volume {mount['name']}) is missing")
                for key, value in self.secrets[name].items():
                    (where / key).write_text(value)
            found[mount["mountPath"]] = where
        return found

    def map_paths(self, value: str, mounts: dict[str, Path]) -> str:
        """Each mount path (as a whole path prefix) replaced by its directory, in one pass."""
        paths = "|".join(re.escape(path) for path in sorted(mounts, key=len, reverse=True))
        return re.sub(rf"(?<![\w./-])({paths})(?=/|[^\w.-]|$)",
                      lambda m: str(mounts[m.group(1)]), value)

    def env_of(self, obj: dict, container: dict, image: Image) -> dict[str, str]:
        env = dict(image.env)
        for source in container.get("envFrom", []):
            ref = source.get("configMapRef") or source.get("secretRef")
            kind = "ConfigMap" if "configMapRef" in source else "Secret"
            if not self.exists(kind, ref["name"]):
                raise NotSchedulable(f"{kind} {ref['name']} does not exist yet")
            env.update(self.get(kind, ref["name"]).get("data", {}) if kind == "ConfigMap"
                       else self.secrets[ref["name"]])
        for item in container.get("env", []):
            if "value" in item:
                env[item["name"]] = expand(item["value"], env)
                continue
            ref = item["valueFrom"].get("configMapKeyRef") or item["valueFrom"]["secretKeyRef"]
            kind = "ConfigMap" if "configMapKeyRef" in item["valueFrom"] else "Secret"
            if not self.exists(kind, ref["name"]):
                raise NotSchedulable(f"{kind} {ref['name']} does not exist yet")
            data = self.get(kind, ref["name"])["data"] if kind == "ConfigMap" \
                else self.secrets[ref["name"]]
            if ref["key"] not in data:
                raise NotSchedulable(f"{kind} {ref['name']} has no key {ref['key']}")
            env[item["name"]] = data[ref["key"]]
        return env

    def process(self, obj: dict, name: str) -> "Process":
        """The command line, environment and working dir of container `name` of `obj`."""
        spec = pod_spec(obj)
        container = next(c for c in spec.get("initContainers", []) + spec["containers"]
                         if c["name"] == name)
        image = self.images[image_name(container["image"])]
        # The image's working dir holds this checkout's files: paths under it map here.
        mounts = {container.get("workingDir", image.workdir): REPO_ROOT, **self.built,
                  **self.mounts(obj, container)}
        env = self.env_of(obj, container, image)
        argv = (container.get("command") or []) + (container.get("args") or [])
        if not container.get("command"):
            argv = argv or image.cmd
        argv = [expand(arg, env) for arg in argv]
        workload = obj["metadata"]["name"]
        listen = {p["containerPort"]: self.port(workload, p["containerPort"])
                  for p in container.get("ports", [])}

        services = self.service_ports()

        def local(value: str) -> str:  # servers bind loopback on their Service's port
            value = self.map_paths(self.map_hosts(value, services), mounts).replace(
                "0.0.0.0", "127.0.0.1")
            for inside, outside in listen.items():
                value = re.sub(rf"--port {inside}\b", f"--port {outside}", value)
            return value
        env = {key: (str(listen[int(value)]) if key.endswith("_PORT") and value.isdigit()
                     and int(value) in listen else local(value)) for key, value in env.items()}
        env.setdefault("HOME", "/nonexistent")
        env["PATH"] = f"{VENV_BIN}{os.pathsep}/usr/bin:/bin"
        # Both images' working dirs (the gateway's /app, the Bento's src) hold this checkout's
        # files, so a container runs here whatever `workingDir` it names.
        return Process([local(arg) for arg in argv], env, REPO_ROOT, listen, container)


@dataclass
class Process:
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    ports: dict[int, int]
    container: dict

    def run(self, timeout: float = 900) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv, cwd=self.cwd, env=self.env, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def start(self, log_path: Path) -> subprocess.Popen:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            return subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)

    def probe_url(self, kind: str = "readinessProbe") -> str:
        probe = self.container[kind]["httpGet"]
        port = probe["port"]
        if isinstance(port, str):
            port = next(p["containerPort"] for p in self.container["ports"] if p["name"] == port)
        return f"http://127.0.0.1:{self.ports[port]}{probe['path']}"
