-- Control-plane metadata. JSON documents in their wire shape; secrets (environment variables,
-- access-key secrets) sealed with the root key.
CREATE TABLE functions (
    name TEXT PRIMARY KEY,
    meta TEXT NOT NULL
);
CREATE TABLE versions (
    name TEXT NOT NULL,
    version INTEGER NOT NULL, -- 0 is $LATEST
    config TEXT NOT NULL,
    env BLOB,
    PRIMARY KEY (name, version)
);
CREATE TABLE aliases (
    name TEXT NOT NULL,
    alias TEXT NOT NULL,
    config TEXT NOT NULL,
    PRIMARY KEY (name, alias)
);
CREATE TABLE policies (
    name TEXT NOT NULL,
    qualifier TEXT NOT NULL, -- '' for the unqualified function
    doc TEXT NOT NULL,
    PRIMARY KEY (name, qualifier)
);
CREATE TABLE provisioned (
    name TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    config TEXT NOT NULL,
    PRIMARY KEY (name, qualifier)
);
CREATE TABLE layer_names (
    name TEXT PRIMARY KEY,
    next_version INTEGER NOT NULL
);
CREATE TABLE layers (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    config TEXT NOT NULL,
    policy TEXT,
    PRIMARY KEY (name, version)
);
CREATE TABLE credentials (
    access_key_id TEXT PRIMARY KEY,
    secret BLOB NOT NULL,
    principal TEXT NOT NULL
);
