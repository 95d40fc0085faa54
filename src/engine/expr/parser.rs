//! Recursive-descent parser for the grammar of docs/COMPATIBILITY.md#expressions.

use regex_automata::meta::Regex;
use serde_json::{Map, Number, Value};

use super::ExprError;
use super::ast::{Accessor, ArithOp, CmpOp, Node};
use super::functions::Func;
use super::lexer::{Tok, Token, tokenize};
use super::ops;

/// Parentheses, array/object literals, call arguments and unary operators may nest this
/// deep; it bounds the recursion of the parser and the evaluator.
const MAX_NESTING: usize = 64;
/// Built-in functions may nest at most 10 deep (docs/COMPATIBILITY.md#state-machine-data-flow, Part IV).
const MAX_CALL_DEPTH: usize = 10;
/// Longest token text quoted in an error message, in characters.
const MAX_QUOTED: usize = 32;

pub(super) struct Parsed {
    pub node: Node,
    /// The whole expression is a bare root followed by accessors.
    pub is_path: bool,
}

pub(super) fn parse(src: &str) -> Result<Parsed, ExprError> {
    let toks = tokenize(src)?;
    let eof = toks.last().cloned().unwrap_or(Token {
        tok: Tok::Eof,
        pos: 0,
        start: 0,
        end: 0,
    });
    let mut p = Parser {
        src,
        toks,
        eof,
        i: 0,
        depth: 0,
        calls: 0,
    };
    if p.tok().tok == Tok::Eof {
        return Err(ExprError {
            message: "empty expression".into(),
        });
    }
    let starts_with_root = matches!(p.tok().tok, Tok::Root(_));
    let node = p.parse_expr()?;
    if p.tok().tok != Tok::Eof {
        return Err(p.unexpected(p.tok(), None));
    }
    let is_path = starts_with_root && matches!(node, Node::Path { .. });
    Ok(Parsed { node, is_path })
}

fn err(message: String) -> ExprError {
    ExprError { message }
}

struct Parser<'s> {
    src: &'s str,
    toks: Vec<Token>,
    eof: Token,
    i: usize,
    depth: usize,
    calls: usize,
}

