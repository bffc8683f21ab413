"""The model registry: MLflow when MLFLOW_TRACKING_URI is set, else the local BentoML store.

    python -m bento.registry pull --version N [--info-out FILE]   # into the local BentoML store
    python -m bento.registry pull --alias champion

With MODEL_SOURCE (s3://..., the version's object) and MODEL_SHA256 set, as Git pins them in
model-version.env, `pull --version N` reads object storage directly (bento.objectstore): no
MLflow needed, and nothing is imported unless the bytes have the pinned sha256 (exit 1).
Without MODEL_SOURCE it pulls through MLflow, checking MODEL_SHA256 when set.

A registered version of `playlist_recommender` is BentoML's own export of the store entry
(`bentoml.models.export_model`, a .bentomodel file) logged by a training run, with that run's
parameters, metrics, data fingerprint, evaluation plot and gate report. Aliases: `champion`
(what prod serves, pinned in Git) and `challenger` (the last candidate, passed or not).
The Bento pods' initContainer runs `pull` into their BENTOML_HOME; `--info-out` writes what was
pulled for the Bento's /model_info.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from bento import objectstore

MODEL_NAME = "playlist_recommender"
EXPERIMENT = "playlist_recommender"
CHAMPION, CHALLENGER = "champion", "challenger"
BENTOMODEL_DIR = "bentomodel"


# Gate decisions a Bento may serve: promoted, or accepted with a failed pull request.
SERVABLE = ("promoted", "error")
TAG_LIMIT = 4900  # characters of an MLflow tag value, under the 5,000 of older servers


class NotServable(Exception):
    """The version exists but the gate rejected it (or has not judged it yet)."""


def enabled() -> bool:
    return bool(os.environ.get("MLFLOW_TRACKING_URI"))


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class MlflowRegistry:
    """Registered versions of one model in an MLflow tracking server."""

    def __init__(self, name: str = MODEL_NAME):
        from mlflow import MlflowClient  # imported late: the embedded default never needs it

        self.name = name
        self.client = MlflowClient()

    def version(self, alias: str):
        """The version an alias points at, or None when it points nowhere yet."""
        from mlflow.exceptions import MlflowException

        try:
            return self.client.get_model_version_by_alias(self.name, alias)
        except MlflowException as err:
            if err.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                return None
            raise

    def exists(self, version: str) -> bool:
        from mlflow.exceptions import MlflowException

        try:
            self.client.get_model_version(self.name, str(version))
        except MlflowException as err:
            if err.error_code == "RESOURCE_DOES_NOT_EXIST":
                return False
            raise
        return True

    def pull(self, version: str, sha256: str | None = None) -> dict:
        """Import a registered version into the local BentoML store (once); what was pulled.
        With `sha256`, only bytes with that digest are imported."""
        import bentoml
        from bentoml.exceptions import NotFound
        from mlflow.artifacts import download_artifacts

        found = self.client.get_model_version(self.name, str(version))
        verdict = json.loads(found.tags.get("gate") or "{}").get("decision")
        if verdict not in SERVABLE:  # Git may pin a number before its model is judged
            raise NotServable(f"version {version} of {self.name} is not servable: the gate's "
                              f"decision is {verdict or 'not recorded yet'}")
        tag = found.tags["bento_tag"]
        try:
            bentoml.models.get(tag)
        except NotFound:
            with tempfile.TemporaryDirectory(prefix="registry-pull-") as scratch:
                local = Path(download_artifacts(artifact_uri=found.source, dst_path=scratch))
                exported = next(local.rglob("*.bentomodel"))
                if sha256:
                    objectstore.verified(exported, sha256)
                bentoml.models.import_model(str(exported))
        return {"name": self.name, "version": str(found.version), "tag": tag,
                "aliases": sorted(found.aliases), "run_id": found.run_id,
                "promoted_at": found.tags.get("promoted_at"),
                "sha256": found.tags.get("sha256")}

    def pin(self, version: str) -> dict[str, str]:
        """What Git pins for a version: its number, its artifact's sha256 and object URI."""
        tags = self.client.get_model_version(self.name, str(version)).tags
        pin = {"MODEL_VERSION": str(version), "MODEL_SHA256": tags.get("sha256", "")}
        if tags.get("object_uri"):
            pin["MODEL_SOURCE"] = tags["object_uri"]
        return {key: value for key, value in pin.items() if value}

    def register(self, tag: str, params: dict, metrics: dict, fingerprint: str,
                 plot: Path, report: dict) -> dict:
        """One MLflow run for a training, its export registered as a new version, aliased
        `challenger`."""
        import bentoml
        import mlflow

        mlflow.set_experiment(EXPERIMENT)
        with mlflow.start_run(run_name=tag.replace(":", "-")) as run, \
                tempfile.TemporaryDirectory(prefix="registry-export-") as scratch:
            mlflow.log_params({key: json.dumps(value) if isinstance(value, (dict, list))
                               else value for key, value in params.items()})
            mlflow.log_metrics(metrics)
            mlflow.set_tags({"dataset": fingerprint, "bento_tag": tag})
            mlflow.log_artifact(str(plot), "evaluation")
            exported = bentoml.models.export_model(tag, str(Path(scratch) / tag.replace(":", "-")))
            mlflow.log_artifact(exported, BENTOMODEL_DIR)
            source = f"{run.info.artifact_uri}/{BENTOMODEL_DIR}"
            artifact = {"sha256": objectstore.sha256_of(Path(exported)),
                        "object_uri": objectstore.object_uri(
                            f"{source}/{Path(exported).name}") or ""}
        if not self.client.search_registered_models(f"name = '{self.name}'"):
            self.client.create_registered_model(self.name)
        created = self.client.create_model_version(
            self.name, source, run_id=run.info.run_id,
            tags={"bento_tag": tag, "dataset": fingerprint,
                  **{key: value for key, value in artifact.items() if value}})
        self.client.set_registered_model_alias(self.name, CHALLENGER, created.version)
        self.record(created.version, run.info.run_id, report)
        return {"version": str(created.version), "run_id": run.info.run_id}

    def record(self, version: str, run_id: str, report: dict) -> None:
        """The gate's report as the run's report.json and a compact version tag (the gateway
        shows the last challenger's result from it)."""
        self.client.log_dict(run_id, report, "report.json")
        self.client.set_model_version_tag(self.name, version, "gate", gate_tag(report))

    def promote(self, version: str, promoted_at: str | None = None) -> str:
        promoted_at = promoted_at or now()
        self.client.set_model_version_tag(self.name, version, "promoted_at", promoted_at)
        self.client.set_registered_model_alias(self.name, CHAMPION, version)
        return promoted_at


