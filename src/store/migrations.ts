// Schema migrations, applied in order and tracked with PRAGMA user_version.
// Append new migrations; never edit one that has shipped.

export const MIGRATIONS: string[] = [
  `
  CREATE TABLE services (
    name TEXT PRIMARY KEY,
    spec_json TEXT NOT NULL,
    stable_revision INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE TABLE revisions (
    service TEXT NOT NULL,
    number INTEGER NOT NULL,
    image TEXT NOT NULL,
    image_id TEXT NOT NULL,
    repo_digest TEXT,
    config_hash TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (service, number)
  );
  CREATE TABLE rollouts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    service TEXT NOT NULL,
    kind TEXT NOT NULL,
    from_revision INTEGER,
    to_revision INTEGER NOT NULL,
    strategy TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT
  );
  CREATE INDEX rollouts_by_service ON rollouts(service, id);
  CREATE TABLE rollout_steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    rollout_id INTEGER NOT NULL REFERENCES rollouts(id),
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    detail_json TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT
  );
  CREATE TABLE journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    service TEXT,
    rollout_id INTEGER,
    event TEXT NOT NULL,
    data_json TEXT NOT NULL
  );
  -- The journal is append-only: recovery after a crash replays it, so history must not change.
  CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
    BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;
  CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
    BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;
  `,
  // 2: long connections (WebSocket, SSE, TCP) cut by the proxy while old instances drained.
  `ALTER TABLE rollouts ADD COLUMN cut_connections INTEGER NOT NULL DEFAULT 0;`,
  // 3: instances of a previous revision kept running (out of the balancer) for an instant rollback.
  `CREATE TABLE warm_instances (
    instance_id TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    revision INTEGER NOT NULL,
    address TEXT NOT NULL,
    until TEXT NOT NULL
  );`,
  // 4 (issue 14): API tokens (only a hash of the secret is kept), the hash-chained audit log and
  // the image policy (its YAML text, as the admin set it).
  `CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    services_json TEXT,
    secret_sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT
  );
  CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens(name) WHERE revoked_at IS NULL;
  CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    verb TEXT NOT NULL,
    service TEXT,
    spec_hash TEXT,
    image_digest TEXT,
    source TEXT NOT NULL,
    outcome TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  -- Append-only; the hash chain (src/security/audit-chain.ts) finds changes made around this.
  CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
  CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
  CREATE TABLE image_policy (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    file TEXT NOT NULL,
    text TEXT NOT NULL,
    set_at TEXT NOT NULL,
    set_by TEXT NOT NULL
  );`,
  // 5 (issue 15): the impact report of each rollout: per-interval traffic per revision (latencies
  // kept as float32 blobs so any window's percentiles can be computed later) and CPU/memory per
  // instance, sampled around the rollout (src/report/sampler.ts).
  `CREATE TABLE report_meta (
    rollout_id INTEGER PRIMARY KEY REFERENCES rollouts(id),
    before_ms INTEGER NOT NULL,
    after_ms INTEGER NOT NULL,
    started_ms INTEGER NOT NULL,
    ended_ms INTEGER,
    complete INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE report_traffic (
    rollout_id INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    span_ms INTEGER NOT NULL,
    phase TEXT NOT NULL,
    revision INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    latencies BLOB NOT NULL
  );
  CREATE INDEX report_traffic_by_rollout ON report_traffic(rollout_id, at_ms);
  CREATE TABLE report_usage (
    rollout_id INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    instance_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    cpu_percent REAL,
    memory_bytes INTEGER
  );
  CREATE INDEX report_usage_by_rollout ON report_usage(rollout_id, at_ms);`,
  // 6 (issue 15): notifications waiting for delivery (an outbox: they survive a daemon restart),
  // the history of alerts (a firing one has no resolved_at), and per-minute request and failure
  // counts per service, for availability.
  `CREATE TABLE notify_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    event TEXT NOT NULL,
    service TEXT,
    url TEXT NOT NULL,
    headers_json TEXT NOT NULL,
    body TEXT NOT NULL,
    timeout_ms INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at_ms INTEGER NOT NULL,
    state TEXT NOT NULL,
    last_error TEXT,
    finished_at TEXT
  );
  CREATE INDEX notify_outbox_due ON notify_outbox(state, next_at_ms);
  CREATE TABLE alert_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    service TEXT NOT NULL,
    rule TEXT NOT NULL,
    expr TEXT NOT NULL,
    fired_at TEXT NOT NULL,
    resolved_at TEXT,
    value REAL,
    message TEXT NOT NULL
  );
  CREATE INDEX alert_history_by_service ON alert_history(service, fired_at);
  CREATE TABLE traffic_minutes (
    service TEXT NOT NULL,
    minute_ms INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    PRIMARY KEY (service, minute_ms)
  );
  -- restarts in an alert's window and the incidents of availability read the journal by these.
  CREATE INDEX journal_by_service_event ON journal(service, event, at);`,
];
