-- Key service (KMS-like): customer master keys, their backing material versions (sealed under the
-- root key, never stored in plaintext) and aliases. Dates are epoch milliseconds.
CREATE TABLE kms_keys (
    key_id TEXT PRIMARY KEY,          -- UUID
    arn TEXT NOT NULL,
    description TEXT NOT NULL,
    key_state TEXT NOT NULL,          -- Enabled | Disabled | PendingDeletion
    key_usage TEXT NOT NULL,          -- ENCRYPT_DECRYPT
    key_spec TEXT NOT NULL,           -- SYMMETRIC_DEFAULT
    created_ms INTEGER NOT NULL,
    deletion_ms INTEGER,              -- set while PendingDeletion
    pending_window_days INTEGER,      -- set while PendingDeletion
    rotation_enabled INTEGER NOT NULL DEFAULT 0,
    rotation_period_days INTEGER,
    next_rotation_ms INTEGER,
    current_version INTEGER NOT NULL,
    seq INTEGER NOT NULL,             -- creation order (ListKeys pagination)
    policy TEXT,                      -- key policy document; NULL = the default policy
    tags TEXT NOT NULL DEFAULT '{}'   -- JSON object TagKey -> TagValue
);
CREATE UNIQUE INDEX kms_keys_seq ON kms_keys (seq);
CREATE TABLE kms_key_material (
    key_id TEXT NOT NULL REFERENCES kms_keys (key_id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    sealed BLOB NOT NULL,             -- RootKey-sealed AES-256 material
    created_ms INTEGER NOT NULL,
    rotation_type TEXT,               -- NULL for the original material, AUTOMATIC | ON_DEMAND
    PRIMARY KEY (key_id, version)
);
CREATE TABLE kms_aliases (
    alias_name TEXT PRIMARY KEY,      -- alias/...
    key_id TEXT NOT NULL REFERENCES kms_keys (key_id) ON DELETE CASCADE,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE INDEX kms_aliases_key ON kms_aliases (key_id);
