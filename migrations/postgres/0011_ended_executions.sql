-- Retention deletes ended executions oldest first: this index finds those stopped before the
-- cutoff without reading the running ones or the recent ones.
CREATE INDEX executions_ended ON executions (stopped_at) WHERE stopped_at IS NOT NULL;
