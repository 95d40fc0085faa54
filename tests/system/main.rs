//! The server as a process (or several) over real stores: crashes, replicas, durability, a Postgres
//! restart, resource limits, schedules, the flows directory, the runner, the official
//! SDKs and the schema-driven API checks.
//!
//! One test binary per concern, so the shared harness in `tests/common` is compiled once
//! for all of them.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod crash_replicas;
mod crash_sqlite;
mod durability;
mod flow_cache;
mod flows_dir;
mod postgres_restart;
mod replicas;
mod resource_limits;
mod retention;
mod runner;
mod schedule_fires;
mod schemathesis;
mod sdk;
