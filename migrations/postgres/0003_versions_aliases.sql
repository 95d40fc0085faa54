-- Published flow versions and aliases (docs/COMPATIBILITY.md#versions-and-aliases); flows count their versions so none is reused.

ALTER TABLE flows ADD COLUMN last_version BIGINT NOT NULL DEFAULT 0;

-- A snapshot of the flow's configuration as it was when the version was published.
CREATE TABLE flow_versions (
    flow_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    description TEXT NOT NULL,
    definition TEXT NOT NULL,
    flow_type TEXT NOT NULL,
    role_arn TEXT,
    execution_mode TEXT NOT NULL,
    environment TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (flow_id, version)
);

-- routing: JSON array of {"version", "weight"}. Names sort by bytes, as in SQLite (docs/COMPATIBILITY.md#pagination).
CREATE TABLE flow_aliases (
    flow_id TEXT NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    description TEXT NOT NULL,
    routing TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL,
    revision BIGINT NOT NULL,
    PRIMARY KEY (flow_id, name)
);
