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

# build_standin NAME HASH CONTEXT_DIR CONTAINERFILE [BUILD ARGS...] -> prints the cached tag
build_standin() {
  local name="$1" hash="$2" context="$3" containerfile="$4"
  shift 4
  local tag="localhost/standin/$name:$hash"
  if image_exists "$tag"; then
    log "stand-in $name cached ($tag)"
  else
    log "building stand-in $name ($tag)"
    buildah build --pull=never --quiet --layers=false "$@" -f "$containerfile" -t "$tag" \
      "$context" >/dev/null
  fi
  printf '%s\n' "$tag"
}

debian_hash=$(printf 'minbase bookworm %s\n' "$MIRROR" \
  | cat - "$STANDINS/debian.Containerfile" | sha256sum | cut -c1-16)
debian_tag="localhost/standin/debian:$debian_hash"
if ! image_exists "$debian_tag"; then
  work=$(mktemp -d "$IMAGES_STATE_DIR/debootstrap.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  log "debootstrap --variant=minbase bookworm ($MIRROR)"
  debootstrap --variant=minbase bookworm "$work/rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 40 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/var/cache/apt/"*.bin
  tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
  rm -rf "$work/rootfs"
  cp "$STANDINS/debian.Containerfile" "$work/Containerfile"
  build_standin debian "$debian_hash" "$work" "$work/Containerfile" >/dev/null
  rm -rf "$work"
  trap - EXIT
else
  log "stand-in debian cached ($debian_tag)"
fi

# The Python stand-in carries the host's CA bundle so pip can reach PyPI during image builds.
cp /etc/ssl/certs/ca-certificates.crt "$STANDINS/host-ca-certificates.crt"
trap 'rm -f "$STANDINS/host-ca-certificates.crt"' EXIT
python_tag=$(build_standin python \
  "$(fingerprint <(echo "$debian_hash") "$STANDINS/python.Containerfile" \
      "$STANDINS/host-ca-certificates.crt")" \
  "$STANDINS" "$STANDINS/python.Containerfile" --build-arg "DEBIAN_IMAGE=$debian_tag")
rm -f "$STANDINS/host-ca-certificates.crt"
trap - EXIT

nginx_tag=$(build_standin nginx \
  "$(fingerprint <(echo "$debian_hash") "$STANDINS/nginx.Containerfile" "$STANDINS"/nginx/*)" \
  "$STANDINS" "$STANDINS/nginx.Containerfile" --build-arg "DEBIAN_IMAGE=$debian_tag")

for name in "$PYTHON_BASE_IMAGE" "$@"; do
  buildah tag "$python_tag" "$name"
done
buildah tag "$nginx_tag" "$NGINX_BASE_IMAGE"
log "stand-ins ready: $PYTHON_BASE_IMAGE $* $NGINX_BASE_IMAGE"
