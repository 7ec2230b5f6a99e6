-- The egress proxy's audit log, on SQLite. Keep it in step with
-- ../postgres/0003_proxy_audit.sql (same table, columns and indexes).
--
-- One row per call of POST /api/zaffre/installations/{id}/proxy, refusals
-- included. Rows outlive the installation, app and user they name (an audit
-- log must survive an uninstall), so only the account is a foreign key.
-- * path never has the query string: queries can carry secrets.
-- * secure_settings_used is a JSON array of setting NAMES, never values.
-- * status is what the app was answered: the upstream's status, or the
--   refusal's (403, 429, 502, …) when refusal is set; NULL when neither.

CREATE TABLE proxy_audit (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id            INTEGER NOT NULL REFERENCES accounts (id),
    created_at            TEXT NOT NULL,
    installation_id       INTEGER NOT NULL,
    app_id                INTEGER NOT NULL,
    user_id               INTEGER NOT NULL,
    method                TEXT NOT NULL,
    scheme                TEXT NOT NULL,
    host                  TEXT NOT NULL,
    port                  INTEGER NOT NULL,
    path                  TEXT NOT NULL,
    status                INTEGER,
    duration_ms           INTEGER NOT NULL,
    request_bytes         INTEGER NOT NULL,
    response_bytes        INTEGER NOT NULL,
    secure_settings_used  TEXT NOT NULL,
    refusal               TEXT,
    retries               INTEGER NOT NULL
);
-- Newest first within an account, optionally for one installation or app.
CREATE INDEX proxy_audit_account ON proxy_audit (account_id, id);
CREATE INDEX proxy_audit_installation ON proxy_audit (account_id, installation_id, id);
CREATE INDEX proxy_audit_app ON proxy_audit (account_id, app_id, id);
