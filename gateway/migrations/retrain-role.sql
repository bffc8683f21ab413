-- The retrain job's login (prod Secret `retrain-database`): it reads the likes, nothing else.
-- Run once by a database admin after roles.sql, before the first sync:
--   psql "$ADMIN_URL" -v ON_ERROR_STOP=1 -v retrain_password=... -f gateway/migrations/retrain-role.sql
-- The default privileges give it SELECT on every table the migrator creates, now and later.
CREATE ROLE playlists_retrain LOGIN PASSWORD :'retrain_password';
SELECT format('GRANT CONNECT ON DATABASE %I TO playlists_retrain', current_database()) \gexec
GRANT USAGE ON SCHEMA public TO playlists_retrain;
ALTER DEFAULT PRIVILEGES FOR ROLE playlists_migrator IN SCHEMA public
    GRANT SELECT ON TABLES TO playlists_retrain;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO playlists_retrain;
