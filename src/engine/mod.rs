//! The workflow engine: definition parsing, the typed IR, expressions and the interpreter.

pub mod expr;
pub mod ir;
pub mod parse;
