#!/usr/bin/env bash
# What dev runs at REVISION, for the prod release: KEY=VALUE lines (for $GITHUB_ENV) with the
# digests the dev overlay renders (BENTO_DIGEST, GATEWAY_DIGEST, FRONTEND_DIGEST) and the source
# commit they were built from (SOURCE_SHA). With RUNNING (Argo CD's app.status.summary.images,
# JSON or one per line), every one of those images must be among them, so prod gets exactly
# the digests dev is healthy on. KUSTOMIZE defaults to `kustomize build`.
set -euo pipefail
revision="${1:?usage: dev-release.sh REVISION}"
kustomize_cmd="${KUSTOMIZE:-kustomize build}"
dir="$(dirname "${BASH_SOURCE[0]}")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
source_sha="$("$dir/released-source.sh" "$revision")" || {
  echo "error: $revision has no release to dev" >&2; exit 1; }
git archive "$revision" k8s | tar -x -C "$work"
# shellcheck disable=SC2086  # KUSTOMIZE may be a command with arguments
rendered="$($kustomize_cmd "$work/k8s/overlays/dev")"
echo "SOURCE_SHA=$source_sha"
for name in bento gateway frontend; do
  image="$(grep -oE "image: \S+/playlist-recs-$name@sha256:[0-9a-f]{64}" <<<"$rendered" \
    | sort -u | sed 's/^image: //')"
  if [[ "$(wc -l <<<"$image")" != 1 || -z "$image" ]]; then
    echo "error: the dev overlay at $revision does not run one playlist-recs-$name digest" >&2
    exit 1
  fi
  if [[ -n "${RUNNING:-}" && "$RUNNING" != *"$image"* ]]; then
    echo "error: dev does not run $image (Argo CD reports: $RUNNING)" >&2
    exit 1
  fi
  echo "${name^^}_DIGEST=${image##*@}"
done
