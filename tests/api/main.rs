//! The public API through a signed client against an in-process server: the gateway, signing,
//! policies, every action group, the OpenAPI document, metrics and the transport.
//!
//! One test binary per concern, so the shared harness in `tests/common` is compiled once
//! for all of them.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod api_executions;
mod api_flows;
mod api_gateway;
mod api_schedules;
mod api_smoke;
mod api_sync;
mod api_tasks;
mod api_versions;
mod development_key;
mod metrics;
mod openapi;
mod policies;
mod replay;
mod signing;
mod transport;
mod unsupported_actions;
