"""A training's MLflow run (when MLFLOW_TRACKING_URI is set): its parameters, metrics, the data
fingerprint, the store tag and the evaluation plot. `bento.train` logs every run here; the
registry (bento.registry) registers versions only behind the retrain job's gate."""
from __future__ import annotations

import json
from pathlib import Path

EXPERIMENT = "playlist_recommender"


def flat_metrics(groups: dict[str, dict | None]) -> dict[str, float]:
    """Metric names MLflow accepts (no '@'): {"model": {"recall@10": x}} -> model/recall_at_10."""
    flat = {}
    for group, metrics in groups.items():
        for name, value in (metrics or {}).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                flat[f"{group}/{name.replace('@', '_at_')}"] = float(value)
    return flat


def log_params(params: dict) -> None:
    import mlflow

    mlflow.log_params({key: json.dumps(value) if isinstance(value, (dict, list)) else value
                       for key, value in params.items()})


def log_training(tag: str, params: dict, metrics: dict[str, float], fingerprint: str,
                 plot: Path | None) -> str:
    """One run named after the store tag; its run id."""
    import mlflow

    mlflow.set_experiment(EXPERIMENT)
    with mlflow.start_run(run_name=tag.replace(":", "-")) as run:
        log_params(params)
        mlflow.log_metrics(metrics)
        mlflow.set_tags({"dataset": fingerprint, "bento_tag": tag, "source": "bento.train"})
        if plot is not None:
            mlflow.log_artifact(str(plot), "evaluation")
    return run.info.run_id