impl Parser<'_> {
    fn tok(&self) -> &Token {
        self.toks.get(self.i).unwrap_or(&self.eof)
    }

    fn peek_tok(&self, ahead: usize) -> &Tok {
        self.toks.get(self.i + ahead).map_or(&Tok::Eof, |t| &t.tok)
    }

    fn advance(&mut self) -> Token {
        let t = self.tok().clone();
        if self.i < self.toks.len() {
            self.i += 1;
        }
        t
    }

    /// Byte offset just past the last consumed token.
    fn prev_end(&self) -> usize {
        self.i
            .checked_sub(1)
            .and_then(|j| self.toks.get(j))
            .map_or(0, |t| t.end)
    }

    fn slice(&self, start: usize, end: usize) -> &str {
        self.src.get(start..end).unwrap_or_default()
    }

    fn unexpected(&self, t: &Token, expected: Option<&str>) -> ExprError {
        let mut msg = if t.tok == Tok::Eof {
            "unexpected end of expression".to_string()
        } else {
            let text = self.slice(t.start, t.end);
            let mut shown: String = text.chars().take(MAX_QUOTED).collect();
            if shown.len() < text.len() {
                shown.push_str("...");
            }
            format!("unexpected token '{shown}' at position {}", t.pos)
        };
        if let Some(e) = expected {
            msg.push_str(", expected ");
            msg.push_str(e);
        }
        err(msg)
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<(), ExprError> {
        if self.tok().tok == tok {
            self.advance();
            Ok(())
        } else {
            Err(self.unexpected(self.tok(), Some(what)))
        }
    }

    fn enter(&mut self) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(err(format!(
                "expression is nested too deeply (more than {MAX_NESTING} levels) at position {}",
                self.tok().pos
            )));
        }
        Ok(())
    }

    fn parse_expr(&mut self) -> Result<Node, ExprError> {
        self.enter()?;
        let node = self.parse_or()?;
        self.depth -= 1;
        Ok(node)
    }

    fn parse_or(&mut self) -> Result<Node, ExprError> {
        let mut items = vec![self.parse_and()?];
        while self.tok().tok == Tok::OrOr {
            self.advance();
            items.push(self.parse_and()?);
        }
        Ok(match items.len() {
            1 => items.pop().unwrap_or(Node::Lit(Value::Null)),
            _ => Node::Or(items),
        })
    }

    fn parse_and(&mut self) -> Result<Node, ExprError> {
        let mut items = vec![self.parse_cmp()?];
        while self.tok().tok == Tok::AndAnd {
            self.advance();
            items.push(self.parse_cmp()?);
        }
        Ok(match items.len() {
            1 => items.pop().unwrap_or(Node::Lit(Value::Null)),
            _ => Node::And(items),
        })
    }

    fn cmp_op(&self) -> Option<CmpOp> {
        Some(match &self.tok().tok {
            Tok::EqEq => CmpOp::Eq,
            Tok::NotEq => CmpOp::Ne,
            Tok::Lt => CmpOp::Lt,
            Tok::Le => CmpOp::Le,
            Tok::Gt => CmpOp::Gt,
            Tok::Ge => CmpOp::Ge,
            Tok::Ident(k) if k == "in" => CmpOp::In,
            _ => return None,
        })
    }

    /// At most one comparison operator: `a == b == c` is rejected (docs/COMPATIBILITY.md#expressions).
    fn parse_cmp(&mut self) -> Result<Node, ExprError> {
        let left = self.parse_add()?;
        let Some(op) = self.cmp_op() else {
            return Ok(left);
        };
        self.advance();
        let right = self.parse_add()?;
        if self.cmp_op().is_some() {
            let e = self.unexpected(self.tok(), None);
            return Err(err(format!(
                "{} (comparisons cannot be chained; use parentheses)",
                e.message
            )));
        }
        Ok(Node::Cmp(op, Box::new(left), Box::new(right)))
    }

    fn parse_add(&mut self) -> Result<Node, ExprError> {
        self.parse_chain(Self::parse_mul, |t| match t {
            Tok::Plus => Some(ArithOp::Add),
            Tok::Minus => Some(ArithOp::Sub),
            _ => None,
        })
    }

    fn parse_mul(&mut self) -> Result<Node, ExprError> {
        self.parse_chain(Self::parse_unary, |t| match t {
            Tok::Star => Some(ArithOp::Mul),
            Tok::Slash => Some(ArithOp::Div),
            Tok::Percent => Some(ArithOp::Rem),
            _ => None,
        })
    }

    fn parse_chain(
        &mut self,
        operand: fn(&mut Self) -> Result<Node, ExprError>,
        op_of: fn(&Tok) -> Option<ArithOp>,
    ) -> Result<Node, ExprError> {
        let first = operand(self)?;
        let mut rest = Vec::new();
        while let Some(op) = op_of(&self.tok().tok) {
            self.advance();
            rest.push((op, operand(self)?));
        }
        Ok(if rest.is_empty() {
            first
        } else {
            Node::Arith(Box::new(first), rest)
        })
    }

    fn parse_unary(&mut self) -> Result<Node, ExprError> {
        let neg = match self.tok().tok {
            Tok::Bang => false,
            Tok::Minus => true,
            _ => return self.parse_postfix(),
        };
        self.advance();
        self.enter()?;
        let inner = self.parse_unary()?;
        self.depth -= 1;
        Ok(match inner {
            // Fold `-<number literal>` so literal arrays like `[1, -2]` stay constant.
            Node::Lit(ref v @ Value::Number(_)) if neg => match ops::negate(v) {
                Ok(n) => Node::Lit(n),
                Err(_) => Node::Neg(Box::new(inner)),
            },
            _ if neg => Node::Neg(Box::new(inner)),
            _ => Node::Not(Box::new(inner)),
        })
    }

    fn parse_postfix(&mut self) -> Result<Node, ExprError> {
        let start = self.tok().start;
        let is_root = matches!(self.tok().tok, Tok::Root(_));
        let mut node = self.parse_primary()?;
        let mut accs = Vec::new();
        while matches!(self.tok().tok, Tok::Dot | Tok::LBracket) {
            accs.push(self.parse_accessor()?);
        }
        if accs.is_empty() {
            return Ok(node);
        }
        let text = self.slice(start, self.prev_end()).to_string();
        match &mut node {
            // A root's own accessors form the path (docs/COMPATIBILITY.md#fdl-data-flow); after anything else
            // (including a parenthesized path) they apply to the computed value.
            Node::Path {
                accessors, text: t, ..
            } if is_root => {
                *accessors = accs;
                *t = text;
                Ok(node)
            }
            _ => Ok(Node::Postfix {
                base: Box::new(node),
                accessors: accs,
                text,
            }),
        }
    }

    fn parse_accessor(&mut self) -> Result<Accessor, ExprError> {
        if self.advance().tok == Tok::Dot {
            let t = self.advance();
            return match t.tok {
                Tok::Ident(name) => Ok(Accessor::Key(name)),
                _ => Err(self.unexpected(&t, Some("a key name after '.'"))),
            };
        }
        let t = self.advance();
        let acc = match t.tok {
            Tok::Int(n) => Accessor::Index(
                usize::try_from(n)
                    .map_err(|_| err(format!("index {n} at position {} is too large", t.pos)))?,
            ),
            Tok::Str(key) => Accessor::Key(key),
            Tok::Star => Accessor::Wildcard,
            Tok::Minus if matches!(self.tok().tok, Tok::Int(_)) => {
                return Err(err(format!(
                    "negative array index at position {} is not supported",
                    t.pos
                )));
            }
            _ => {
                return Err(self.unexpected(&t, Some("an index, a quoted key or '*'")));
            }
        };
        self.expect(Tok::RBracket, "']'")?;
        Ok(acc)
    }

    fn parse_primary(&mut self) -> Result<Node, ExprError> {
        let t = self.tok().clone();
        match t.tok {
            Tok::Root(root) => {
                self.advance();
                Ok(Node::Path {
                    root,
                    accessors: Vec::new(),
                    text: self.slice(t.start, t.end).to_string(),
                })
            }
            Tok::Int(i) => {
                self.advance();
                Ok(Node::Lit(Value::from(i)))
            }
            Tok::Float(f) => {
                self.advance();
                Number::from_f64(f)
                    .map(|n| Node::Lit(Value::Number(n)))
                    .ok_or_else(|| err(format!("invalid number at position {}", t.pos)))
            }
            Tok::Str(s) => {
                self.advance();
                Ok(Node::Lit(Value::String(s)))
            }
            Tok::Ident(name) => {
                let lit = match name.as_str() {
                    "true" => Some(Value::Bool(true)),
                    "false" => Some(Value::Bool(false)),
                    "null" => Some(Value::Null),
                    _ => None,
                };
                if let Some(v) = lit {
                    self.advance();
                    Ok(Node::Lit(v))
                } else if *self.peek_tok(1) == Tok::LParen {
                    self.parse_call(&name)
                } else {
                    Err(err(format!(
                        "unexpected identifier '{name}' at position {} (variables start with '$', strings need quotes)",
                        t.pos
                    )))
                }
            }
            Tok::LParen => {
                self.advance();
                let inner = self.parse_expr()?;
                self.expect(Tok::RParen, "')'")?;
                Ok(inner)
            }
            Tok::LBracket => self.parse_array(),
            Tok::LBrace => self.parse_object(),
            _ => Err(self.unexpected(&t, None)),
        }
    }

    /// Parses `( expr ( "," expr )* )? close` after the opening token.
    fn parse_list(&mut self, close: Tok, what: &str) -> Result<Vec<Node>, ExprError> {
        let mut items = Vec::new();
        if self.tok().tok == close {
            self.advance();
            return Ok(items);
        }
        loop {
            items.push(self.parse_expr()?);
            let t = self.advance();
            if t.tok == close {
                return Ok(items);
            }
            if t.tok != Tok::Comma {
                return Err(self.unexpected(&t, Some(what)));
            }
        }
    }

    fn parse_array(&mut self) -> Result<Node, ExprError> {
        self.advance();
        let items = self.parse_list(Tok::RBracket, "',' or ']'")?;
        // Constant arrays are built once, at parse time.
        if items.iter().all(|n| matches!(n, Node::Lit(_))) {
            let values = items
                .into_iter()
                .map(|n| match n {
                    Node::Lit(v) => v,
                    _ => Value::Null,
                })
                .collect();
            return Ok(Node::Lit(Value::Array(values)));
        }
        Ok(Node::Array(items))
    }

    fn parse_object(&mut self) -> Result<Node, ExprError> {
        self.advance();
        let mut members = Vec::new();
        if self.tok().tok == Tok::RBrace {
            self.advance();
            return Ok(Node::Lit(Value::Object(Map::new())));
        }
        loop {
            let t = self.advance();
            let Tok::Str(key) = t.tok else {
                return Err(self.unexpected(&t, Some("a quoted key")));
            };
            self.expect(Tok::Colon, "':'")?;
            members.push((key, self.parse_expr()?));
            let t = self.advance();
            match t.tok {
                Tok::RBrace => break,
                Tok::Comma => {}
                _ => return Err(self.unexpected(&t, Some("',' or '}'"))),
            }
        }
        if members.iter().all(|(_, n)| matches!(n, Node::Lit(_))) {
            let map = members
                .into_iter()
                .map(|(k, n)| match n {
                    Node::Lit(v) => (k, v),
                    _ => (k, Value::Null),
                })
                .collect();
            return Ok(Node::Lit(Value::Object(map)));
        }
        Ok(Node::Object(members))
    }

    fn parse_call(&mut self, name: &str) -> Result<Node, ExprError> {
        let func = Func::lookup(name).ok_or_else(|| err(format!("unknown function '{name}'")))?;
        let pos = self.tok().pos;
        self.advance();
        self.advance();
        self.calls += 1;
        if self.calls > MAX_CALL_DEPTH {
            return Err(err(format!(
                "built-in function calls are nested more than {MAX_CALL_DEPTH} deep at position {pos}"
            )));
        }
        let args = self.parse_list(Tok::RParen, "',' or ')'")?;
        self.calls -= 1;
        let (min, max) = func.arity();
        if args.len() < min || max.is_some_and(|m| args.len() > m) {
            let expected = match max {
                Some(m) if m == min => format!("{min}"),
                Some(m) => format!("{min} to {m}"),
                None => format!("at least {min}"),
            };
            let plural = if max == Some(1) || (max.is_none() && min == 1) {
                ""
            } else {
                "s"
            };
            return Err(err(format!(
                "function '{name}' expects {expected} argument{plural}, got {}",
                args.len()
            )));
        }
        let regex = match (func, args.first()) {
            (Func::RegexMatchString, Some(Node::Lit(Value::String(p)))) => {
                Some(compile_regex(p).map_err(|e| err(format!("regexMatchString: {e}")))?)
            }
            _ => None,
        };
        Ok(Node::Call { func, args, regex })
    }
}

