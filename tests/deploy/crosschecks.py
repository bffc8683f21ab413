"""Consistency checks between the manifests, the workflows and the code.

Each function takes parsed objects and returns a list of problems (empty = consistent), so a
test can feed it a deliberately broken copy and see the failure.
"""
import re
from pathlib import Path

import yaml

from tests.deploy.manifests import REPO, name_of

SHA256_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def of_kind(objects, kind):
    return [obj for obj in objects if obj.get("kind") == kind]


def pod_containers(deployment):
    return deployment["spec"]["template"]["spec"]["containers"]


def selected_deployments(service, deployments):
    """Deployments in the Service's namespace whose pod labels include its whole selector."""
    selector = service["spec"].get("selector") or {}
    namespace = service["metadata"].get("namespace")
    return [d for d in deployments
            if d["metadata"].get("namespace") == namespace and selector
            and selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()]


def selector_errors(objects):
    deployments = of_kind(objects, "Deployment")
    errors = [f"{name_of(s)}: selector {s['spec'].get('selector')} matches no Deployment's pods"
              for s in of_kind(objects, "Service") if not selected_deployments(s, deployments)]
    for d in deployments:
        wanted = d["spec"]["selector"].get("matchLabels", {})
        if not wanted.items() <= d["spec"]["template"]["metadata"]["labels"].items():
            errors.append(f"{name_of(d)}: spec.selector does not match its pod template labels")
    return errors


def declares(container, port):
    """Whether a container declares a port, given by number or by name."""
    ports = container.get("ports") or []
    return any(port in (p.get("containerPort"), p.get("name")) for p in ports)


def probe_ports(container):
    for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
        probe = container.get(kind) or {}
        for handler in ("httpGet", "tcpSocket", "grpc"):
            if handler in probe:
                yield kind, probe[handler].get("port")


def port_errors(objects):
    errors = []
    deployments = of_kind(objects, "Deployment")
    for d in deployments:
        for c in pod_containers(d):
            errors += [f"{name_of(d)}: {kind} port {port!r} is not a port {c['name']} declares"
                       for kind, port in probe_ports(c) if not declares(c, port)]
    for s in of_kind(objects, "Service"):
        for d in selected_deployments(s, deployments):
            for p in s["spec"]["ports"]:
                target = p.get("targetPort", p["port"])
                if not any(declares(c, target) for c in pod_containers(d)):
                    errors.append(f"{name_of(s)}: targetPort {target!r} is not declared by "
                                  f"{name_of(d)}")
    return errors


def cd_images(cd_text):
    """(registry, image repository names) that cd.yml pushes: its REGISTRY and *_IMAGE env."""
    env = yaml.safe_load(cd_text).get("env", {})
    names = {value for key, value in env.items()
             if key.endswith("_IMAGE") and f"env.{key}" in cd_text}
    return env.get("REGISTRY"), names


# Third-party images the overlays run as published (not built by cd.yml), each pinned to a
# release tag; CKV_K8S_43 (digests) is skipped repo-wide in .checkov.yaml.
THIRD_PARTY_IMAGES = {"quay.io/oauth2-proxy/oauth2-proxy"}
RELEASE_TAG = re.compile(r"^v?\d+\.\d+\.\d+$")


def third_party_errors(images):
    """Splits off the third-party images: returns (errors, the rest)."""
    errors, rest = [], set()
    for image in images:
        name, _, tag = image.split("@")[0].rpartition(":")
        if name not in THIRD_PARTY_IMAGES:
            rest.add(image)
        elif not RELEASE_TAG.match(tag):
            errors.append(f"third-party image {image} is not pinned to a release tag")
    return errors, rest


def pin_errors(image, registry, built):
    """One kustomization images: entry: an image cd.yml pushes, pinned by a digest alone."""
    new_name = image.get("newName", image["name"])
    host, _, path = new_name.partition("/")
    errors = []
    if host != registry or path.rsplit("/", 1)[-1] not in built:
        errors.append(f"image {new_name} is not one cd.yml pushes ({registry}: {built})")
    if "newTag" in image or not SHA256_DIGEST.match(str(image.get("digest", ""))):
        errors.append(f"image {new_name} is not pinned by a sha256 digest alone "
                      f"(tag {image.get('newTag')!r}, digest {image.get('digest')!r})")
    return errors


