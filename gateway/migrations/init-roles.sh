#!/bin/sh
# docker-compose.postgres.yml mounts this into the postgres image's /docker-entrypoint-initdb.d:
# on the first start it creates the two roles of roles.sql (migrator: DDL, gateway: rows only)
# with passwords from the environment. ROLES_SQL and the libpq PG* variables let a test run it.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v migrator_password="$MIGRATOR_PASSWORD" -v gateway_password="$GATEWAY_DB_PASSWORD" \
     -f "${ROLES_SQL:-/roles.sql}"
