-- Token buckets per AccessKey, shared by the replicas (throttling holds across them).
CREATE TABLE throttle_buckets (
    access_key_id TEXT PRIMARY KEY,
    tokens REAL NOT NULL,
    refilled_at INTEGER NOT NULL
);
