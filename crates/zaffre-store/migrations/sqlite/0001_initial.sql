-- zaffre's schema on SQLite. Keep it in step with ../postgres/0001_initial.sql:
-- the same tables, columns and indexes, only the DDL spelling differs.
--
-- * Ids use AUTOINCREMENT so an id is never reused after a delete: Zendesk
--   clients cache and link by id, and a recycled ticket id would point an old
--   link at someone else's ticket.
-- * Timestamps are TEXT in RFC 3339 (sqlx's chrono encoding), always UTC with
--   microseconds, so they sort and compare as text the same way Postgres
--   compares TIMESTAMPTZ.
-- * JSON columns are TEXT on both engines, written and read by serde, so the
--   shared SQL binds them the same way.
-- * Every child row carries account_id, and references to other rows of the
--   account use composite foreign keys (account_id, x_id) -> x(account_id, id):
--   the database itself refuses a ticket pointing at another tenant's user.

CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    subdomain   TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE organizations (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    INTEGER NOT NULL REFERENCES accounts (id),
    name          TEXT NOT NULL,
    details       TEXT NOT NULL,
    notes         TEXT NOT NULL,
    domain_names  TEXT NOT NULL,
    tags          TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (account_id, id)
);
-- Names are unique per account regardless of case, as Zendesk's are.
CREATE UNIQUE INDEX organizations_name ON organizations (account_id, LOWER(name));

CREATE TABLE groups (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   INTEGER NOT NULL REFERENCES accounts (id),
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (account_id, id)
);
CREATE UNIQUE INDEX groups_name ON groups (account_id, LOWER(name));

CREATE TABLE users (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id       INTEGER NOT NULL REFERENCES accounts (id),
    name             TEXT NOT NULL,
    email            TEXT NOT NULL,
    role             TEXT NOT NULL,
    organization_id  INTEGER,
    time_zone        TEXT NOT NULL,
    locale           TEXT NOT NULL,
    password_hash    TEXT,
    active           BOOLEAN NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (account_id, id),
    UNIQUE (account_id, email),
    FOREIGN KEY (account_id, organization_id) REFERENCES organizations (account_id, id)
);
CREATE INDEX users_organization ON users (account_id, organization_id);

CREATE TABLE api_tokens (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id     INTEGER NOT NULL REFERENCES accounts (id),
    user_id        INTEGER NOT NULL,
    token_sha256   TEXT NOT NULL UNIQUE,
    description    TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id)
);

CREATE TABLE sessions (
    session_sha256  TEXT PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts (id),
    user_id         INTEGER NOT NULL,
    csrf_token      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id)
);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE ticket_fields (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   INTEGER NOT NULL REFERENCES accounts (id),
    field_type   TEXT NOT NULL,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    active       BOOLEAN NOT NULL,
    required     BOOLEAN NOT NULL,
    position     BIGINT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (account_id, id)
);
CREATE INDEX ticket_fields_account ON ticket_fields (account_id, position);
-- At most one of each system field per account: what makes
-- ensure_system_fields idempotent even when two processes start at once.
CREATE UNIQUE INDEX ticket_fields_system ON ticket_fields (account_id, field_type)
    WHERE field_type IN ('subject', 'description', 'status', 'priority', 'tickettype', 'group', 'assignee');

-- Dropdown options live in their own table so that every option gets a
-- database-assigned id that is unique and stable across edits.
CREATE TABLE ticket_field_options (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    field_id    INTEGER NOT NULL,
    position    BIGINT NOT NULL,
    name        TEXT NOT NULL,
    value       TEXT NOT NULL,
    UNIQUE (field_id, value),
    FOREIGN KEY (account_id, field_id) REFERENCES ticket_fields (account_id, id) ON DELETE CASCADE
);
CREATE INDEX ticket_field_options_account ON ticket_field_options (account_id, field_id, position);

CREATE TABLE tickets (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id       INTEGER NOT NULL REFERENCES accounts (id),
    subject          TEXT NOT NULL,
    description      TEXT NOT NULL,
    status           TEXT NOT NULL,
    priority         TEXT,
    ticket_type      TEXT,
    requester_id     INTEGER NOT NULL,
    submitter_id     INTEGER NOT NULL,
    assignee_id      INTEGER,
    group_id         INTEGER,
    organization_id  INTEGER,
    tags             TEXT NOT NULL,
    custom_fields    TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    revision         BIGINT NOT NULL,
    UNIQUE (account_id, id),
    FOREIGN KEY (account_id, requester_id) REFERENCES users (account_id, id),
    FOREIGN KEY (account_id, submitter_id) REFERENCES users (account_id, id),
    FOREIGN KEY (account_id, assignee_id) REFERENCES users (account_id, id),
    FOREIGN KEY (account_id, group_id) REFERENCES groups (account_id, id),
    FOREIGN KEY (account_id, organization_id) REFERENCES organizations (account_id, id)
);
CREATE INDEX tickets_status ON tickets (account_id, status);
CREATE INDEX tickets_requester ON tickets (account_id, requester_id);
CREATE INDEX tickets_assignee ON tickets (account_id, assignee_id);
CREATE INDEX tickets_submitter ON tickets (account_id, submitter_id);
CREATE INDEX tickets_group ON tickets (account_id, group_id);
CREATE INDEX tickets_organization ON tickets (account_id, organization_id);
CREATE INDEX tickets_created ON tickets (account_id, created_at);
CREATE INDEX tickets_updated ON tickets (account_id, updated_at);

-- The tags of each ticket, one row per tag, kept in step with tickets.tags
-- (which is what reads use): tag filters and tag counts are indexed here
-- rather than pattern-matched in JSON text.
CREATE TABLE ticket_tags (
    ticket_id   INTEGER NOT NULL,
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    tag         TEXT NOT NULL,
    PRIMARY KEY (ticket_id, tag),
    FOREIGN KEY (account_id, ticket_id) REFERENCES tickets (account_id, id) ON DELETE CASCADE
);
CREATE INDEX ticket_tags_tag ON ticket_tags (account_id, tag);

CREATE TABLE comments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    ticket_id   INTEGER NOT NULL,
    author_id   INTEGER NOT NULL,
    public      BOOLEAN NOT NULL,
    body        TEXT NOT NULL,
    html_body   TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    FOREIGN KEY (account_id, ticket_id) REFERENCES tickets (account_id, id) ON DELETE CASCADE,
    FOREIGN KEY (account_id, author_id) REFERENCES users (account_id, id)
);
CREATE INDEX comments_ticket ON comments (ticket_id, id);

CREATE TABLE audits (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    ticket_id   INTEGER NOT NULL,
    author_id   INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    events      TEXT NOT NULL,
    FOREIGN KEY (account_id, ticket_id) REFERENCES tickets (account_id, id) ON DELETE CASCADE,
    FOREIGN KEY (account_id, author_id) REFERENCES users (account_id, id)
);
CREATE INDEX audits_ticket ON audits (ticket_id, id);