/// Compiles a user pattern with tight limits so hostile patterns fail instead of
/// consuming memory. While a definition is parsed ([`with_regex_budget`]) its literal
/// patterns also share one budget: each may be as large as what is left of it.
pub(super) fn compile_regex(pattern: &str) -> Result<Regex, String> {
    let left = REGEX_BUDGET.get();
    let limit = left.map_or(MAX_REGEX_BYTES, |left| left.min(MAX_REGEX_BYTES));
    let regex = Regex::builder()
        .configure(
            Regex::config()
                .nfa_size_limit(Some(limit))
                .onepass_size_limit(Some(limit))
                .dfa_size_limit(Some(limit))
                .hybrid_cache_capacity(MAX_REGEX_BYTES),
        )
        .syntax(regex_automata::util::syntax::Config::new().nest_limit(64))
        .build(pattern)
        .map_err(|e| match left {
            Some(left) if left < MAX_REGEX_BYTES && e.size_limit().is_some() => format!(
                "the regular expressions of this definition are too large together (more \
                 than {REGEX_BUDGET_BYTES} bytes compiled)"
            ),
            _ => format!("invalid regular expression: {e}"),
        })?;
    if let Some(left) = left {
        REGEX_BUDGET.set(Some(left.saturating_sub(regex.memory_usage())));
    }
    Ok(regex)
}

