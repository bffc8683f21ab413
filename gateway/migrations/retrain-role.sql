-- The retrain job's login (prod Secret `retrain-database`): it reads the likes and records each
-- night's verdict in retrain_reports (INSERT on that table only), nothing else.
-- Run once by a database admin after roles.sql, before the first sync:
--   psql "$ADMIN_URL" -v ON_ERROR_STOP=1 -v retrain_password=... -f gateway/migrations/retrain-role.sql
-- The default privileges give it SELECT on every table the migrator creates, now and later.
CREATE ROLE playlists_retrain LOGIN PASSWORD :'retrain_password';
SELECT format('GRANT CONNECT ON DATABASE %I TO playlists_retrain', current_database()) \gexec
GRANT USAGE ON SCHEMA public TO playlists_retrain;
ALTER DEFAULT PRIVILEGES FOR ROLE playlists_migrator IN SCHEMA public
    GRANT SELECT ON TABLES TO playlists_retrain;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO playlists_retrain;
-- Its one write. Migration 0005 grants it when this role exists first (the runbook's order);
-- a role made after the schema has the table already and gets the grant here.
SELECT 'GRANT INSERT ON retrain_reports TO playlists_retrain'
    WHERE to_regclass('public.retrain_reports') IS NOT NULL \gexec
