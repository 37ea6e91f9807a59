-- Usage metering: per account, function and UTC day, the request count and the compute used in
-- MB-milliseconds (billed duration, rounded up to 1 ms, times memory in MB; GB-seconds are
-- mb_ms / 1024 / 1000). Exact integers, added to by each flush of the in-memory meter.
CREATE TABLE usage_daily (
    account TEXT NOT NULL,
    function_name TEXT NOT NULL,
    day TEXT NOT NULL,                          -- YYYY-MM-DD (UTC)
    requests INTEGER NOT NULL DEFAULT 0,
    mb_ms INTEGER NOT NULL DEFAULT 0,
    provisioned_mb_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account, function_name, day)
);
