//! fnf-server: a self-hosted, wire-compatible implementation of Alibaba Cloud Serverless
//! Workflow (service `fnf`, API version 2019-03-15).

pub mod api;
pub mod auth;
pub mod config;
pub mod console;
pub mod cpu;
pub mod engine;
pub mod error;
pub mod file_watch;
pub mod flows_dir;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod graph;
pub mod metrics;
pub mod names;
pub mod nonce_ledgers;
pub mod retention;
pub mod runner;
pub mod schedule;
pub mod server;
pub mod store;
pub mod testing;
pub mod throttle;
pub mod time;
pub mod transport;
pub mod worker;
