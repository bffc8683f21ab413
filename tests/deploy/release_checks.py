"""Release rules checked on the rendered manifests and the workflows (issue 13).

Each function takes parsed objects (or workflow text) and returns a list of problems, empty when
the rule holds, so a test can feed it a deliberately broken copy and see it fail.
"""
import re

import yaml

from tests.deploy.crosschecks import of_kind
from tests.deploy.manifests import name_of

DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
# What a pod needs after its preStop sleep to finish in-flight requests and exit.
MIN_DRAIN_SECONDS = 15
BUDGET_ANNOTATION = "playlist-recs.example.org/database-connection-budget"
POOL_SETTINGS = ("DATABASE_POOL_SIZE", "DATABASE_MAX_OVERFLOW")


def pod_specs(objects):
    """(owner, pod spec) for every workload kind that runs pods."""
    for obj in objects:
        spec = obj.get("spec", {})
        if obj.get("kind") in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            yield obj, spec["template"]["spec"]
        elif obj.get("kind") == "CronJob":
            yield obj, spec["jobTemplate"]["spec"]["template"]["spec"]


def all_containers(pod):
    return (pod.get("initContainers") or []) + pod["containers"]


def image_pin_errors(objects):
    """Every container of every workload: image by digest, never the `Always` pull policy."""
    errors = []
    for owner, pod in pod_specs(objects):
        for c in all_containers(pod):
            if not DIGEST.search(c["image"]):
                errors.append(f"{name_of(owner)}: {c['name']} image {c['image']} is not "
                              "pinned by digest")
            if c.get("imagePullPolicy") == "Always":
                errors.append(f"{name_of(owner)}: {c['name']} pulls Always (a digest never "
                              "changes: IfNotPresent)")
    return errors


def prestop_seconds(container):
    """The preStop sleep in seconds (sleep action or `sleep N` exec), None without one."""
    pre_stop = (container.get("lifecycle") or {}).get("preStop") or {}
    if "sleep" in pre_stop:
        return int(pre_stop["sleep"]["seconds"])
    command = " ".join(pre_stop.get("exec", {}).get("command", []))
    found = re.search(r"\bsleep (\d+)", command)
    return int(found.group(1)) if found else None


def shutdown_errors(objects):
    """Every Deployment's containers sleep in preStop (endpoints and ingress drop the pod
    meanwhile) and the grace period leaves MIN_DRAIN_SECONDS after the longest sleep."""
    errors = []
    for d in of_kind(objects, "Deployment"):
        pod = d["spec"]["template"]["spec"]
        grace = pod.get("terminationGracePeriodSeconds", 30)
        for c in pod["containers"]:
            sleep = prestop_seconds(c)
            if sleep is None:
                errors.append(f"{name_of(d)}: {c['name']} has no preStop sleep")
            elif grace < sleep + MIN_DRAIN_SECONDS:
                errors.append(f"{name_of(d)}: terminationGracePeriodSeconds {grace} leaves less "
                              f"than {MIN_DRAIN_SECONDS}s after the {sleep}s preStop sleep")
    return errors


def find(objects, kind, name):
    return next((o for o in objects if o.get("kind") == kind
                 and o["metadata"]["name"] == name), None)


def gateway_settings(objects):
    gateway = find(objects, "Deployment", "gateway")
    container = gateway["spec"]["template"]["spec"]["containers"][0]
    settings = {}
    maps = {c["metadata"]["name"]: c.get("data", {}) for c in of_kind(objects, "ConfigMap")}
    for source in container.get("envFrom") or []:
        settings.update(maps.get((source.get("configMapRef") or {}).get("name"), {}))
    for env in container.get("env") or []:
        settings[env["name"]] = env.get("value", "<from a Secret>")
    return gateway, settings


