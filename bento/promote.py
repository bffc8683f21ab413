"""Promotion through Git: prod serves the version pinned in k8s/overlays/prod/model-version.env.

The pin names the version and the bytes: MODEL_VERSION=N, MODEL_SHA256 (the version's
.bentomodel), MODEL_SOURCE (its s3:// object) and MODEL_PROMOTED_AT, so a Bento pod imports
exactly what was reviewed, from object storage, without MLflow. The retrain job writes the pin
(`--pin-file`) and can open a pull request changing only that file (`--open-pr`, GitHub REST
API); merging it is the promotion, reverting it the rollback.
Settings: GITHUB_REPOSITORY (owner/name), GITHUB_TOKEN or GITHUB_TOKEN_FILE (a mounted
secret), GITHUB_BASE_BRANCH (main), GITHUB_API_URL (https://api.github.com).
"""
from __future__ import annotations

import base64
import json
import os
import tempfile
from pathlib import Path

import httpx

PIN_PATH = "k8s/overlays/prod/model-version.env"
PIN_KEY = "MODEL_VERSION"
# MODEL_PROMOTED_AT: when the gate accepted it (the Bento's promotion metric, without MLflow).
PIN_KEYS = (PIN_KEY, "MODEL_SHA256", "MODEL_SOURCE", "MODEL_PROMOTED_AT")


class PromotionError(RuntimeError):
    """The pull request could not be opened (settings missing or GitHub said no)."""


def as_pin(pin: str | dict) -> dict[str, str]:
    """A pin from a version number alone (no digest known) or from the registry's pin()."""
    return {PIN_KEY: pin} if isinstance(pin, str) else pin


def pin_text(pin: str | dict) -> str:
    pin = as_pin(pin)
    return "".join(f"{key}={pin[key]}\n" for key in PIN_KEYS if pin.get(key))


def read_pins(path: Path) -> dict[str, str]:
    """Every pinned key with a value; {} when the file is missing."""
    if not path.is_file():
        return {}
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        if key.strip() in PIN_KEYS and value.strip():
            found[key.strip()] = value.strip()
    return found


def read_pin(path: Path) -> str | None:
    """The pinned version, or None when the file is missing or pins nothing."""
    return read_pins(path).get(PIN_KEY)


def write_pin(path: Path, pin: str | dict) -> None:
    """Replace the file in one rename, so ArgoCD or a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(handle, 0o644)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(pin_text(pin))
        os.replace(tmp_name, path)
    except BaseException:
        os.unlink(tmp_name)
        raise


def github_token(env=None) -> str:
    env = os.environ if env is None else env
    if env.get("GITHUB_TOKEN"):
        return env["GITHUB_TOKEN"].strip()
    if env.get("GITHUB_TOKEN_FILE"):
        return Path(env["GITHUB_TOKEN_FILE"]).read_text(encoding="utf-8").strip()
    raise PromotionError("--open-pr needs GITHUB_TOKEN or GITHUB_TOKEN_FILE")


class GitHub:
    """The four REST calls a pin change needs: branch, file, pull request."""

    def __init__(self, repository: str, token: str, api_url: str = "https://api.github.com",
                 transport: httpx.BaseTransport | None = None):
        if repository.count("/") != 1:
            raise PromotionError(f"GITHUB_REPOSITORY {repository!r} is not owner/name")
        self.repo = repository
        self.http = httpx.Client(base_url=api_url, transport=transport, timeout=30, headers={
            "Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28"})

    def call(self, method: str, path: str, **kwargs) -> httpx.Response:
        response = self.http.request(method, f"/repos/{self.repo}{path}", **kwargs)
        if response.status_code >= 400 and response.status_code != 404:
            raise PromotionError(f"GitHub {method} {path}: {response.status_code} "
                                 f"{response.text[:300]}")
        return response

    def open_pr(self, pin: str | dict, summary: dict, base: str = "main") -> str:
        """A branch `model-version-N` with the pin changed, and a pull request; its URL."""
        version = as_pin(pin)[PIN_KEY]
        head = self.call("GET", f"/git/ref/heads/{base}")
        if head.status_code == 404:
            raise PromotionError(f"base branch {base!r} not found in {self.repo}")
        branch = f"model-version-{version}"
        self.call("POST", "/git/refs", json={"ref": f"refs/heads/{branch}",
                                             "sha": head.json()["object"]["sha"]})
        current = self.call("GET", f"/contents/{PIN_PATH}", params={"ref": branch})
        change = {"message": f"Promote {PIN_KEY}={version}", "branch": branch,
                  "content": base64.b64encode(pin_text(pin).encode()).decode()}
        if current.status_code != 404:
            change["sha"] = current.json()["sha"]
        self.call("PUT", f"/contents/{PIN_PATH}", json=change)
        pull = self.call("POST", "/pulls", json={
            "title": f"Promote playlist_recommender version {version}", "head": branch,
            "base": base, "body": "The retrain gate accepted this model:\n\n```json\n"
                                  + json.dumps(summary, indent=2) + "\n```\n"})
        return pull.json()["html_url"]


def open_pull_request(pin: str | dict, summary: dict, env=None,
                      transport: httpx.BaseTransport | None = None) -> str:
    env = os.environ if env is None else env
    repository = env.get("GITHUB_REPOSITORY", "")
    if not repository:
        raise PromotionError("--open-pr needs GITHUB_REPOSITORY (owner/name)")
    github = GitHub(repository, github_token(env),
                    env.get("GITHUB_API_URL", "https://api.github.com"), transport)
    return github.open_pr(pin, summary, env.get("GITHUB_BASE_BRANCH", "main"))
