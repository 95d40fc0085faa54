-- Flow and execution names sort and compare by their bytes, as on SQLite, whatever the
-- database's default collation (a cluster initialised with en_US.utf8 would otherwise put
-- "_x" before "B" in ListFlows and in ListExecutions ties, and page by that order).
ALTER TABLE flows ALTER COLUMN name TYPE TEXT COLLATE "C";
ALTER TABLE executions ALTER COLUMN name TYPE TEXT COLLATE "C";
