-- Template runs ("tasks"): what was asked, by whom, and how far it got. Secrets are
-- never stored: they live in the memory of the instance that runs the task.
CREATE TABLE scaffolder_tasks (
    id TEXT PRIMARY KEY,
    template_ref TEXT NOT NULL,     -- the template's reference key
    spec TEXT NOT NULL,             -- JSON: the template as run (steps, output, parameters schema, location)
    parameters TEXT NOT NULL,       -- JSON object: the values the form gave
    created_by TEXT NOT NULL,       -- the principal's actor name: user:<name>, token:<name>
    user_ref TEXT,                  -- the catalog User entity of the person who ran it
    status TEXT NOT NULL,           -- open | processing | completed | failed | cancelled
    steps TEXT NOT NULL,            -- JSON array: each step's id, name, action, status and times
    output TEXT,                    -- JSON object: the template's output, once completed
    error TEXT,                     -- why it failed, for people
    claimed_by TEXT,                -- the instance that runs (or will run) it
    heartbeat_at BIGINT,            -- Unix time in milliseconds, refreshed while claimed
    cancel_requested_at BIGINT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);

CREATE INDEX scaffolder_tasks_created ON scaffolder_tasks (created_at, id);
CREATE INDEX scaffolder_tasks_owner ON scaffolder_tasks (created_by, created_at);
CREATE INDEX scaffolder_tasks_status ON scaffolder_tasks (status, heartbeat_at);

-- In-app notifications, addressed to a catalog entity (a user, or every member of a
-- group at the time it was sent).
CREATE TABLE notifications (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient TEXT NOT NULL,        -- the reference key of the User entity it is for
    title TEXT NOT NULL,
    description TEXT,
    link TEXT,
    severity TEXT NOT NULL,         -- low | normal | high | critical
    origin TEXT NOT NULL,           -- what sent it: task:<id>, …
    created_at BIGINT NOT NULL,
    read_at BIGINT
);

CREATE INDEX notifications_recipient ON notifications (recipient, seq);
