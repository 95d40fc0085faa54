//! Flows run end to end: the worked examples of both languages, history sequences, deep data, HTTP
//! tasks, distributed maps, mocks and virtual time.
//!
//! One test binary per concern, so the shared harness in `tests/common` is compiled once
//! for all of them.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod cf_examples;
mod deep_data;
mod distributed_map;
mod fdl_examples;
mod history_sequences;
mod http_tasks;
mod mocks;
mod virtual_time;
