-- The gateway's two database roles (docs/ARCHITECTURE.md, "Database roles"), created once by a
-- database admin before the first `alembic upgrade head`:
--   psql "$ADMIN_URL" -v ON_ERROR_STOP=1 -v migrator_password=... -v gateway_password=... \
--        -f gateway/migrations/roles.sql
-- playlists_migrator owns the schema and runs the migrations (the PreSync Job's credential);
-- playlists_gateway, the runtime role, reads and writes rows and can change no table.
CREATE ROLE playlists_migrator LOGIN PASSWORD :'migrator_password';
CREATE ROLE playlists_gateway LOGIN PASSWORD :'gateway_password';
SELECT format('GRANT CONNECT ON DATABASE %I TO playlists_migrator, playlists_gateway',
              current_database()) \gexec
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO playlists_migrator;
GRANT USAGE ON SCHEMA public TO playlists_gateway;
-- Every table the migrator creates from now on: rows only, for the gateway.
ALTER DEFAULT PRIVILEGES FOR ROLE playlists_migrator IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO playlists_gateway;
