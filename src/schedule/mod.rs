//! Schedules (api.md §3.6).

pub mod cron;