def connection_budget_errors(objects):
    """With a database server (not SQLite), the pool settings are set and every gateway
    replica the HPA allows, plus a rollout's surge, fits the stated connection budget."""
    gateway, settings = gateway_settings(objects)
    if settings.get("DATABASE_URL", "").startswith("sqlite"):
        return []
    missing = [name for name in POOL_SETTINGS if name not in settings]
    if missing:
        return [f"gateway: {', '.join(missing)} not set for a database server"]
    hpa = find(objects, "HorizontalPodAutoscaler", "gateway")
    budget = (hpa or {}).get("metadata", {}).get("annotations", {}).get(BUDGET_ANNOTATION)
    if hpa is None or budget is None:
        return [f"gateway: no HPA with a {BUDGET_ANNOTATION} annotation"]
    surge = gateway["spec"].get("strategy", {}).get("rollingUpdate", {}).get("maxSurge", 1)
    replicas = hpa["spec"]["maxReplicas"] + int(surge)
    per_replica = sum(int(settings[name]) for name in POOL_SETTINGS)
    if replicas * per_replica > int(budget):
        return [f"gateway: {replicas} replicas x {per_replica} connections = "
                f"{replicas * per_replica} > budget {budget}"]
    return []


def namespace_owner_errors(application, objects):
    """The namespace has one owner: the overlay's Namespace or CreateNamespace, not both."""
    options = application["spec"].get("syncPolicy", {}).get("syncOptions", [])
    renders = any(o["kind"] == "Namespace" for o in objects)
    if "CreateNamespace=true" in options and renders:
        return [f"{name_of(application)}: CreateNamespace=true while the overlay renders "
                "the Namespace"]
    if not renders and "CreateNamespace=true" not in options:
        return [f"{name_of(application)}: nothing creates the namespace"]
    return []


# ---- workflows ---------------------------------------------------------------------------

def triggers(workflow):
    # PyYAML reads the bare key `on` as True.
    on = workflow.get("on", workflow.get(True))
    return {on: None} if isinstance(on, str) else dict(on or {})


def steps_text(job):
    return "\n".join(yaml.safe_dump(step) for step in job.get("steps", []))


def cd_gate_errors(text):
    """CD starts only from a successful CI run of a push to main, builds that run's commit,
    and never trains, retrains or touches the pinned model version."""
    workflow = yaml.safe_load(text)
    errors = []
    on = triggers(workflow)
    if set(on) != {"workflow_run"}:
        errors.append(f"CD is triggered by {sorted(on)}, not only by CI's workflow_run")
    run = on.get("workflow_run") or {}
    if run.get("workflows") != ["CI"] or run.get("types") != ["completed"] \
            or run.get("branches") != ["main"]:
        errors.append("workflow_run is not CI completed on main")
    for job_id, job in workflow["jobs"].items():
        if not job.get("needs") and "workflow_run.conclusion == 'success'" not in job.get(
                "if", ""):
            errors.append(f"{job_id}: starts without requiring CI's success")
    if "github.event.workflow_run.head_sha" not in text:
        errors.append("CD does not build the commit CI tested (workflow_run.head_sha)")
    for word in ("bento.train", "bento.retrain", "model-version.env"):
        if re.search(rf"^[^#]*{re.escape(word)}", text, re.M):
            errors.append(f"CD runs or touches {word}: code releases never retrain")
    return errors


def command_args(job, command):
    """The arguments after `command` in a job's run scripts (continuation lines joined)."""
    args = []
    for step in job.get("steps", []):
        script = step.get("run", "").replace("\\\n", " ")
        for line in script.splitlines():
            if command in line:
                args += line.split(command, 1)[1].split()
    return [arg.strip('"') for arg in args]


def job_permissions(job):
    permissions = job.get("permissions", {})
    return permissions if isinstance(permissions, dict) else {"*": permissions}


def image_keys(workflow):
    """The workflow's *_IMAGE env names: one per image it builds (BENTO_IMAGE ...)."""
    return sorted(key for key in workflow.get("env", {}) if key.endswith("_IMAGE"))


def supply_chain_errors(text):
    """Every image build has an SBOM and max provenance; cosign signs each image by digest in
    the only job that may mint an OIDC token."""
    workflow = yaml.safe_load(text)
    errors, builds, signed = [], 0, []
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            uses, run = step.get("uses", ""), step.get("run", "")
            if uses.startswith("docker/build-push-action@"):
                builds += 1
                with_ = step.get("with", {})
                if with_.get("sbom") is not True or with_.get("provenance") != "mode=max":
                    errors.append(f"{job_id}: {step.get('name')} lacks sbom/provenance=mode=max")
            if "bentoml containerize" in run:
                builds += 1
                if "sbom=true" not in run or "provenance=mode=max" not in run:
                    errors.append(f"{job_id}: bentoml containerize lacks sbom/provenance")
        oidc = job_permissions(job).get("id-token") == "write"
        signs = "sigstore/cosign-installer@" in steps_text(job)
        if oidc != signs:
            errors.append(f"{job_id}: id-token: write must go with cosign signing, only there")
        if signs:
            signed = command_args(job, "cosign sign --yes")
            if not all("@" in ref for ref in signed):
                errors.append(f"{job_id}: cosign does not sign by digest")
    keys = image_keys(workflow)
    if builds != len(keys):
        errors.append(f"{builds} image builds, expected {len(keys)} ({', '.join(keys)})")
    errors += [f"cosign does not sign ${key}" for key in keys
               if not any(ref.startswith(f"$PREFIX/${key}") for ref in signed)]
    return errors