def component_pins(components=REPO / "k8s" / "components"):
    """{image repository: component} for the images opt-in components pin themselves (the
    Spark retrain image: prod's release pull request pins it there)."""
    pins = {}
    for path in sorted(components.glob("*/kustomization.yaml")):
        for image in load(path).get("images", []):
            pins[image.get("newName", image["name"]).rsplit("/", 1)[-1]] = path.parent.name
    return pins


def image_errors(kustomization, objects, cd_text):
    """Overlay images are the ones cd.yml pushes, pinned by digest, and all are used; an image
    cd.yml pushes is deployed by the overlay or pinned by a component."""
    registry, built = cd_images(cd_text)
    errors, rendered = third_party_errors(
        {c["image"] for d in of_kind(objects, "Deployment") for c in pod_containers(d)})
    overlay_names = set()
    for image in kustomization.get("images", []):
        new_name = image.get("newName", image["name"])
        overlay_names.add(new_name.rsplit("/", 1)[-1])
        errors += pin_errors(image, registry, built)
        if f"{new_name}@{image.get('digest')}" not in rendered:
            errors.append(f"image {new_name} is set but no container uses it")
    errors += [f"cd.yml pushes {name} but the overlay does not deploy it"
               for name in sorted(built - overlay_names - set(component_pins()))]
    pinned = {f"{i.get('newName', i['name'])}@{i.get('digest')}"
              for i in kustomization.get("images", [])}
    errors += [f"container image {image} is not set by the overlay's images:"
               for image in sorted(rendered - pinned)]
    return errors


def env_names(container, objects):
    """Every environment variable name a container gets: env and envFrom ConfigMaps."""
    names = {e["name"] for e in container.get("env") or []}
    config_maps = {c["metadata"]["name"]: c for c in of_kind(objects, "ConfigMap")}
    for source in container.get("envFrom") or []:
        ref = source.get("configMapRef")
        if ref:
            names |= set(config_maps.get(ref["name"], {}).get("data", {}))
    return names


def env_errors(objects, readers):
    """Every env var a Deployment sets is one its service's code reads (readers: app -> fn)."""
    errors = []
    for d in of_kind(objects, "Deployment"):
        app = d["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/name")
        reads = readers.get(app)
        if reads is None:
            errors.append(f"{name_of(d)}: no known code for app {app!r}")
            continue
        for c in pod_containers(d):
            errors += [f"{name_of(d)}: {name} is set but the {app} code never reads it"
                       for name in sorted(env_names(c, objects)) if not reads(name)]
    return errors


def application_errors(application, project, prod_namespace, repo=REPO):
    """The Application points at a real overlay, inside what its AppProject allows."""
    spec = application["spec"]
    source = spec["source"]
    errors = []
    if not (repo / source["path"] / "kustomization.yaml").is_file():
        errors.append(f"Application path {source['path']} has no kustomization.yaml")
    if spec["project"] != project["metadata"]["name"]:
        errors.append(f"Application project {spec['project']} is not the AppProject")
    if source["repoURL"] not in project["spec"].get("sourceRepos", []):
        errors.append(f"repo {source['repoURL']} is not in the AppProject's sourceRepos")
    dest = spec["destination"]
    if not any(d.get("server") == dest.get("server") and d.get("namespace") == dest["namespace"]
               for d in project["spec"].get("destinations", [])):
        errors.append(f"destination {dest} is not allowed by the AppProject")
    if dest["namespace"] != prod_namespace:
        errors.append(f"destination namespace {dest['namespace']} is not the overlay's "
                      f"{prod_namespace}")
    return errors


def architecture_env(service, repo=REPO):
    """The env var names docs/ARCHITECTURE.md's ports table lists for a service."""
    for line in (repo / "docs" / "ARCHITECTURE.md").read_text().splitlines():
        if line.lower().startswith(f"| {service} "):
            return set(re.findall(r"`([A-Z][A-Z0-9_]+)`", line))
    return set()


