"""The model registry: MLflow when MLFLOW_TRACKING_URI is set, else the local BentoML store.

    python -m bento.registry pull --version N [--info-out FILE]   # into the local BentoML store
    python -m bento.registry pull --alias champion

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

MODEL_NAME = "playlist_recommender"
EXPERIMENT = "playlist_recommender"
CHAMPION, CHALLENGER = "champion", "challenger"
BENTOMODEL_DIR = "bentomodel"


# Gate decisions a Bento may serve: promoted, or accepted with a failed pull request.
SERVABLE = ("promoted", "error")


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

    def pull(self, version: str) -> dict:
        """Import a registered version into the local BentoML store (once); what was pulled."""
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
                bentoml.models.import_model(str(exported))
        return {"name": self.name, "version": str(found.version), "tag": tag,
                "aliases": sorted(found.aliases), "run_id": found.run_id,
                "promoted_at": found.tags.get("promoted_at")}

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
        if not self.client.search_registered_models(f"name = '{self.name}'"):
            self.client.create_registered_model(self.name)
        created = self.client.create_model_version(
            self.name, source, run_id=run.info.run_id,
            tags={"bento_tag": tag, "dataset": fingerprint})
        self.client.set_registered_model_alias(self.name, CHALLENGER, created.version)
        self.record(created.version, run.info.run_id, report)
        return {"version": str(created.version), "run_id": run.info.run_id}

    def record(self, version: str, run_id: str, report: dict) -> None:
        """The gate's report as the run's report.json and a compact version tag (the gateway
        shows the last challenger's result from it)."""
        self.client.log_dict(run_id, report, "report.json")
        self.client.set_model_version_tag(self.name, version, "gate",
                                          json.dumps(summary(report))[:4900])

    def promote(self, version: str) -> str:
        promoted_at = now()
        self.client.set_model_version_tag(self.name, version, "promoted_at", promoted_at)
        self.client.set_registered_model_alias(self.name, CHAMPION, version)
        return promoted_at


def summary(report: dict) -> dict:
    """The few figures a person reads first: decision, reasons and the compared metrics."""
    return {key: report.get(key) for key in
            ("decision", "reasons", "notes", "candidate", "champion", "finished_at")}


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
    if not enabled():
        print("error: MLFLOW_TRACKING_URI is not set", file=sys.stderr)
        return 2
    if args.version is not None and not args.version.isdigit():
        print(f"error: --version {args.version!r} is not a version number", file=sys.stderr)
        return 2
    from mlflow.exceptions import MlflowException

    registry = MlflowRegistry()
    try:
        version = args.version or getattr(registry.version(args.alias), "version", None)
        if version is None:
            print(f"error: alias {args.alias!r} of {MODEL_NAME} points at no version",
                  file=sys.stderr)
            return 2
        info = registry.pull(version)
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
    text = json.dumps(info, indent=2)
    if args.info_out:
        args.info_out.parent.mkdir(parents=True, exist_ok=True)
        args.info_out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
