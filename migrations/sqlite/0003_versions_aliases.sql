-- Published flow versions and aliases (docs/COMPATIBILITY.md#versions-and-aliases); flows count their versions so none is reused.

ALTER TABLE flows ADD COLUMN last_version INTEGER NOT NULL DEFAULT 0;

-- A snapshot of the flow's configuration as it was when the version was published.
CREATE TABLE flow_versions (
    flow_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    description TEXT NOT NULL,
    definition TEXT NOT NULL,
    flow_type TEXT NOT NULL,
    role_arn TEXT,
    execution_mode TEXT NOT NULL,
    environment TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (flow_id, version)
);

-- routing: JSON array of {"version", "weight"}. Names sort by bytes (docs/COMPATIBILITY.md#pagination).
CREATE TABLE flow_aliases (
    flow_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    routing TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    modified_at INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    PRIMARY KEY (flow_id, name)
);