# Where each app's code lives, plus installed libraries that read env vars on its behalf.
CODE = {
    "bento": (("bento", "*.py"),),
    "gateway": (("gateway", "*.py"),),
    "frontend": (("frontend", "*.template"), ("frontend", "*.conf"), ("frontend", "Dockerfile"),
                 ("frontend", "*.sh")),
    "mlflow": (),   # `mlflow server` from the Bento image: all its settings are MLflow's own
}
LIBRARIES = {"bento": ("bentoml", "bentoml_cli", "botocore"), "mlflow": ("mlflow", "botocore")}


def library_texts(app):
    texts = []
    for package in LIBRARIES.get(app, ()):
        module = __import__(package)
        root = Path(module.__file__).parent
        texts += [p.read_text(errors="replace") for pattern in ("*.py", "*.sh")
                  for p in root.rglob(pattern)]
    return texts


def code_readers(repo=REPO):
    """app -> predicate: does the app's code (or ARCHITECTURE.md, until code lands) read NAME?

    The gateway reads settings through pydantic-settings, so a field `database_url:` counts
    as reading DATABASE_URL.
    """
    readers = {}
    for app, globs in CODE.items():
        own = [p.read_text(errors="replace") for folder, pattern in globs
               for p in sorted((repo / folder).rglob(pattern))
               if "node_modules" not in p.parts and "dist" not in p.parts]
        if not own and app not in LIBRARIES:
            documented = architecture_env(app, repo)
            readers[app] = documented.__contains__
            continue
        texts = own + library_texts(app)

        def reads(name, texts=texts):
            # A quoted name (os.environ["X"], click envvar="X"), a shell/nginx ${X}, or a
            # pydantic-settings field `x: ...`; a bare word in a comment does not count.
            quoted = re.compile(rf"[\"']{re.escape(name)}[\"']|\$\{{?{re.escape(name)}\b")
            field = re.compile(rf"^\s*{re.escape(name.lower())}\s*:", re.M)
            return any(quoted.search(t) or field.search(t) for t in texts)
        readers[app] = reads
    readers["oauth2-proxy"] = oauth2_proxy_reads
    return readers


# oauth2-proxy reads each option --foo-bar from OAUTH2_PROXY_FOO_BAR: the options our
# manifests may use (its documentation's names), so a misspelling fails like ours do.
OAUTH2_PROXY_ENV = {f"OAUTH2_PROXY_{option.upper().replace('-', '_')}" for option in (
    "http-address", "provider", "oidc-issuer-url", "client-id", "client-secret",
    "client-secret-file", "cookie-secret", "cookie-secure", "cookie-name", "cookie-domains",
    "cookie-expire", "cookie-refresh", "redirect-url", "email-domains", "reverse-proxy",
    "set-xauthrequest", "upstreams", "oidc-groups-claim", "oidc-email-claim",
    "skip-provider-button", "allowed-groups", "scope", "whitelist-domains", "silence-ping-logging")}


def oauth2_proxy_reads(name):
    return name in OAUTH2_PROXY_ENV


def config_map_data(objects, prefix):
    """The data of the (hash-suffixed) ConfigMap whose name starts with `prefix`."""
    return next((c.get("data", {}) for c in of_kind(objects, "ConfigMap")
                 if c["metadata"]["name"].startswith(prefix)), {})


AUTH_HEADERS = ("X-Auth-Request-User", "X-Auth-Request-Email", "X-Auth-Request-Groups")


def routes_to(ingress, service):
    return any(path["backend"]["service"]["name"] == service
               for rule in ingress["spec"].get("rules", [])
               for path in rule.get("http", {}).get("paths", []))


