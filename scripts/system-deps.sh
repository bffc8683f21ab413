#!/usr/bin/env bash
# Install the Debian packages listed in scripts/apt-packages.txt that are not installed yet.
# Idempotent and quick when nothing is missing, so `make test` can call it every time.
# SYSTEM_DEPS_SKIP="pkg ..." leaves packages out where the machine provides them otherwise (CI on
# Ubuntu has no `chromium` package and links the runner's preinstalled browser instead).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t wanted < <(grep -v '^\s*#' scripts/apt-packages.txt | awk 'NF {print $1}')
missing=()
for pkg in "${wanted[@]}"; do
  case " ${SYSTEM_DEPS_SKIP:-} " in *" $pkg "*) continue ;; esac
  # No `| grep -q` under pipefail: grep's early exit can kill the writer and fail the pipeline.
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
echo "system-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
