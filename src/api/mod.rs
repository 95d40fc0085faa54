//! The wire API (api.md §1, §4): request parameters, and later routing and handlers.

pub mod params;
