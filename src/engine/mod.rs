//! The workflow engine: definition parsing, the typed IR, expressions and the interpreter.

pub mod calls;
pub mod child_flows;
pub mod clock;
pub mod data;
pub mod errors;
pub mod expr;
pub mod history;
pub mod ir;
pub mod json;
pub mod mocks;
pub mod parse;
pub mod run;
pub mod state;
pub mod tokens;
