-- Identity and access: IAM users, roles, inline and managed policies, attachments, access-key
-- ownership and STS sessions. Records are JSON documents in their wire shape. IAM names are unique
-- without regard to case (NOCASE). Access-key secrets live sealed in `credentials` (0001) with the
-- owning user's ARN as principal; session secrets are sealed here, bound to their access key id.
CREATE TABLE iam_users (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    doc TEXT NOT NULL
);
CREATE TABLE iam_roles (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    doc TEXT NOT NULL
);
CREATE TABLE iam_access_keys (
    access_key_id TEXT PRIMARY KEY,
    user_name TEXT NOT NULL COLLATE NOCASE,
    status TEXT NOT NULL,
    create_date TEXT NOT NULL
);
CREATE INDEX iam_access_keys_user ON iam_access_keys (user_name);
CREATE TABLE iam_inline_policies (
    kind TEXT NOT NULL,                      -- 'user' or 'role'
    owner TEXT NOT NULL COLLATE NOCASE,
    policy_name TEXT NOT NULL COLLATE NOCASE,
    document TEXT NOT NULL,
    PRIMARY KEY (kind, owner, policy_name)
);
CREATE TABLE iam_managed_policies (
    arn TEXT PRIMARY KEY,
    doc TEXT NOT NULL,
    document TEXT NOT NULL
);
CREATE TABLE iam_attachments (
    kind TEXT NOT NULL,
    owner TEXT NOT NULL COLLATE NOCASE,
    policy_arn TEXT NOT NULL,
    PRIMARY KEY (kind, owner, policy_arn)
);
CREATE TABLE sts_sessions (
    access_key_id TEXT PRIMARY KEY,
    secret BLOB NOT NULL,
    role_name TEXT NOT NULL COLLATE NOCASE,
    doc TEXT NOT NULL,
    expiration BIGINT NOT NULL               -- epoch seconds
);
CREATE INDEX sts_sessions_role ON sts_sessions (role_name);
