# Sourced by the image scripts: container tool configuration for a machine with no Docker engine.
# Everything lives under IMAGES_STATE_DIR (kept across runs, so cached base images stay cached).
# shellcheck shell=bash disable=SC2034  # the variables are for the scripts that source this

IMAGES_STATE_DIR="${IMAGES_STATE_DIR:-/var/tmp/playlist-recs-containers}"

# The base images each FROM line names; scripts/images/bases.sh builds local stand-ins for them.
PYTHON_BASE_IMAGE="docker.io/library/python:3.11.13-slim-bookworm"
NGINX_BASE_IMAGE="docker.io/library/nginx:1.28.0-bookworm"

# Tags of the project's own images.
IMAGE_PREFIX="${IMAGE_PREFIX:-localhost/playlist-recs}"
IMAGE_TAG="${IMAGE_TAG:-dev}"
BENTO_IMAGE="$IMAGE_PREFIX/bento:$IMAGE_TAG"
GATEWAY_IMAGE="$IMAGE_PREFIX/gateway:$IMAGE_TAG"
FRONTEND_IMAGE="$IMAGE_PREFIX/frontend:$IMAGE_TAG"
# The Spark retrain image (bento/Dockerfile.spark): the Bento image plus Java and PySpark.
SPARK_IMAGE="$IMAGE_PREFIX/bento-spark:$IMAGE_TAG"
# The Bento image has no model: build.sh exports the sample model here, and smoke.py imports it
# into the Bento's BENTOML_HOME before start, as the Kubernetes initContainer does from MLflow.
MODEL_EXPORT="$IMAGES_STATE_DIR/model/playlist_recommender.bentomodel"

mkdir -p "$IMAGES_STATE_DIR/conf"
# Kernel overlayfs works here and is ~25x faster than vfs.
cat > "$IMAGES_STATE_DIR/conf/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$IMAGES_STATE_DIR/storage"
runroot = "$IMAGES_STATE_DIR/run"
CONF
# crun fails on this host's hybrid cgroups and the default ulimits cannot be set: use runc and
# lower limits; no systemd, so cgroupfs and a file events log.
cat > "$IMAGES_STATE_DIR/conf/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
export CONTAINERS_STORAGE_CONF="$IMAGES_STATE_DIR/conf/storage.conf"
export CONTAINERS_CONF="$IMAGES_STATE_DIR/conf/containers.conf"
export BUILDAH_ISOLATION=chroot
export BENTOML_DO_NOT_TRACK=True

image_exists() {
  buildah inspect --type image "$1" >/dev/null 2>&1
}

log() {
  printf '[images %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
}
