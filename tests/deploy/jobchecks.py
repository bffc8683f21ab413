"""Day-one rules of the model side (issue 25): what the Job controller does with the retrain
pod's exit codes, and a model in every Bento pod.

`job_outcome` follows the Kubernetes rules for a pod that exited (batch/v1 Job, restartPolicy
Never): exit 0 completes the Job; a failed pod is matched against `podFailurePolicy.rules` in
order, where `Ignore` creates a replacement pod without counting it, `FailJob` ends the Job,
`Count` (and no matching rule) counts the failure against `backoffLimit`.
"""
from tests.deploy.crosschecks import argv, env_values, mount_of, of_kind
from tests.deploy.manifests import name_of

RETRAIN = ["python", "-m", "bento.retrain"]
DEFAULT_REJECTED_EXIT = 3  # bento.retrain's REJECTED


def rule_matches(rule, container, exit_code):
    on_codes = rule.get("onExitCodes")
    if on_codes is None:  # onPodConditions: a disruption, not an exit code
        return False
    if on_codes.get("containerName") not in (None, container):
        return False
    inside = exit_code in on_codes["values"]
    return inside if on_codes["operator"] == "In" else not inside


def job_outcome(job_spec, container, exit_code):
    """Complete, Failed, Retried (counted, a new pod after a backoff) or Replaced (Ignore: a new
    pod at once, not counted, so the same run starts again)."""
    if exit_code == 0:
        return "Complete"
    for rule in (job_spec.get("podFailurePolicy") or {}).get("rules", []):
        if rule_matches(rule, container, exit_code):
            action = rule["action"]
            if action == "Ignore":
                return "Replaced"
            if action == "FailJob":
                return "Failed"
            break  # Count: the default path below
    return "Retried" if job_spec.get("backoffLimit", 6) >= 1 else "Failed"


def retrain_job_errors(objects):
    """A rejected candidate ends Complete, bad input (2) fails at once, an outage (1) is retried
    with backoff."""
    for cronjob in of_kind(objects, "CronJob"):
        job = cronjob["spec"]["jobTemplate"]["spec"]
        for container in job["template"]["spec"]["containers"]:
            arguments = argv(container)
            if arguments[:3] != RETRAIN:
                continue
            rejected = DEFAULT_REJECTED_EXIT
            if "--rejected-exit-code" in arguments:
                rejected = int(arguments[arguments.index("--rejected-exit-code") + 1])
            wanted = {rejected: "Complete", 2: "Failed", 1: "Retried"}
            where = name_of(cronjob)
            return [f"{where}: exit {code} ({meaning}) ends {got}, not {wanted[code]}"
                    for code, meaning in ((rejected, "rejected"), (2, "bad input"),
                                          (1, "outage"))
                    if (got := job_outcome(job, container["name"], code)) != wanted[code]]
    return ["no CronJob runs python -m bento.retrain"]


MODEL_MAKERS = (["python", "-m", "bento.registry", "pull"], ["python", "-m", "bento.train"])


def bento_model_errors(objects):
    """The image carries no model, so every overlay's Bento pod makes or imports one: an init
    container runs `bento.registry pull` or `bento.train` into the store (BENTOML_HOME) that the
    serving container reads, on a volume both mount."""
    bento = next((d for d in of_kind(objects, "Deployment") if d["metadata"]["name"] == "bento"),
                 None)
    if bento is None:
        return ["no Deployment/bento"]
    pod = bento["spec"]["template"]["spec"]
    serve = pod["containers"][0]
    home = env_values(serve, objects).get("BENTOML_HOME", "")
    store = mount_of(serve, home + "/")
    for init in pod.get("initContainers") or []:
        arguments = argv(init)
        if not any(arguments[:len(maker)] == maker for maker in MODEL_MAKERS):
            continue
        if env_values(init, objects).get("BENTOML_HOME") == home and store is not None \
                and mount_of(init, home + "/") == store:
            return []
    return ["Deployment/bento: no init container puts a model into the store the Bento "
            f"serves from ({home or 'BENTOML_HOME unset'})"]
