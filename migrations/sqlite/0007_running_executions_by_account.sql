-- The per-account running-executions limit counts an account's running executions (the
-- children of distributed Maps excepted) each time it admits a start.
CREATE INDEX executions_running_by_account ON executions (account_id)
    WHERE status = 'Running' AND map_run IS NULL;