/// Most memory one compiled pattern may take.
const MAX_REGEX_BYTES: usize = 1 << 20;
/// Most memory the literal patterns of one definition may take together: compiling is
/// proportional to it, and every pattern is kept with the parsed definition.
pub const REGEX_BUDGET_BYTES: usize = 4 << 20;

thread_local! {
    /// What is left of the budget of the definition being parsed on this thread.
    static REGEX_BUDGET: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// Runs `parse` (a whole definition, on this thread) with a fresh regex budget.
pub fn with_regex_budget<T>(parse: impl FnOnce() -> T) -> T {
    struct Restore(Option<usize>);
    impl Drop for Restore {
        fn drop(&mut self) {
            REGEX_BUDGET.set(self.0);
        }
    }
    let _restore = Restore(REGEX_BUDGET.replace(Some(REGEX_BUDGET_BYTES)));
    parse()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn node(src: &str) -> Node {
        parse(src).unwrap().node
    }

    #[test]
    fn chains_are_flat() {
        assert!(matches!(node("1 + 2 - 3 + 4"), Node::Arith(_, rest) if rest.len() == 3));
        assert!(matches!(node("$.a || $.b || $.c"), Node::Or(v) if v.len() == 3));
        assert!(matches!(node("$.a && $.b && $.c"), Node::And(v) if v.len() == 3));
        // `*` binds tighter: one `+` whose right operand is a product.
        match node("1 + 2 * 3") {
            Node::Arith(_, rest) => {
                assert_eq!(rest.len(), 1);
                assert!(matches!(&rest[0], (ArithOp::Add, Node::Arith(_, r)) if r.len() == 1));
            }
            n => panic!("{n:?}"),
        }
    }

    #[test]
    fn constants_are_folded() {
        assert!(
            matches!(node("[1, -2, \"a\", [true]]"), Node::Lit(v) if v == json!([1, -2, "a", [true]]))
        );
        assert!(
            matches!(node("{\"a\": {\"b\": -1.5}}"), Node::Lit(v) if v == json!({"a": {"b": -1.5}}))
        );
        assert!(matches!(node("[1, $.a]"), Node::Array(_)));
        assert!(matches!(node("-\"a\""), Node::Neg(_)));
    }

    #[test]
    fn literal_regex_is_compiled_once() {
        assert!(matches!(
            node("regexMatchString(\"a+\", $.s)"),
            Node::Call { regex: Some(_), .. }
        ));
        assert!(matches!(
            node("regexMatchString($.p, $.s)"),
            Node::Call { regex: None, .. }
        ));
    }

    #[test]
    fn path_text_is_the_source_span() {
        match node("$Input . a[\"x y\"] [*]") {
            Node::Path {
                text, accessors, ..
            } => {
                assert_eq!(text, "$Input . a[\"x y\"] [*]");
                assert_eq!(accessors.len(), 3);
            }
            n => panic!("{n:?}"),
        }
    }
}
