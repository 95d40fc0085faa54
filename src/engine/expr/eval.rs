//! Tree-walking evaluator (docs/COMPATIBILITY.md#expressions).
//!
//! Values are passed as `Cow`s so that paths borrow from the scope's documents and only
//! the final result (or an intermediate that must be built) is cloned.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::ast::{Accessor, Node};
use super::lexer::root_name;
use super::path::{Found, resolve};
use super::{EvalError, Scope, functions, ops};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// A path that resolves to nothing is an error.
    Value,
    /// A path that resolves to nothing is `null` (docs/COMPATIBILITY.md#expressions, docs/COMPATIBILITY.md#q3).
    Condition,
}

pub(super) struct Evaluator<'a> {
    pub scope: &'a dyn Scope,
    pub mode: Mode,
}

fn fail(message: String) -> EvalError {
    EvalError { message }
}

impl<'a> Evaluator<'a> {
    pub(super) fn eval(&self, node: &'a Node) -> Result<Cow<'a, Value>, EvalError> {
        Ok(match node {
            Node::Lit(v) => Cow::Borrowed(v),
            Node::Path {
                root,
                accessors,
                text,
            } => match self.scope.root(*root) {
                Some(v) => self.project(Cow::Borrowed(v), accessors, text)?,
                None => {
                    self.missing(text, format!("{} is not available here", root_name(*root)))?
                }
            },
            Node::Postfix {
                base,
                accessors,
                text,
            } => self.project(self.eval(base)?, accessors, text)?,
            Node::Array(items) => Cow::Owned(Value::Array(
                items
                    .iter()
                    .map(|n| self.eval(n).map(Cow::into_owned))
                    .collect::<Result<_, _>>()?,
            )),
            Node::Object(members) => {
                let mut map = Map::new();
                for (k, n) in members {
                    map.insert(k.clone(), self.eval(n)?.into_owned());
                }
                Cow::Owned(Value::Object(map))
            }
            Node::Call { func, args, regex } => {
                let values = args
                    .iter()
                    .map(|n| self.eval(n))
                    .collect::<Result<Vec<_>, _>>()?;
                functions::call(*func, values, regex.as_ref(), self.mode)?
            }
            Node::Not(x) => {
                let v = self.eval(x)?;
                Cow::Owned(Value::Bool(matches!(*v, Value::Bool(false) | Value::Null)))
            }
            Node::Neg(x) => Cow::Owned(ops::negate(&*self.eval(x)?).map_err(fail)?),
            Node::Or(items) => {
                for n in items {
                    if ops::is_true(&*self.eval(n)?) {
                        return Ok(Cow::Owned(Value::Bool(true)));
                    }
                }
                Cow::Owned(Value::Bool(false))
            }
            Node::And(items) => {
                for n in items {
                    if !ops::is_true(&*self.eval(n)?) {
                        return Ok(Cow::Owned(Value::Bool(false)));
                    }
                }
                Cow::Owned(Value::Bool(true))
            }
            Node::Cmp(op, l, r) => {
                let a = self.eval(l)?;
                let b = self.eval(r)?;
                Cow::Owned(Value::Bool(ops::compare(*op, &a, &b)))
            }
            Node::Arith(first, rest) => {
                let mut acc = self.eval(first)?;
                for (op, n) in rest {
                    let b = self.eval(n)?;
                    acc = Cow::Owned(ops::arith(*op, &acc, &b).map_err(fail)?);
                }
                acc
            }
        })
    }

    /// Applies accessors, borrowing from `base` when it is borrowed.
    fn project(
        &self,
        base: Cow<'a, Value>,
        accs: &[Accessor],
        text: &str,
    ) -> Result<Cow<'a, Value>, EvalError> {
        if accs.is_empty() {
            return Ok(base);
        }
        let found = match base {
            Cow::Borrowed(v) => resolve(v, accs).map(|f| match f {
                Found::One(x) => Cow::Borrowed(x),
                many => Cow::Owned(many.to_value()),
            }),
            Cow::Owned(v) => resolve(&v, accs).map(|f| Cow::Owned(f.to_value())),
        };
        match found {
            Ok(v) => Ok(v),
            Err(miss) => self.missing(text, miss.describe()),
        }
    }

    fn missing(&self, text: &str, why: String) -> Result<Cow<'a, Value>, EvalError> {
        match self.mode {
            Mode::Condition => Ok(Cow::Owned(Value::Null)),
            Mode::Value => Err(fail(format!("path '{text}' not found: {why}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::Root;
    use super::super::parser::parse;
    use super::super::tests::scope;
    use super::*;

    #[test]
    fn simple_paths_borrow_from_the_scope() {
        let s = scope(&[(Root::Input, json!({"a": {"b": [1, 2]}}))]);
        let ev = Evaluator {
            scope: &s,
            mode: Mode::Value,
        };
        for src in [
            "$Input",
            "$Input.a.b",
            "$Input.a.b[1]",
            "get($Input.a, \"b\")",
        ] {
            let node = parse(src).unwrap().node;
            assert!(matches!(ev.eval(&node), Ok(Cow::Borrowed(_))), "{src}");
        }
        let node = parse("$Input.a.b[*]").unwrap().node;
        assert_eq!(ev.eval(&node).unwrap().into_owned(), json!([1, 2]));
    }
}
