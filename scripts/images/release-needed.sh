#!/usr/bin/env bash
# Does commit REV need new images? Prints `release=true|false` (for $GITHUB_OUTPUT) and why on
# stderr. Only a change to what goes into an image counts, since the source commit last
# released to dev (the subject "Release <sha> to dev" of the release pull request's merge):
# release and model pull requests change only pins (k8s/overlays/**, model-version.env), so
# merging them starts no new release and the loop converges. Needs the full history.
set -euo pipefail
rev="${1:?usage: release-needed.sh REV}"
dir="$(dirname "${BASH_SOURCE[0]}")"
last="$("$dir/released-source.sh" "$rev" || true)"
if [[ -z "$last" ]] || ! git cat-file -e "$last^{commit}" 2>/dev/null; then
  echo "no earlier release to dev found before $rev: release" >&2
  echo "release=true"
  exit 0
fi
# Never in an image: manifests, Argo CD objects, docs and tests.
changed="$(git diff --name-only "$last" "$rev" -- . ':(exclude)k8s/' ':(exclude)argocd/' \
  ':(exclude)docs/' ':(exclude)tests/' ':(exclude)*.md')"
if [[ -z "$changed" ]]; then
  echo "nothing that goes into an image changed since $last: no release" >&2
  echo "release=false"
else
  printf 'changed since %s:\n%s\n' "$last" "$changed" >&2
  echo "release=true"
fi