def prod_auth_errors(objects):
    """Prod signs listeners in: the gateway in proxy mode, every Ingress path to it behind
    oauth2-proxy's auth subrequest with its identity headers, rate limits on every Ingress,
    and only ingress-nginx (never the frontend) allowed to reach the gateway."""
    errors = []
    config = config_map_data(objects, "gateway-config")
    if config.get("AUTH_MODE") != "proxy":
        errors.append(f"gateway AUTH_MODE is {config.get('AUTH_MODE', 'unset (demo)')!r}, "
                      f"not 'proxy'")
    if config.get("AUTH_DEMO_ALLOW_REMOTE", "").lower() == "true":
        errors.append("gateway sets AUTH_DEMO_ALLOW_REMOTE=true in prod")
    proxies = [d for d in of_kind(objects, "Deployment") if d["metadata"]["name"] == "oauth2-proxy"]
    if not proxies:
        errors.append("no oauth2-proxy Deployment")
    for d in proxies:
        env = {e["name"]: e.get("value") for c in pod_containers(d) for e in c.get("env") or []}
        if env.get("OAUTH2_PROXY_SET_XAUTHREQUEST") != "true":
            errors.append("oauth2-proxy does not set X-Auth-Request-* (SET_XAUTHREQUEST)")
    for ingress in of_kind(objects, "Ingress"):
        notes = ingress["metadata"].get("annotations") or {}
        if "nginx.ingress.kubernetes.io/limit-rps" not in notes:
            errors.append(f"{name_of(ingress)}: no limit-rps rate limit")
        if not routes_to(ingress, "gateway"):
            continue
        if "oauth2-proxy" not in notes.get("nginx.ingress.kubernetes.io/auth-url", ""):
            errors.append(f"{name_of(ingress)}: routes to the gateway without oauth2-proxy's "
                          f"auth-url")
        passed = notes.get("nginx.ingress.kubernetes.io/auth-response-headers", "").split(",")
        errors += [f"{name_of(ingress)}: auth-response-headers lacks {header}"
                   for header in AUTH_HEADERS if header not in passed]
    gateway = next(d for d in of_kind(objects, "Deployment") if d["metadata"]["name"] == "gateway")
    labels = gateway["spec"]["template"]["metadata"]["labels"]
    metrics_ports = {p["containerPort"] for c in pod_containers(gateway)
                     for p in c.get("ports", []) if p.get("name") == "metrics"}
    for policy in of_kind(objects, "NetworkPolicy"):
        if not selects(policy, labels):
            continue
        for rule in policy["spec"].get("ingress", []):
            ports = {p.get("port") for p in rule.get("ports", [])} or {"every port"}
            for peer in rule.get("from", []):
                namespace = peer.get("namespaceSelector", {}).get("matchLabels", {}).get(
                    "kubernetes.io/metadata.name")
                if namespace != "ingress-nginx" and not ports <= metrics_ports:
                    errors.append(f"{name_of(policy)}: admits {peer} to the gateway's "
                                  f"{sorted(map(str, ports))}, not only its metrics port")
    return errors


IDENTITY_STRIP = re.compile(r'^\s*proxy_set_header\s+(X-Auth-Request-\w+)\s+""\s*;', re.M)


def nginx_identity_errors(conf_text):
    """frontend/nginx.conf drops client-sent identity headers at server level, and no location
    sets headers of its own (nginx would then drop every inherited proxy_set_header)."""
    stripped = set(IDENTITY_STRIP.findall(conf_text))
    errors = [f"nginx.conf does not strip {header}" for header in AUTH_HEADERS
              if header not in stripped]
    for block in re.findall(r"location\s[^{]*\{([^}]*)\}", conf_text):
        if "proxy_set_header" in block:
            errors.append("a location sets proxy_set_header, so the server-level identity "
                          "stripping is not inherited there")
    return errors


GATEWAY_CMD = '["python", "-m", "gateway.serve"]'


