//! Page models: what the pages show, computed from API answers by pure functions (unit
//! tested here, without a server).

pub mod events;
pub mod fires;
pub mod lines;
pub mod sdk;
pub mod steps;
pub mod timeline;
