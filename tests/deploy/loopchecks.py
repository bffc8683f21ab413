"""The release loop converges (issue 25, defect 1): CD releases only when something that goes
into an image changed, and prod is proposed only the digests dev runs healthy."""
import re

import yaml

from tests.deploy.release_checks import job_permissions, steps_text, triggers

NEEDED = "scripts/images/release-needed.sh"
DEV_RELEASE = "scripts/images/dev-release.sh"


def scripts_text(job):
    """The job's run scripts as written, and its steps' inputs."""
    return "\n".join(step.get("run", "") + "\n" + yaml.safe_dump(step.get("with", {}))
                     for step in job.get("steps", []))


def release_gate_errors(text):
    """cd.yml: one job asks release-needed.sh, and every other job waits for its `true`."""
    workflow = yaml.safe_load(text)
    jobs = workflow["jobs"]
    asking = [job_id for job_id, job in jobs.items() if NEEDED in steps_text(job)]
    if len(asking) != 1:
        return [f"no single job runs {NEEDED}"]
    gate = asking[0]
    if not re.search(rf"{re.escape(NEEDED)} \"\$RELEASE_SHA\" >> \"\$GITHUB_OUTPUT\"",
                     scripts_text(jobs[gate])):
        return [f"{gate}: does not pass RELEASE_SHA's verdict on as a job output"]
    errors = []
    checkout = [s for s in jobs[gate]["steps"] if s.get("uses", "").startswith(
        "actions/checkout@")]
    if not checkout or checkout[0].get("with", {}).get("fetch-depth") != 0:
        errors.append(f"{gate}: checks out without the history the diff needs")
    for job_id, job in jobs.items():
        needs = job.get("needs") or []
        needs = [needs] if isinstance(needs, str) else needs
        if job_id == gate:
            continue
        if not needs:
            errors.append(f"{job_id}: runs without asking {gate}")
        elif gate in needs and job.get("if") != f"needs.{gate}.outputs.release == 'true'":
            errors.append(f"{job_id}: runs even when {gate} finds nothing to release")
    return errors


def prod_promotion_errors(text):
    """promote-prod.yml: started by Argo CD's dev-healthy dispatch (or by hand with a
    revision), pins what dev-release.sh reads at that revision, App token, never auto-merged."""
    workflow = yaml.safe_load(text)
    errors = []
    on = triggers(workflow)
    if set(on) != {"repository_dispatch", "workflow_dispatch"} \
            or (on["repository_dispatch"] or {}).get("types") != ["dev-healthy"]:
        errors.append(f"prod promotion starts on {sorted(on)}, not dev-healthy or by hand")
    [job] = workflow["jobs"].values()
    body = scripts_text(job)
    if not re.search(rf"{re.escape(DEV_RELEASE)} \"\$REVISION\" >> \"\$GITHUB_ENV\"", body):
        errors.append(f"the digests do not come from {DEV_RELEASE} at the healthy revision")
    if "RUNNING=" not in body or "client_payload.images" not in str(job.get("env")):
        errors.append("the images Argo CD reports running are not checked")
    for digest in ("BENTO_DIGEST", "GATEWAY_DIGEST", "FRONTEND_DIGEST"):
        if not re.search(rf"@\${digest}\"", body):
            errors.append(f"prod does not pin ${digest} from dev")
    if job_permissions(job).get("contents") != "read" or "gh pr merge" in body:
        errors.append("prod's pull request must wait for a reviewer, opened by the App")
    if "steps.app.outputs.token" not in body or "branch: release/prod" not in body:
        errors.append("no release/prod pull request opened with the App's token")
    return errors