def gateway_limits_errors(dockerfile_text, objects):
    """The gateway's connection limits live in gateway/serve.py, which the image's CMD runs;
    no Deployment may replace that CMD (it could run plain uvicorn without them)."""
    cmds = [line.strip() for line in dockerfile_text.split("\nCMD ")[1:]]
    errors = [] if cmds and cmds[-1] == GATEWAY_CMD else \
        [f"gateway/Dockerfile CMD is not {GATEWAY_CMD}: {cmds[-1] if cmds else None}"]
    for d in of_kind(objects, "Deployment"):
        if d["metadata"]["name"] == "gateway":
            errors += [f"{name_of(d)}: sets {key}, replacing the image's gateway.serve"
                       for c in pod_containers(d) for key in ("command", "args") if key in c]
    return errors


def load(path):
    return yaml.safe_load(Path(path).read_text())


PINNED_ACTION = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def workflow_policy_errors(text):
    """Least privilege, pinned actions, a concurrency group, bounded jobs, failures that fail."""
    workflow = yaml.safe_load(text)
    errors = []
    if "permissions" not in workflow or workflow["permissions"] in ("write-all", "read-all"):
        errors.append("no least-privilege top-level permissions")
    if "concurrency" not in workflow:
        errors.append("no concurrency group")
    if "continue-on-error" in text:
        errors.append("continue-on-error hides failures")
    for job_id, job in workflow.get("jobs", {}).items():
        if "uses" in job:   # a reusable workflow: pinned by being in this repo
            if not job["uses"].startswith("./"):
                errors.append(f"{job_id}: reusable workflow {job['uses']} is not local")
            continue
        if "timeout-minutes" not in job:
            errors.append(f"{job_id}: no timeout-minutes")
        errors += [f"{job_id}: {step['uses']} is not pinned to a full commit SHA"
                   for step in job.get("steps", [])
                   if "uses" in step and not PINNED_ACTION.match(step["uses"])]
    return errors


HOOK = "argocd.argoproj.io/hook"
HOOK_DELETE = "argocd.argoproj.io/hook-delete-policy"
MIGRATE = ["alembic", "upgrade", "head"]


def all_containers(pod_spec):
    return [*(pod_spec.get("initContainers") or []), *pod_spec["containers"]]


def secret_of(container, name="DATABASE_URL"):
    for entry in container.get("env") or []:
        if entry["name"] == name:
            return (entry.get("valueFrom") or {}).get("secretKeyRef", {}).get("name")
    return None


def matches(selector, labels):
    """Does a label selector pick pods with these labels (only `In` expressions are checked)?"""
    return (selector.get("matchLabels", {}).items() <= labels.items()
            and all(labels.get(e["key"]) in e.get("values", [])
                    for e in selector.get("matchExpressions", []) if e["operator"] == "In"))


def selects(policy, labels):
    return matches(policy["spec"]["podSelector"], labels)


def migration_errors(objects, overlay):
    """The schema is migrated before the gateway runs (prod: an ArgoCD PreSync Job with the
    gateway's image and its own DDL credential, able to reach the database; dev: init
    containers), and no overlay but dev imports the sample."""
    errors = []
    gateway = next(d for d in of_kind(objects, "Deployment") if d["metadata"]["name"] == "gateway")
    gateway_pod = gateway["spec"]["template"]["spec"]
    workloads = [o for o in objects if o.get("kind") in ("Deployment", "Job", "CronJob")]
    importers = [f"{name_of(o)}/{c['name']}" for o in workloads
                 for c in all_containers(o["spec"].get("jobTemplate", {}).get("spec", o["spec"])
                                         ["template"]["spec"])
                 if "gateway.importer" in " ".join(c.get("command") or [])]
    if overlay != "dev":
        errors += [f"{where} imports data: only the dev overlay seeds the sample"
                   for where in importers]
    else:
        init = [c.get("command") for c in gateway_pod.get("initContainers") or []]
        if not init or init[0] != MIGRATE or not importers:
            errors.append("dev gateway pod does not migrate, then seed, in init containers")
        return errors
    jobs = [j for j in of_kind(objects, "Job")
            if any(c.get("command") == MIGRATE for c in j["spec"]["template"]["spec"]
                   ["containers"])]
    if len(jobs) != 1:
        return errors + [f"{len(jobs)} Jobs run {' '.join(MIGRATE)} (want exactly one)"]
    job = jobs[0]
    notes = job["metadata"].get("annotations") or {}
    if notes.get(HOOK) != "PreSync":
        errors.append(f"{name_of(job)} is not an ArgoCD PreSync hook")
    if not notes.get(HOOK_DELETE):
        errors.append(f"{name_of(job)} has no hook-delete-policy")
    pod = job["spec"]["template"]["spec"]
    [container] = pod["containers"]
    if container["image"] != pod_containers(gateway)[0]["image"]:
        errors.append(f"{name_of(job)} image {container['image']} is not the gateway's")
    migrator, runtime = secret_of(container), secret_of(pod_containers(gateway)[0])
    if not migrator or migrator == runtime:
        errors.append(f"{name_of(job)} does not use its own migrator database Secret")
    return errors + migration_hook_reach_errors(objects, job)