def pull_object(version: str, source: str, sha256: str, promoted_at: str | None = None) -> dict:
    """The pinned object into the local store without MLflow: downloaded to scratch (TMPDIR),
    its sha256 checked, then imported once; what was pulled."""
    import bentoml
    from bentoml.exceptions import NotFound

    with tempfile.TemporaryDirectory(prefix="registry-pull-") as scratch:
        local = objectstore.verified(objectstore.download(source, Path(scratch)), sha256)
        model = bentoml.Model.import_from(str(local))
        try:
            bentoml.models.get(model.tag)  # a retried initContainer: this pod imported it
        except NotFound:
            model.save()
        tag = str(model.tag)
    return {"name": MODEL_NAME, "version": str(version), "tag": tag, "aliases": [],
            "run_id": None, "promoted_at": promoted_at, "sha256": sha256, "source": source}


def pinned_artifact(version: str) -> tuple[str, str]:
    """MODEL_SOURCE and MODEL_SHA256 when they belong to this version (MODEL_VERSION)."""
    if os.environ.get("MODEL_VERSION", version).strip() != version:
        return "", ""
    return (os.environ.get("MODEL_SOURCE", "").strip(),
            os.environ.get("MODEL_SHA256", "").strip().lower())


def pull_pinned(version: str, source: str, sha256: str) -> tuple[int, dict | str]:
    """Exit code and what was pulled (or the error) for the object-storage path."""
    from botocore.exceptions import BotoCoreError, ClientError

    if len(sha256) != 64 or set(sha256) - set("0123456789abcdef"):
        return 2, (f"MODEL_SOURCE is set but MODEL_SHA256 {sha256!r} is not a sha256 hex "
                   "digest: refusing an unverified object")
    try:
        return 0, pull_object(version, source, sha256,
                              os.environ.get("MODEL_PROMOTED_AT", "").strip() or None)
    except ValueError as err:
        return 2, str(err)
    except objectstore.DigestMismatch as err:
        return 1, str(err)
    except (BotoCoreError, ClientError) as err:
        return 1, f"cannot read {source}: {err}"


def summary(report: dict) -> dict:
    """The few figures a person reads first: decision, reasons and the compared metrics."""
    return {key: report.get(key) for key in
            ("decision", "reasons", "notes", "candidate", "champion", "finished_at")}


def gate_tag(report: dict, limit: int = TAG_LIMIT) -> str:
    """The summary as JSON within MLflow's tag size; when it is longer, the decision alone
    (pull() reads the decision from this tag, so it must stay whole JSON, never cut)."""
    full = json.dumps(summary(report))
    if len(full) <= limit:
        return full
    return json.dumps({key: report.get(key) for key in ("decision", "finished_at")}
                      | {"truncated": "the full report is the run's report.json"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bento.registry", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    pull = commands.add_parser("pull", help="import a registered version into the local store")
    which = pull.add_mutually_exclusive_group(required=True)
    which.add_argument("--version", help="registered model version number")
    which.add_argument("--alias", choices=[CHAMPION, CHALLENGER])
    pull.add_argument("--info-out", type=Path, help="write what was pulled here (JSON)")
    args = parser.parse_args(argv)
    if args.version is not None and not args.version.isdigit():
        print(f"error: --version {args.version!r} is not a version number", file=sys.stderr)
        return 2
    source, sha256 = pinned_artifact(args.version) if args.version else ("", "")
    if source:
        code, info = pull_pinned(args.version, source, sha256)
        if code:
            print(f"error: {info}", file=sys.stderr)
            return code
        return write_info(info, args.info_out)
    if not enabled():
        print("error: MLFLOW_TRACKING_URI is not set and no MODEL_SOURCE is pinned (first "
              "deployment: the pin gets it from the first promotion pull request; this "
              "initContainer is retried until then)", file=sys.stderr)
        return 2
    from mlflow.exceptions import MlflowException

    registry = MlflowRegistry()
    try:
        version = args.version or getattr(registry.version(args.alias), "version", None)
        if version is None:
            print(f"error: alias {args.alias!r} of {MODEL_NAME} points at no version",
                  file=sys.stderr)
            return 2
        info = registry.pull(version, sha256 or None)
    except objectstore.DigestMismatch as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except NotServable as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except MlflowException as err:
        if err.error_code == "RESOURCE_DOES_NOT_EXIST":  # first deploy: the retrain Job makes it
            print(f"error: {err.message} (not registered yet: the retrain Job registers it; "
                  "this initContainer is retried until then)", file=sys.stderr)
            return 2
        print(f"error: {err.message}", file=sys.stderr)
        return 1
    return write_info(info, args.info_out)


def write_info(info: dict, info_out: Path | None) -> int:
    text = json.dumps(info, indent=2)
    if info_out:
        info_out.parent.mkdir(parents=True, exist_ok=True)
        info_out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