def promotion_errors(text):
    """Overlays change only through pull requests made with a GitHub App token, pinning
    digests; CD proposes them to dev alone, which merges itself when its checks pass (prod gets
    dev's digests later, from promote-prod.yml)."""
    workflow = yaml.safe_load(text)
    errors = []
    if re.search(r"^[^#]*git push", text, re.M):
        errors.append("CD pushes to a branch directly")
    for job_id, job in workflow["jobs"].items():
        if job_permissions(job).get("contents") == "write":
            errors.append(f"{job_id}: the workflow token may write contents")
    promote = [job for job in workflow["jobs"].values() if "kustomize edit set image"
               in steps_text(job)]
    if len(promote) != 1:
        return errors + ["no single job runs kustomize edit set image"]
    job, body = promote[0], steps_text(promote[0])
    if "actions/create-github-app-token@" not in body:
        errors.append("the promotion does not use a GitHub App token")
    pr = [s for s in job["steps"] if s.get("uses", "").startswith(
        "peter-evans/create-pull-request@")]
    if not pr or "steps.app.outputs.token" not in str(pr[0].get("with", {}).get("token")):
        errors.append("no pull request opened with the App's token")
    pins = [a for a in command_args(job, "kustomize edit set image") if "=" in a]
    by_digest = [re.search(r"=\$PREFIX/\$(\w+_IMAGE)@\$\w+_DIGEST$", a) for a in pins]
    deployed = set(image_keys(workflow)) - {"SPARK_IMAGE"}  # dev runs no Spark retrain
    if not all(by_digest) or {found[1] for found in by_digest} != deployed:
        errors.append("kustomize edit set image does not pin NAME@DIGEST")
    if job.get("env", {}).get("OVERLAY") != "k8s/overlays/dev" or "strategy" in job \
            or re.search(r"^[^#]*k8s/overlays/prod", text, re.M):
        errors.append("CD proposes to an overlay other than dev")
    merges = [s for s in job["steps"] if "gh pr merge" in s.get("run", "")]
    if len(merges) != 1 or "--auto" not in merges[0]["run"] \
            or merges[0].get("if") != "steps.pr.outputs.pull-request-number != ''":
        errors.append("auto-merge must apply to the dev pull request, once it exists")
    return errors


def ci_errors(text):
    """The long job runs on the runner itself; the manifest job installs no apt packages."""
    jobs = yaml.safe_load(text)["jobs"]
    errors = [f"{job_id}: runs inside a container job" for job_id, job in jobs.items()
              if "container" in job]
    manifests = steps_text(jobs.get("manifests", {}))
    if re.search(r"apt-get|system-deps|make (test|manifests)\b", manifests):
        errors.append("manifests: installs system packages")
    if not re.search(r"pip install[^\n]* -r requirements-deploy.txt", manifests):
        errors.append("manifests: does not install requirements-deploy.txt alone")
    return errors


def dependabot_errors(config, repo):
    """Dependabot watches pip, Docker and Actions, in folders that hold what it updates."""
    updates = {u["package-ecosystem"]: u for u in config.get("updates", [])}
    errors = [f"no Dependabot updates for {kind}" for kind in ("pip", "docker", "github-actions")
              if kind not in updates]
    # Dependabot's pip support reads every *requirements*.txt file of a folder.
    wants = {"pip": "*requirements*.txt", "docker": "Dockerfile"}
    for kind, pattern in wants.items():
        for folder in updates.get(kind, {}).get("directories", []):
            if not list((repo / folder.lstrip("/")).glob(pattern)):
                errors.append(f"{kind}: {folder} has no {pattern}")
    return errors
