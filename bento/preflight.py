"""What can fail at the end of a training, checked before its search starts: the model name, the
model store (writable, room for the model), the report path and the MLflow server. A training
takes minutes on a real catalogue; a typo in a setting should cost a second, not that."""
from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

MIB = 1 << 20
# An upper bound of what ItemItemModel.save writes per catalogue size: a dense block of at most
# 4,096 items (float32), sparse neighbour lists of at most 200 per item (value + index, twice with
# content), item factors of at most 256, and the catalogue's JSON.
DENSE_MAX_ITEMS, NEIGHBOURS, FACTORS, CATALOGUE_BYTES = 4096, 200, 256, 1024
SPARE_BYTES = 64 * MIB
MLFLOW_TIMEOUT_SECONDS = 10.0


class PreflightError(Exception):
    """A setting or a place the training could not finish with; nothing was computed."""


def store_dir() -> Path:
    """Where `bentoml.models.create` writes: $BENTOML_HOME/models (BentoML's default home is
    ~/bentoml)."""
    return Path(os.environ.get("BENTOML_HOME") or "~/bentoml").expanduser() / "models"


def check_model_name(name: str) -> None:
    import bentoml

    try:
        tag = bentoml.Tag.from_taglike(name)
    except ValueError as err:
        raise PreflightError(f"--model-name {name!r}: {err}") from None
    if tag.version is not None:
        raise PreflightError(f"--model-name {name!r}: a name without ':version' (the store "
                             "gives each save its own version)")


def check_writable(directory: Path, what: str) -> None:
    """`directory` exists (made if need be) and takes a file."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".preflight-"):
            pass
    except OSError as err:
        raise PreflightError(f"{what} {directory} is not writable: {err.strerror or err}") \
            from None


def model_bytes(n_items: int) -> int:
    """An upper bound of a saved model's size for a catalogue of `n_items`."""
    dense = min(n_items, DENSE_MAX_ITEMS) ** 2 * 4
    return dense + n_items * (NEIGHBOURS * 8 * 2 + FACTORS * 4 + CATALOGUE_BYTES)


def check_room(n_items: int, directory: Path | None = None) -> None:
    """The store's disk has room for a model of `n_items` playlists."""
    directory = directory or store_dir()
    needed = model_bytes(n_items) + SPARE_BYTES
    free = shutil.disk_usage(directory).free
    if free < needed:
        raise PreflightError(f"the model store {directory} has {free / MIB:.0f} MiB free; a model "
                             f"of {n_items} playlists needs up to {needed / MIB:.0f} MiB")


def check_mlflow(uri: str) -> None:
    """MLFLOW_TRACKING_URI answers: an HTTP server's /health, any other store by a query."""
    if uri.startswith(("http://", "https://")):
        url = uri.rstrip("/") + "/health"
        try:
            with urllib.request.urlopen(url, timeout=MLFLOW_TIMEOUT_SECONDS) as response:
                if response.status == 200:
                    return
                reason = f"HTTP {response.status}"
        except urllib.error.HTTPError as err:
            reason = f"HTTP {err.code}"
        except (OSError, ValueError) as err:
            reason = str(getattr(err, "reason", err))
        raise PreflightError(f"MLFLOW_TRACKING_URI={uri}: {url} did not answer ({reason}); "
                             "start the server or unset the variable")
    try:
        from mlflow import MlflowClient

        MlflowClient(tracking_uri=uri).search_experiments(max_results=1)
    except Exception as err:  # any store error: the run could not be logged at the end
        raise PreflightError(f"MLFLOW_TRACKING_URI={uri}: {type(err).__name__}: {err}") from None


def check_outputs(model_name: str, metrics_out: Path | None) -> None:
    """Everything a training writes to at its end, before it starts."""
    check_model_name(model_name)
    check_writable(store_dir(), "the model store")
    if metrics_out is not None:
        if metrics_out.is_dir():
            raise PreflightError(f"--metrics-out {metrics_out} is a directory")
        check_writable(metrics_out.resolve().parent, "--metrics-out's folder")
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        check_mlflow(uri)
