//! Syntax tree of a parsed expression.
//!
//! Operator chains (`a + b + c`, `a || b || c`) are stored flat so that evaluating or
//! dropping a long chain never recurses once per operand.

use regex_automata::meta::Regex;
use serde_json::Value;

use super::Root;
use super::functions::Func;

#[derive(Debug, Clone)]
pub(super) enum Accessor {
    /// `.key` or `["key"]`
    Key(String),
    /// `[n]`
    Index(usize),
    /// `[*]`
    Wildcard,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl ArithOp {
    pub(super) fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
            ArithOp::Rem => "%",
        }
    }
}

#[derive(Debug, Clone)]
pub(super) enum Node {
    Lit(Value),
    /// A root followed by accessors; `text` is its source, used in error messages.
    Path {
        root: Root,
        accessors: Vec<Accessor>,
        text: String,
    },
    /// Accessors applied to the value of any other primary (`get($Input, "a").b`).
    Postfix {
        base: Box<Node>,
        accessors: Vec<Accessor>,
        text: String,
    },
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
    Call {
        func: Func,
        args: Vec<Node>,
        /// `regexMatchString` with a literal pattern is compiled once, at parse time.
        regex: Option<Regex>,
    },
    Not(Box<Node>),
    Neg(Box<Node>),
    Or(Vec<Node>),
    And(Vec<Node>),
    Cmp(CmpOp, Box<Node>, Box<Node>),
    /// `first (op operand)*`, evaluated left to right.
    Arith(Box<Node>, Vec<(ArithOp, Node)>),
}

impl Node {
    /// Calls `f` for every root the expression reads, in source order.
    pub(super) fn visit_roots(&self, f: &mut dyn FnMut(Root)) {
        match self {
            Node::Lit(_) => {}
            Node::Path { root, .. } => f(*root),
            Node::Postfix { base, .. } | Node::Not(base) | Node::Neg(base) => base.visit_roots(f),
            Node::Array(items) | Node::Or(items) | Node::And(items) => {
                items.iter().for_each(|n| n.visit_roots(f))
            }
            Node::Call { args, .. } => args.iter().for_each(|n| n.visit_roots(f)),
            Node::Object(members) => members.iter().for_each(|(_, n)| n.visit_roots(f)),
            Node::Cmp(_, l, r) => {
                l.visit_roots(f);
                r.visit_roots(f);
            }
            Node::Arith(first, rest) => {
                first.visit_roots(f);
                rest.iter().for_each(|(_, n)| n.visit_roots(f));
            }
        }
    }
}