def migration_hook_reach_errors(objects: list[dict], job: dict) -> list[str]:
    """A migration hook Job reaches the database (a NetworkPolicy on 5432), and that policy and
    its ServiceAccount are PreSync hooks too, so they exist when it runs on a first sync."""
    errors = []
    pod = job["spec"]["template"]["spec"]
    labels = job["spec"]["template"]["metadata"]["labels"]
    reach = [p for p in of_kind(objects, "NetworkPolicy") if selects(p, labels)
             and any(port.get("port") == 5432 for rule in p["spec"].get("egress") or []
                     for port in rule.get("ports") or [])]
    if not reach:
        errors.append(f"{name_of(job)}: no NetworkPolicy lets it reach the database (5432)")
    accounts = [a for a in of_kind(objects, "ServiceAccount")
                if a["metadata"]["name"] == pod.get("serviceAccountName")]
    errors += [f"{name_of(obj)} is not a PreSync hook: missing when the Job runs on a first sync"
               for obj in accounts + reach
               if (obj["metadata"].get("annotations") or {}).get(HOOK) != "PreSync"]
    return errors


# -- the retrain loop (issue 11): the pinned model version reaches the Bento; the CronJob ------

def env_values(container, objects):
    """name -> value a container gets from literal env and envFrom ConfigMaps (later wins)."""
    config_maps = {c["metadata"]["name"]: c for c in of_kind(objects, "ConfigMap")}
    values = {}
    for source in container.get("envFrom") or []:
        ref = source.get("configMapRef")
        if ref:
            values.update(config_maps.get(ref["name"], {}).get("data", {}))
    values.update({e["name"]: e.get("value", e.get("valueFrom"))
                   for e in container.get("env") or []})
    return values


def argv(container):
    return [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]


def option(arguments, name):
    return arguments[arguments.index(name) + 1] if name in arguments[:-1] else None


def pinned_version(pin_text):
    for line in pin_text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "MODEL_VERSION":
            return value.strip()
    return None


def mount_of(container, path):
    """The volume whose mount holds `path` in this container, or None."""
    for mount in container.get("volumeMounts") or []:
        if path.startswith(mount["mountPath"].rstrip("/") + "/"):
            return mount["name"]
    return None


