-- Asynchronous invocation: the durable event queue and the per-qualifier event invoke configs.
-- Times are epoch milliseconds. `payload` and `last_response` are envelope-sealed (AES-256-GCM under a
-- per-event data key wrapped by the root key), bound to the event's request id.
CREATE TABLE async_events (
    request_id TEXT PRIMARY KEY,
    function_name TEXT NOT NULL,
    qualifier TEXT NOT NULL,            -- '' when invoked unqualified
    payload BLOB NOT NULL,
    trace_id TEXT,
    enqueued_at BIGINT NOT NULL,
    visible_at BIGINT NOT NULL,         -- claimable once visible_at <= now
    attempts INTEGER NOT NULL DEFAULT 0,  -- invocations that reached the function
    failures INTEGER NOT NULL DEFAULT 0,  -- function errors (against MaximumRetryAttempts)
    throttles INTEGER NOT NULL DEFAULT 0, -- throttles and system errors (drive the backoff)
    claims INTEGER NOT NULL DEFAULT 0,
    claimed_by TEXT,                    -- claim token while a poller holds the event
    last_status INTEGER,
    last_error TEXT,
    last_version TEXT,
    last_response BLOB
);
CREATE INDEX async_events_ready ON async_events (function_name, visible_at);
CREATE INDEX async_events_visible ON async_events (visible_at);
CREATE TABLE event_invoke_configs (
    name TEXT NOT NULL,
    qualifier TEXT NOT NULL,            -- '$LATEST', a version number or an alias
    config TEXT NOT NULL,
    PRIMARY KEY (name, qualifier)
);
