-- Apps and their installations, on SQLite. Keep it in step with
-- ../postgres/0002_apps.sql (same tables, columns and indexes).
--
-- * Package files live in the database (app_files), not on a node's disk,
--   so every node of a multi-node install can serve them.
-- * Secure setting values exist only in installation_secrets, encrypted by
--   the server (XChaCha20-Poly1305) before they arrive here: the database
--   never sees a plaintext secret. installations.settings holds plain values.
-- * Children of an app or installation go with it (ON DELETE CASCADE).

CREATE TABLE app_uploads (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    bytes       BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (account_id, id)
);

CREATE TABLE apps (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id         INTEGER NOT NULL REFERENCES accounts (id),
    name               TEXT NOT NULL,
    short_description  TEXT NOT NULL,
    version            TEXT,
    author_name        TEXT,
    author_email       TEXT,
    author_url         TEXT,
    manifest           TEXT NOT NULL,
    private            BOOLEAN NOT NULL,
    single_install     BOOLEAN NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    UNIQUE (account_id, id)
);

CREATE TABLE app_files (
    account_id  INTEGER NOT NULL,
    app_id      INTEGER NOT NULL,
    path        TEXT NOT NULL,
    bytes       BLOB NOT NULL,
    PRIMARY KEY (app_id, path),
    FOREIGN KEY (account_id, app_id) REFERENCES apps (account_id, id) ON DELETE CASCADE
);

CREATE TABLE installations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER NOT NULL,
    app_id      INTEGER NOT NULL,
    enabled     BOOLEAN NOT NULL,
    settings    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (account_id, id),
    FOREIGN KEY (account_id, app_id) REFERENCES apps (account_id, id) ON DELETE CASCADE
);
CREATE INDEX installations_app ON installations (account_id, app_id);

CREATE TABLE installation_secrets (
    account_id       INTEGER NOT NULL,
    installation_id  INTEGER NOT NULL,
    name             TEXT NOT NULL,
    key_id           TEXT NOT NULL,
    nonce            BLOB NOT NULL,
    ciphertext       BLOB NOT NULL,
    PRIMARY KEY (installation_id, name),
    FOREIGN KEY (account_id, installation_id) REFERENCES installations (account_id, id) ON DELETE CASCADE
);

-- What requirements.json made on install (ticket fields), removed on uninstall.
CREATE TABLE installation_requirements (
    account_id        INTEGER NOT NULL,
    installation_id   INTEGER NOT NULL,
    identifier        TEXT NOT NULL,
    requirement_type  TEXT NOT NULL,
    requirement_id    INTEGER NOT NULL,
    created_at        TEXT NOT NULL,
    PRIMARY KEY (installation_id, requirement_type, identifier),
    FOREIGN KEY (account_id, installation_id) REFERENCES installations (account_id, id) ON DELETE CASCADE
);

CREATE TABLE app_job_statuses (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    status      TEXT NOT NULL,
    message     TEXT NOT NULL,
    app_id      INTEGER,
    upload_id   INTEGER,
    created_at  TEXT NOT NULL
);
