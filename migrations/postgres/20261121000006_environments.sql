-- Where components run. Declared by configuration, the admin API or the demo.
CREATE TABLE environments (
    name TEXT PRIMARY KEY,          -- lower case: dev, staging, production
    title TEXT NOT NULL,
    tier TEXT NOT NULL,             -- development | staging | production
    position BIGINT NOT NULL,       -- display order, lowest first
    source TEXT NOT NULL,           -- config | api | demo
    created_at BIGINT NOT NULL,     -- Unix time in milliseconds
    updated_at BIGINT NOT NULL
);

-- Every deployment reported, by the reporter's id. A later report for the same id
-- moves it forward (started -> succeeded | failed -> rolled_back), never back.
CREATE TABLE deployments (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    entity_ref TEXT NOT NULL,       -- the component's reference key
    environment TEXT NOT NULL REFERENCES environments (name) ON DELETE CASCADE,
    version TEXT NOT NULL,
    commit_sha TEXT,
    url TEXT,
    status TEXT NOT NULL,           -- started | succeeded | failed | rolled_back
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    actor TEXT,                     -- who deployed, as the reporter says
    reported_by TEXT NOT NULL,      -- the principal that reported it
    received_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX deployments_target ON deployments (entity_ref, environment, started_at, seq);
CREATE INDEX deployments_environment ON deployments (environment, started_at, seq);
CREATE INDEX deployments_started ON deployments (started_at, seq);
CREATE INDEX deployments_updated ON deployments (updated_at);

-- What runs where: the latest-started deployment of each component in each environment.
CREATE TABLE current_deployments (
    entity_ref TEXT NOT NULL,
    environment TEXT NOT NULL REFERENCES environments (name) ON DELETE CASCADE,
    deployment_seq BIGINT NOT NULL,
    PRIMARY KEY (entity_ref, environment)
);

-- HTTP health checks: from catalog annotations (portico.dev/health-url.<env>) or the API.
CREATE TABLE health_probes (
    entity_ref TEXT NOT NULL,
    environment TEXT NOT NULL REFERENCES environments (name) ON DELETE CASCADE,
    url TEXT NOT NULL,
    interval_ms BIGINT NOT NULL,
    timeout_ms BIGINT NOT NULL,
    slow_ms BIGINT NOT NULL,        -- answers slower than this count as degraded
    source TEXT NOT NULL,           -- annotation | api
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (entity_ref, environment)
);

-- How each component is doing in each environment (after hysteresis, for probes).
CREATE TABLE health (
    entity_ref TEXT NOT NULL,
    environment TEXT NOT NULL REFERENCES environments (name) ON DELETE CASCADE,
    status TEXT NOT NULL,           -- healthy | degraded | down | unknown
    since BIGINT NOT NULL,          -- when it took this status
    checked_at BIGINT NOT NULL,
    latency_ms BIGINT,
    message TEXT,
    source TEXT NOT NULL,           -- probe | api
    PRIMARY KEY (entity_ref, environment)
);

-- Recent checks, as they came (kept an hour), for the latest results.
CREATE TABLE health_checks (
    entity_ref TEXT NOT NULL,
    environment TEXT NOT NULL REFERENCES environments (name) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    outcome TEXT NOT NULL,          -- healthy | degraded | down: what this one check saw
    latency_ms BIGINT,
    message TEXT
);

CREATE INDEX health_checks_target ON health_checks (entity_ref, environment, at);
CREATE INDEX health_checks_at ON health_checks (at);

-- Checks counted per minute (kept two days) and per hour (kept 90 days), for uptime
-- figures and charts.
CREATE TABLE health_rollups (
    entity_ref TEXT NOT NULL,
    environment TEXT NOT NULL REFERENCES environments (name) ON DELETE CASCADE,
    resolution TEXT NOT NULL,       -- minute | hour
    bucket BIGINT NOT NULL,         -- start of the minute or hour, Unix milliseconds
    checks BIGINT NOT NULL,
    healthy BIGINT NOT NULL,
    degraded BIGINT NOT NULL,
    down BIGINT NOT NULL,
    latency_total BIGINT NOT NULL,  -- sum of the latencies measured
    latency_count BIGINT NOT NULL,  -- checks that measured one
    latency_max BIGINT NOT NULL,
    PRIMARY KEY (entity_ref, environment, resolution, bucket)
);

CREATE INDEX health_rollups_age ON health_rollups (resolution, bucket);
