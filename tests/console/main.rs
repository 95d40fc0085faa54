//! The web console: its pages over HTTP and, in Chromium, in a browser.
//!
//! One test binary per concern, so the shared harness in `tests/common` is compiled once
//! for all of them.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod console;
mod console_browser;
