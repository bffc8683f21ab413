#!/usr/bin/env bash
# The source commit last released to dev as of REV: the newest "Release <sha> to dev" subject
# in REV's history (CD's dev release pull request, squash-merged). Exit 1 when there is none.
set -euo pipefail
rev="${1:?usage: released-source.sh REV}"
subject="$(git log -1 --format=%s -E --grep='^Release [0-9a-f]{40} to dev' "$rev")"
[[ -n "$subject" ]] || exit 1
cut -d' ' -f2 <<<"$subject"