def model_pin_errors(objects, pin_text):
    """Prod Bento pods import the version model-version.env pins, and serve exactly that."""
    pinned = pinned_version(pin_text)
    errors = [] if (pinned or "").isdigit() else [
        f"model-version.env pins {pinned!r}, not a registered model version number"]
    bento = next((d for d in of_kind(objects, "Deployment") if d["metadata"]["name"] == "bento"),
                 None)
    if bento is None:
        return errors + ["no Deployment/bento"]
    pod = bento["spec"]["template"]["spec"]
    pulls = [c for c in pod.get("initContainers") or [] if "bento.registry" in argv(c)]
    if not pulls:
        return errors + ["Deployment/bento: no initContainer runs python -m bento.registry pull"]
    pull, serve = pulls[0], pod["containers"][0]
    arguments = argv(pull)
    if option(arguments, "--version") != "$(MODEL_VERSION)":
        errors.append(f"Deployment/bento: the pull's --version is "
                      f"{option(arguments, '--version')!r}, not $(MODEL_VERSION)")
    if env_values(pull, objects).get("MODEL_VERSION") != pinned:
        errors.append(f"Deployment/bento: the pull gets MODEL_VERSION="
                      f"{env_values(pull, objects).get('MODEL_VERSION')!r}, not the pinned "
                      f"{pinned!r}")
    info = option(arguments, "--info-out")
    if info is None or env_values(serve, objects).get("RECOMMENDER_REGISTRY_INFO") != info:
        errors.append(f"Deployment/bento: RECOMMENDER_REGISTRY_INFO is not the pull's "
                      f"--info-out {info!r}")
    elif mount_of(pull, info) is None or mount_of(pull, info) != mount_of(serve, info):
        errors.append(f"Deployment/bento: {info} is not on a volume both containers mount")
    if "bento.service:PlaylistRecommender" not in argv(serve):
        errors.append("Deployment/bento: serves the built Bento (its baked model), not the "
                      "service from the pulled store")
    return errors


def mebibytes(quantity):
    units = {"Mi": 1, "Gi": 1024, "M": 1e6 / 2**20, "G": 1e9 / 2**20}
    for suffix, factor in units.items():
        if str(quantity).endswith(suffix):
            return float(str(quantity)[:-len(suffix)]) * factor
    return float(quantity) / 2**20


def retrain_cronjob_errors(objects):
    """A CronJob runs `python -m bento.retrain` with the Bento's image, reads the database URL
    from a mounted Secret, reaches MLflow through its Service, and gates memory on the Bento's
    real limit."""
    jobs = [(cj, c) for cj in of_kind(objects, "CronJob")
            for c in cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
            if argv(c)[:3] == ["python", "-m", "bento.retrain"]]
    if not jobs:
        return ["no CronJob runs python -m bento.retrain"]
    cronjob, job = jobs[0]
    name = name_of(cronjob)
    bento = next(d for d in of_kind(objects, "Deployment") if d["metadata"]["name"] == "bento")
    serving = pod_containers(bento)[0]
    errors = []
    if job["image"] != serving["image"]:
        errors.append(f"{name}: image {job['image']} is not the Bento's {serving['image']}")
    env = env_values(job, objects)
    limit = mebibytes(serving["resources"]["limits"]["memory"])
    if float(env.get("RETRAIN_MEMORY_LIMIT_MIB", "nan")) != limit:
        errors.append(f"{name}: RETRAIN_MEMORY_LIMIT_MIB={env.get('RETRAIN_MEMORY_LIMIT_MIB')} "
                      f"is not the Bento's memory limit ({limit:g} MiB)")
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    secrets = {v["name"] for v in pod.get("volumes") or [] if "secret" in v}
    if "DATABASE_URL" in env or mount_of(job, env.get("DATABASE_URL_FILE", "")) not in secrets:
        errors.append(f"{name}: the database URL is not a file mounted from a Secret "
                      "(DATABASE_URL_FILE)")
    uri = re.match(r"^http://([a-z0-9-]+):(\d+)$", str(env.get("MLFLOW_TRACKING_URI", "")))
    services = {(s["metadata"]["name"], p["port"]) for s in of_kind(objects, "Service")
                for p in s["spec"]["ports"]}
    if uri is None or (uri[1], int(uri[2])) not in services:
        errors.append(f"{name}: MLFLOW_TRACKING_URI {env.get('MLFLOW_TRACKING_URI')!r} is not "
                      "a Service of the overlay")
    return errors


def project_kind_errors(objects, project):
    """Every kind the overlay renders is one the AppProject lets ArgoCD manage."""
    spec = project["spec"]
    allowed = {(k["group"], k["kind"]) for key in ("clusterResourceWhitelist",
                                                   "namespaceResourceWhitelist")
               for k in spec.get(key, [])}
    rendered = {(o["apiVersion"].rpartition("/")[0], o["kind"]) for o in objects}
    return [f"the AppProject does not allow {kind} ({group or 'core'})"
            for group, kind in sorted(rendered - allowed)]
