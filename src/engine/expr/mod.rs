//! The expression language shared by both definition languages (docs/COMPATIBILITY.md#expressions)
//! and the built-in functions of the state machine (docs/COMPATIBILITY.md#built-in-functions).
//!
//! API CONTRACT (implemented in this module's submodules):
//! * `Expr::parse(src)` parses one expression; unknown roots, unknown functions, function
//!   nesting deeper than 10 and syntax errors are `ExprError`s whose `Display` says why.
//! * `Expr::eval(scope)` evaluates in *value* mode: a path that resolves to nothing is an error.
//! * `Expr::eval_condition(scope)` evaluates in *condition* mode: a missing path is `null`,
//!   and the result is `true` only if the value is the boolean `true`.
//! * `Expr::roots()` lists the roots the expression reads, so callers can reject roots that
//!   are not allowed in a position (e.g. `$Output` outside output constructors).
//! * `Expr::is_path()` is true when the expression is a bare path (root + accessors), the
//!   only form FDL mapping sources and `iterationMapping.collection` accept.

mod ast;
mod eval;
mod functions;
mod lexer;
mod ops;
mod parser;
mod path;
#[cfg(test)]
mod tests;

use serde_json::Value;

use eval::{Evaluator, Mode};
pub use parser::{REGEX_BUDGET_BYTES, with_regex_budget};

/// A variable an expression starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Root {
    /// `$`: the current FDL step's input (conditions, collection, wait, serviceParams).
    Dollar,
    /// `$input` (FDL mappings).
    FdlInput,
    /// `$local` (FDL mappings).
    FdlLocal,
    /// `$context` (FDL mappings).
    FdlContext,
    /// `$Input` (state machine).
    Input,
    /// `$Output` (state machine output/global constructors).
    Output,
    /// `$Context` (state machine).
    Context,
    /// `$Global` (state machine).
    Global,
    /// `$Item` (state machine distributed Map `ItemConstructor`): the original item.
    Item,
}

/// Supplies root values to an evaluation. Returning `None` means the root is unavailable
/// (evaluating a path on it fails in value mode and yields `null` in condition mode).
pub trait Scope {
    fn root(&self, root: Root) -> Option<&Value>;
}

/// A parsed expression.
#[derive(Debug, Clone)]
pub struct Expr {
    source: String,
    // Boxed: expressions are embedded in many IR enums, which should stay small.
    ast: Box<ast::Node>,
    is_path: bool,
}

/// A syntax error (or unknown root / function) found while parsing.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ExprError {
    pub message: String,
}

/// A failure while evaluating (missing path in value mode, type error, bad function argument).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    pub message: String,
}

impl Expr {
    pub fn parse(src: &str) -> Result<Expr, ExprError> {
        let parsed = parser::parse(src)?;
        Ok(Expr {
            source: src.to_string(),
            ast: Box::new(parsed.node),
            is_path: parsed.is_path,
        })
    }

    pub fn eval(&self, scope: &dyn Scope) -> Result<Value, EvalError> {
        let ev = Evaluator {
            scope,
            mode: Mode::Value,
        };
        ev.eval(&self.ast).map(std::borrow::Cow::into_owned)
    }

    pub fn eval_condition(&self, scope: &dyn Scope) -> Result<bool, EvalError> {
        let ev = Evaluator {
            scope,
            mode: Mode::Condition,
        };
        ev.eval(&self.ast).map(|v| ops::is_true(&v))
    }

    /// Distinct roots, in order of first appearance.
    pub fn roots(&self) -> Vec<Root> {
        let mut out = Vec::new();
        self.ast.visit_roots(&mut |r| {
            if !out.contains(&r) {
                out.push(r);
            }
        });
        out
    }

    pub fn is_path(&self) -> bool {
        self.is_path
    }

    /// The source text the expression was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }
}
