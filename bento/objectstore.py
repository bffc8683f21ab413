"""The model artifact in S3-compatible object storage, read without MLflow (issue 25).

MLflow's server writes every version's `.bentomodel` under its `--artifacts-destination`
(MODEL_STORE_URI, s3://BUCKET/PREFIX); Git pins that object's URI and sha256, so a Bento pod
starts from object storage alone and proves it imports exactly the reviewed bytes. boto3 takes
its endpoint (AWS_ENDPOINT_URL) and credentials (AWS_SHARED_CREDENTIALS_FILE, a mounted
Secret) from the environment, never from argv.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import urlsplit

PROXIED = "mlflow-artifacts:"
CHUNK = 1 << 20


class DigestMismatch(Exception):
    """The downloaded bytes are not the ones Git pins."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as data:
        for block in iter(lambda: data.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def object_uri(artifact_uri: str, store_uri: str | None = None) -> str | None:
    """Where object storage holds an MLflow artifact: an s3:// URI as it is, a proxied
    `mlflow-artifacts:/PATH` under the server's destination (MODEL_STORE_URI); else None."""
    if artifact_uri.startswith("s3://"):
        return artifact_uri
    store_uri = store_uri if store_uri is not None else os.environ.get("MODEL_STORE_URI", "")
    if artifact_uri.startswith(PROXIED) and store_uri.startswith("s3://"):
        path = urlsplit(artifact_uri).path.lstrip("/")
        return f"{store_uri.rstrip('/')}/{path}"
    return None


def download(uri: str, scratch: Path) -> Path:
    """One s3://BUCKET/KEY object into `scratch`; its local path."""
    import boto3

    parts = urlsplit(uri)
    if parts.scheme != "s3" or not parts.netloc or not parts.path.strip("/"):
        raise ValueError(f"MODEL_SOURCE {uri!r} is not an s3://BUCKET/KEY URI")
    local = scratch / Path(parts.path).name
    boto3.client("s3").download_file(parts.netloc, parts.path.lstrip("/"), str(local))
    return local


def verified(path: Path, expected: str) -> Path:
    """`path` when its sha256 is `expected`; else it is deleted and DigestMismatch raised."""
    actual = sha256_of(path)
    if actual != expected.strip().lower():
        path.unlink()
        raise DigestMismatch(f"{path.name}: sha256 {actual} is not the pinned MODEL_SHA256 "
                             f"{expected.strip()}: refusing to import it")
    return path
