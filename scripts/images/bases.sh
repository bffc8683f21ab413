#!/usr/bin/env bash
# Build local stand-ins for the base images our Dockerfiles name, since nothing can be pulled here:
# a debootstrap minbase bookworm rootfs, plus what each official image provides on top of it.
# Each stand-in is cached in the storage graphroot under a tag derived from its recipe, so a second
# run only re-tags. Usage: bases.sh [EXTRA_PYTHON_TAG...] (more tags for the Python stand-in).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/images/env.sh
. "$here/env.sh"

MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
STANDINS="$here/standins"

fingerprint() {
  cat "$@" | sha256sum | cut -c1-16
}

# STANDIN_ARCHIVE_DIR (optional): stand-ins are also kept there as OCI archives named by their
# recipe hash, which CI caches between runs (a container storage itself does not survive a cache).
archive_of() {
  printf '%s/%s-%s.tar' "$STANDIN_ARCHIVE_DIR" "$1" "$2"
}

# build_standin NAME HASH CONTEXT_DIR CONTAINERFILE [BUILD ARGS...] -> prints the cached tag
build_standin() {
  local name="$1" hash="$2" context="$3" containerfile="$4"
  shift 4
  local tag="localhost/standin/$name:$hash"
  if image_exists "$tag"; then
    log "stand-in $name cached ($tag)"
  elif [ -n "${STANDIN_ARCHIVE_DIR:-}" ] && [ -f "$(archive_of "$name" "$hash")" ]; then
    log "stand-in $name from $(archive_of "$name" "$hash")"
    podman load -q -i "$(archive_of "$name" "$hash")" >/dev/null
    image_exists "$tag" || { log "$(archive_of "$name" "$hash") did not hold $tag"; exit 1; }
  else
    log "building stand-in $name ($tag)"
    buildah build --pull=never --quiet --layers=false "$@" -f "$containerfile" -t "$tag" \
      "$context" >/dev/null
    if [ -n "${STANDIN_ARCHIVE_DIR:-}" ]; then
      mkdir -p "$STANDIN_ARCHIVE_DIR"
      rm -f "$STANDIN_ARCHIVE_DIR/$name-"*.tar
      podman save -q --format oci-archive -o "$(archive_of "$name" "$hash")" "$tag"
    fi
  fi
  printf '%s\n' "$tag"
}

debian_hash=$(printf 'minbase bookworm %s\n' "$MIRROR" \
  | cat - "$STANDINS/debian.Containerfile" | sha256sum | cut -c1-16)
debian_tag="localhost/standin/debian:$debian_hash"
work=$(mktemp -d "$IMAGES_STATE_DIR/standins.XXXXXX")
trap 'rm -rf "$work"' EXIT
if ! image_exists "$debian_tag" && [ -n "${STANDIN_ARCHIVE_DIR:-}" ] \
    && [ -f "$(archive_of debian "$debian_hash")" ]; then
  build_standin debian "$debian_hash" /nonexistent /nonexistent >/dev/null
fi
if ! image_exists "$debian_tag"; then
  log "debootstrap --variant=minbase bookworm ($MIRROR)"
  debootstrap --variant=minbase bookworm "$work/rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 40 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/var/cache/apt/"*.bin
  mkdir "$work/debian"
  tar -C "$work/rootfs" -cf "$work/debian/rootfs.tar" .
  rm -rf "$work/rootfs"
  build_standin debian "$debian_hash" "$work/debian" "$STANDINS/debian.Containerfile" >/dev/null
  rm -rf "$work/debian"
else
  log "stand-in debian cached ($debian_tag)"
fi

# The Python stand-in carries the host's CA bundle so pip can reach PyPI during image builds.
cp -r "$STANDINS" "$work/context"
cp /etc/ssl/certs/ca-certificates.crt "$work/context/host-ca-certificates.crt"
python_tag=$(build_standin python \
  "$(fingerprint <(echo "$debian_hash") "$STANDINS/python.Containerfile" \
      "$work/context/host-ca-certificates.crt")" \
  "$work/context" "$STANDINS/python.Containerfile" --build-arg "DEBIAN_IMAGE=$debian_tag")

nginx_tag=$(build_standin nginx \
  "$(fingerprint <(echo "$debian_hash") "$STANDINS/nginx.Containerfile" "$STANDINS"/nginx/*)" \
  "$work/context" "$STANDINS/nginx.Containerfile" --build-arg "DEBIAN_IMAGE=$debian_tag")

for name in "$PYTHON_BASE_IMAGE" "$@"; do
  buildah tag "$python_tag" "$name"
done
buildah tag "$nginx_tag" "$NGINX_BASE_IMAGE"
# Stand-ins of older recipes go (those that images still build on stay until those images go).
for stale in $(podman images --format '{{.Repository}}:{{.Tag}}'); do
  case "$stale" in
    "$debian_tag" | "$python_tag" | "$nginx_tag") ;;
    localhost/standin/*) podman rmi "$stale" >/dev/null 2>&1 || true ;;
  esac
done
log "stand-ins ready: $PYTHON_BASE_IMAGE $* $NGINX_BASE_IMAGE"
