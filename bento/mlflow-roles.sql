-- The registry database's two roles (README, deploy step 5), created once by a database admin
-- in the `mlflow` database before the first sync:
--   psql "$ADMIN_URL_MLFLOW" -v ON_ERROR_STOP=1 -v migrator_password=... -v server_password=... \
--        -f bento/mlflow-roles.sql
-- mlflow_migrator owns the schema and runs `mlflow db upgrade` (the mlflow-migrate PreSync
-- Job's credential); mlflow_server, the tracking server's role, reads and writes rows (and
-- draws ids from MLflow's sequences) and can create or change no table.
CREATE ROLE mlflow_migrator LOGIN PASSWORD :'migrator_password';
CREATE ROLE mlflow_server LOGIN PASSWORD :'server_password';
SELECT format('GRANT CONNECT ON DATABASE %I TO mlflow_migrator, mlflow_server',
              current_database()) \gexec
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO mlflow_migrator;
GRANT USAGE ON SCHEMA public TO mlflow_server;
ALTER DEFAULT PRIVILEGES FOR ROLE mlflow_migrator IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO mlflow_server;
ALTER DEFAULT PRIVILEGES FOR ROLE mlflow_migrator IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO mlflow_server;
