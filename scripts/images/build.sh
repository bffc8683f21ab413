#!/usr/bin/env bash
# Build the images with buildah, against local stand-ins for their base images:
#   bento    bentoml build + bentoml containerize (--backend buildah) with bento/Dockerfile.j2:
#            no model in the image; the model trained from the seeded sample data in a throwaway
#            BENTOML_HOME is exported to MODEL_EXPORT for smoke.py to import at start
#   gateway  gateway/Dockerfile (context: repository root)
#   frontend frontend/Dockerfile (context: frontend/)
#   bento-spark bento/Dockerfile.spark on top of the Bento image (k8s/components/spark-retrain)
# Layers are cached in the storage graphroot (see env.sh), so a second run is quick.
# Environment: IMAGE_TAG (default dev), IMAGES_STATE_DIR, PYTHON (default .venv/bin/python).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=scripts/images/env.sh
. "$here/env.sh"
PYTHON="${PYTHON:-$repo/.venv/bin/python}"
BENTOML="$(dirname "$PYTHON")/bentoml"
cd "$repo"

# One build at a time per state folder (make images and the test suite may overlap).
exec 9>"$IMAGES_STATE_DIR/build.lock"
flock 9

work=$(mktemp -d "${TMPDIR:-/tmp}/playlist-recs-images.XXXXXX")
trap 'rm -rf "$work"' EXIT
started=$SECONDS

# --- The Bento: data -> model store -> bento, all inside the throwaway BENTOML_HOME -----------
export BENTOML_HOME="$work/bentoml"
log "training the model on the seeded sample data"
if ! { "$PYTHON" -m bento.datagen --out "$work/data" --seed 0 \
       && "$PYTHON" -m bento.train --data "$work/data"; } >"$work/train.log" 2>&1; then
  tail -n 30 "$work/train.log" >&2
  exit 1
fi
mkdir -p "$(dirname "$MODEL_EXPORT")"
rm -f "$MODEL_EXPORT"
"$BENTOML" models export playlist_recommender:latest "$MODEL_EXPORT" >"$work/export.log" 2>&1 \
  || { cat "$work/export.log" >&2; exit 1; }
log "bentoml build"
bento_tag=$("$BENTOML" build . --output tag 2>"$work/bento-build.log" | sed -n 's/^__tag__://p') \
  || { cat "$work/bento-build.log" >&2; exit 1; }
[ -n "$bento_tag" ] || { cat "$work/bento-build.log" >&2; exit 1; }
bento_dir="$BENTOML_HOME/bentos/${bento_tag%%:*}/${bento_tag#*:}"

# The base image BentoML's generated Dockerfile starts from, fully qualified the way
# podman resolves a short name that exists locally (python:3.11-slim -> docker.io/library/...).
bento_base=$(awk 'toupper($1) == "FROM" { print $2; exit }' "$bento_dir/env/docker/Dockerfile")
case "$bento_base" in
  */*/*) ;;
  */*) bento_base="docker.io/$bento_base" ;;
  *) bento_base="docker.io/library/$bento_base" ;;
esac

# --- Stand-in base images (cached) -----------------------------------------------------------
bash "$here/bases.sh" "$bento_base"

# --- The three images ------------------------------------------------------------------------
image_ids() {
  local tag
  for tag in "$BENTO_IMAGE" "$GATEWAY_IMAGE" "$FRONTEND_IMAGE" "$SPARK_IMAGE"; do
    podman image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true
  done
}
mapfile -t previous_ids < <(image_ids)

# --format docker keeps HEALTHCHECK (the OCI image format has no field for it).
build() {
  local name="$1"
  shift
  log "building $name"
  if ! buildah build --pull=never --layers --format docker "$@" >"$work/$name.log" 2>&1; then
    tail -n 40 "$work/$name.log" >&2
    exit 1
  fi
}
build gateway -f gateway/Dockerfile -t "$GATEWAY_IMAGE" .
build frontend -f frontend/Dockerfile -t "$FRONTEND_IMAGE" frontend

log "bentoml containerize $bento_tag (base $bento_base)"
# From /: BentoML 1.4.40 resolves docker.dockerfile_template inside its temporary build context
# and refuses a path outside the working directory, so the working directory must contain it.
if ! (cd / && "$BENTOML" containerize "$bento_tag" --backend buildah --opt pull-never \
    --opt layers -t "$BENTO_IMAGE") >"$work/bento.log" 2>&1; then
  tail -n 40 "$work/bento.log" >&2
  exit 1
fi
build bento-spark -f bento/Dockerfile.spark --build-arg "BENTO_IMAGE=$BENTO_IMAGE" \
  -t "$SPARK_IMAGE" .

# Drop the images these tags pointed at before, so the storage does not grow run by run; the
# layers and build stages the new images were built from stay cached. Only an image left with no
# name goes: removing by ID also drops any tag still on it, and a CI run once lost the frontend
# image that way (podman rmi untagged frontend:dev), so a named image is never touched here.
for old_id in "${previous_ids[@]}"; do
  names=$(podman image inspect --format '{{len .RepoTags}}' "$old_id" 2>/dev/null || echo gone)
  if [ "$names" = 0 ]; then
    podman rmi "$old_id" >/dev/null 2>&1 || true
  fi
done
for tag in "$BENTO_IMAGE" "$GATEWAY_IMAGE" "$FRONTEND_IMAGE" "$SPARK_IMAGE"; do
  image_exists "$tag" || { log "$tag is missing after the build"; exit 1; }
done

log "built $BENTO_IMAGE $GATEWAY_IMAGE $FRONTEND_IMAGE $SPARK_IMAGE in $((SECONDS - started))s"
for tag in "$BENTO_IMAGE" "$GATEWAY_IMAGE" "$FRONTEND_IMAGE" "$SPARK_IMAGE"; do
  log "$(podman image inspect --format '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1 / 1e6}') $tag"
done
