-- One row per outcome of a job: every finished attempt (succeeded, failed and retried later, or dead).
-- (job_id, seq, finished_at) is the key, all three copied from the outbox entry, so a replayed entry inserts
-- nothing new. seq numbers a job's outcomes (attempt alone repeats after `jobd dead retry`); finished_at keeps
-- apart two jobs that used the same id at different times (an id may be used again once its data expired).
CREATE TABLE IF NOT EXISTS {schema}.outcomes (
    job_id       text        NOT NULL,
    seq          integer     NOT NULL,
    attempt      integer     NOT NULL,
    max_attempts integer     NOT NULL,
    type         text        NOT NULL,
    queue        text        NOT NULL,
    state        text        NOT NULL CHECK (state IN ('succeeded', 'failed', 'dead')),
    recoveries   integer     NOT NULL,
    args         jsonb,
    result       jsonb,
    error        text,
    enqueued_at  timestamptz,
    started_at   timestamptz,
    finished_at  timestamptz NOT NULL,
    duration_ms  bigint,
    worker       text,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, seq, finished_at)
);

-- "The latest failures of type X".
CREATE INDEX IF NOT EXISTS outcomes_failures_by_type ON {schema}.outcomes (type, finished_at DESC) WHERE state <> 'succeeded';

-- Time-range queries and retention (DELETE ... WHERE finished_at < ...).
CREATE INDEX IF NOT EXISTS outcomes_finished_at ON {schema}.outcomes (finished_at);
