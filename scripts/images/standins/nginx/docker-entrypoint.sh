#!/bin/sh
# Like the official nginx image's entrypoint: when starting nginx, run /docker-entrypoint.d/*.sh
# (executable ones, in version order) first, then exec the command.
set -e
if [ "$1" = "nginx" ] || [ "$1" = "nginx-debug" ]; then
    find /docker-entrypoint.d/ -follow -type f -name '*.sh' -print | sort -V | while read -r f; do
        if [ -x "$f" ]; then
            echo "$0: Launching $f"
            "$f"
        fi
    done
    echo "$0: Configuration complete; ready for start up"
fi
exec "$@"
