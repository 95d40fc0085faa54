//! Tokenizer for the expression grammar (docs/COMPATIBILITY.md#expressions).
//!
//! Positions in error messages are 0-based character offsets into the source.

use super::{ExprError, Root};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Root(Root),
    Ident(String),
    Int(i64),
    Float(f64),
    Str(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Colon,
    Dot,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Bang,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    AndAnd,
    OrOr,
    Eof,
}

#[derive(Debug, Clone)]
pub(super) struct Token {
    pub tok: Tok,
    /// Character offset of the first character (for messages).
    pub pos: usize,
    /// Byte range in the source.
    pub start: usize,
    pub end: usize,
}

fn err(message: String) -> ExprError {
    ExprError { message }
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn root_by_name(name: &str) -> Option<Root> {
    Some(match name {
        "input" => Root::FdlInput,
        "local" => Root::FdlLocal,
        "context" => Root::FdlContext,
        "Input" => Root::Input,
        "Output" => Root::Output,
        "Context" => Root::Context,
        "Global" => Root::Global,
        "Item" => Root::Item,
        _ => return None,
    })
}

/// The source spelling of a root.
pub(super) fn root_name(root: Root) -> &'static str {
    match root {
        Root::Dollar => "$",
        Root::FdlInput => "$input",
        Root::FdlLocal => "$local",
        Root::FdlContext => "$context",
        Root::Input => "$Input",
        Root::Output => "$Output",
        Root::Context => "$Context",
        Root::Global => "$Global",
        Root::Item => "$Item",
    }
}

struct Lexer<'s> {
    src: &'s str,
    /// (byte offset, char); the index into this vector is the character position.
    chars: Vec<(usize, char)>,
    i: usize,
}

impl Lexer<'_> {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.i + ahead).map(|&(_, c)| c)
    }

    fn byte_at(&self, i: usize) -> usize {
        self.chars.get(i).map_or(self.src.len(), |&(b, _)| b)
    }

    fn text(&self, from: usize, to: usize) -> &str {
        self.src
            .get(self.byte_at(from)..self.byte_at(to))
            .unwrap_or_default()
    }

    fn take_while(&mut self, f: impl Fn(char) -> bool) {
        while self.peek(0).is_some_and(&f) {
            self.i += 1;
        }
    }

    fn next_token(&mut self) -> Result<Option<Tok>, ExprError> {
        let start = self.i;
        let Some(c) = self.peek(0) else {
            return Ok(None);
        };
        let two = |l: &mut Self, t: Tok| {
            l.i += 2;
            Ok(Some(t))
        };
        let one = |l: &mut Self, t: Tok| {
            l.i += 1;
            Ok(Some(t))
        };
        let next = self.peek(1);
        match c {
            '$' => {
                self.i += 1;
                if !self.peek(0).is_some_and(is_ident_continue) {
                    return Ok(Some(Tok::Root(Root::Dollar)));
                }
                self.take_while(is_ident_continue);
                let name = self.text(start + 1, self.i);
                match root_by_name(name) {
                    Some(r) => Ok(Some(Tok::Root(r))),
                    None => Err(err(format!("unknown variable '${name}'"))),
                }
            }
            c if is_ident_start(c) => {
                self.take_while(is_ident_continue);
                Ok(Some(Tok::Ident(self.text(start, self.i).to_string())))
            }
            '0'..='9' => self.number(start).map(Some),
            '"' | '\'' => self.quoted(c, start).map(Some),
            '`' => {
                self.i += 1;
                self.take_while(|c| c != '`');
                if self.peek(0).is_none() {
                    return Err(err(format!(
                        "unterminated string starting at position {start}"
                    )));
                }
                let s = self.text(start + 1, self.i).to_string();
                self.i += 1;
                Ok(Some(Tok::Str(s)))
            }
            '(' => one(self, Tok::LParen),
            ')' => one(self, Tok::RParen),
            '[' => one(self, Tok::LBracket),
            ']' => one(self, Tok::RBracket),
            '{' => one(self, Tok::LBrace),
            '}' => one(self, Tok::RBrace),
            ',' => one(self, Tok::Comma),
            ':' => one(self, Tok::Colon),
            '.' => one(self, Tok::Dot),
            '+' => one(self, Tok::Plus),
            '-' => one(self, Tok::Minus),
            '*' => one(self, Tok::Star),
            '/' => one(self, Tok::Slash),
            '%' => one(self, Tok::Percent),
            '=' if next == Some('=') => two(self, Tok::EqEq),
            '!' if next == Some('=') => two(self, Tok::NotEq),
            '!' => one(self, Tok::Bang),
            '<' if next == Some('=') => two(self, Tok::Le),
            '<' => one(self, Tok::Lt),
            '>' if next == Some('=') => two(self, Tok::Ge),
            '>' => one(self, Tok::Gt),
            '&' if next == Some('&') => two(self, Tok::AndAnd),
            '|' if next == Some('|') => two(self, Tok::OrOr),
            '=' => Err(err(format!(
                "unexpected character '=' at position {start} (use '==' to compare)"
            ))),
            '&' | '|' => Err(err(format!(
                "unexpected character '{c}' at position {start} (use '{c}{c}')"
            ))),
            _ => Err(err(format!(
                "unexpected character '{}' at position {start}",
                c.escape_debug()
            ))),
        }
    }

    /// Integers become `Int` (or `Float` when they overflow i64); a fraction or exponent
    /// makes a `Float` (docs/COMPATIBILITY.md#expressions, docs/COMPATIBILITY.md#documents numbers).
    fn number(&mut self, start: usize) -> Result<Tok, ExprError> {
        let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
        self.take_while(|c| c.is_ascii_digit());
        let mut float = false;
        if self.peek(0) == Some('.') && digit(self.peek(1)) {
            float = true;
            self.i += 1;
            self.take_while(|c| c.is_ascii_digit());
        }
        if matches!(self.peek(0), Some('e' | 'E')) {
            let sign = usize::from(matches!(self.peek(1), Some('+' | '-')));
            if digit(self.peek(1 + sign)) {
                float = true;
                self.i += 1 + sign;
                self.take_while(|c| c.is_ascii_digit());
            }
        }
        if self.peek(0).is_some_and(is_ident_continue) {
            self.take_while(is_ident_continue);
            return Err(err(format!(
                "invalid number '{}' at position {start}",
                self.text(start, self.i)
            )));
        }
        let text = self.text(start, self.i);
        if !float && let Ok(i) = text.parse::<i64>() {
            return Ok(Tok::Int(i));
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Tok::Float(f)),
            _ => Err(err(format!(
                "number '{text}' at position {start} is out of range"
            ))),
        }
    }

    /// `"..."` and `'...'` strings with JSON-style escapes.
    fn quoted(&mut self, quote: char, start: usize) -> Result<Tok, ExprError> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek(0) else {
                return Err(err(format!(
                    "unterminated string starting at position {start}"
                )));
            };
            self.i += 1;
            if c == quote {
                return Ok(Tok::Str(out));
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let at = self.i - 1;
            let Some(e) = self.peek(0) else { continue };
            self.i += 1;
            out.push(match e {
                '"' | '\'' | '\\' | '/' | '`' => e,
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                'b' => '\u{8}',
                'f' => '\u{c}',
                'u' => self.unicode_escape(at)?,
                _ => {
                    return Err(err(format!(
                        "invalid escape '\\{}' at position {at}",
                        e.escape_debug()
                    )));
                }
            });
        }
    }

    fn hex4(&mut self, at: usize) -> Result<u32, ExprError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = self
                .peek(0)
                .and_then(|c| c.to_digit(16))
                .ok_or_else(|| err(format!("invalid unicode escape at position {at}")))?;
            v = v * 16 + d;
            self.i += 1;
        }
        Ok(v)
    }

    /// `\uXXXX`, combining UTF-16 surrogate pairs like JSON does.
    fn unicode_escape(&mut self, at: usize) -> Result<char, ExprError> {
        let bad = || err(format!("invalid unicode escape at position {at}"));
        let hi = self.hex4(at)?;
        let code = if (0xD800..0xDC00).contains(&hi) {
            if self.peek(0) != Some('\\') || self.peek(1) != Some('u') {
                return Err(bad());
            }
            self.i += 2;
            let lo = self.hex4(at)?;
            if !(0xDC00..0xE000).contains(&lo) {
                return Err(bad());
            }
            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
        } else {
            hi
        };
        char::from_u32(code).ok_or_else(bad)
    }
}

/// Splits `src` into tokens; the last token is always `Eof`.
pub(super) fn tokenize(src: &str) -> Result<Vec<Token>, ExprError> {
    let mut lx = Lexer {
        src,
        chars: src.char_indices().collect(),
        i: 0,
    };
    let mut out = Vec::new();
    loop {
        lx.take_while(char::is_whitespace);
        let pos = lx.i;
        let start = lx.byte_at(pos);
        match lx.next_token()? {
            Some(tok) => out.push(Token {
                tok,
                pos,
                start,
                end: lx.byte_at(lx.i),
            }),
            None => {
                out.push(Token {
                    tok: Tok::Eof,
                    pos,
                    start,
                    end: start,
                });
                return Ok(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        tokenize(src).unwrap().into_iter().map(|t| t.tok).collect()
    }

    fn lex_err(src: &str) -> String {
        tokenize(src).unwrap_err().message
    }

    #[test]
    fn roots_are_case_sensitive_and_known() {
        assert_eq!(toks("$")[0], Tok::Root(Root::Dollar));
        assert_eq!(toks("$.a")[0], Tok::Root(Root::Dollar));
        assert_eq!(toks("$[0]")[0], Tok::Root(Root::Dollar));
        assert_eq!(toks("$)")[0], Tok::Root(Root::Dollar));
        assert_eq!(toks("$input")[0], Tok::Root(Root::FdlInput));
        assert_eq!(toks("$local")[0], Tok::Root(Root::FdlLocal));
        assert_eq!(toks("$context")[0], Tok::Root(Root::FdlContext));
        assert_eq!(toks("$Input")[0], Tok::Root(Root::Input));
        assert_eq!(toks("$Output")[0], Tok::Root(Root::Output));
        assert_eq!(toks("$Context")[0], Tok::Root(Root::Context));
        assert_eq!(toks("$Global")[0], Tok::Root(Root::Global));
        assert_eq!(lex_err("$INPUT.a"), "unknown variable '$INPUT'");
        assert_eq!(lex_err("$foo"), "unknown variable '$foo'");
        assert_eq!(lex_err("$inputs"), "unknown variable '$inputs'");
    }

    #[test]
    fn numbers() {
        assert_eq!(toks("42")[0], Tok::Int(42));
        assert_eq!(toks("1.5")[0], Tok::Float(1.5));
        assert_eq!(toks("1e3")[0], Tok::Float(1000.0));
        assert_eq!(toks("2E-1")[0], Tok::Float(0.2));
        assert_eq!(toks("99999999999999999999")[0], Tok::Float(1e20));
        // `1.` is the number 1 followed by a dot.
        assert_eq!(toks("1.")[..2], [Tok::Int(1), Tok::Dot]);
        assert!(lex_err("1abc").contains("invalid number '1abc'"));
        assert!(lex_err("1e999").contains("out of range"));
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(toks(r#""a\"b""#)[0], Tok::Str("a\"b".into()));
        assert_eq!(toks(r"'it\'s'")[0], Tok::Str("it's".into()));
        assert_eq!(toks("'say \"hi\"'")[0], Tok::Str("say \"hi\"".into()));
        assert_eq!(
            toks(r#""\\ \/ \n \t \r \b \f""#)[0],
            Tok::Str("\\ / \n \t \r \u{8} \u{c}".into())
        );
        assert_eq!(toks(r#""\u00e9\u4e2d""#)[0], Tok::Str("é中".into()));
        assert_eq!(toks(r#""\ud83d\ude00""#)[0], Tok::Str("😀".into()));
        assert_eq!(toks(r"`raw \n`")[0], Tok::Str("raw \\n".into()));
        assert_eq!(toks("\"中文\"")[0], Tok::Str("中文".into()));
        assert!(lex_err(r#""\x""#).contains("invalid escape '\\x' at position 1"));
        assert!(lex_err(r#""\ud83d""#).contains("invalid unicode escape"));
        assert!(lex_err(r#""\u12""#).contains("invalid unicode escape"));
        assert_eq!(
            lex_err("\"abc"),
            "unterminated string starting at position 0"
        );
        assert_eq!(
            lex_err("`abc"),
            "unterminated string starting at position 0"
        );
        assert_eq!(
            lex_err("'a\\"),
            "unterminated string starting at position 0"
        );
    }

    #[test]
    fn operators_and_positions() {
        assert_eq!(
            toks("== != < <= > >= && || ! + - * / %"),
            vec![
                Tok::EqEq,
                Tok::NotEq,
                Tok::Lt,
                Tok::Le,
                Tok::Gt,
                Tok::Ge,
                Tok::AndAnd,
                Tok::OrOr,
                Tok::Bang,
                Tok::Plus,
                Tok::Minus,
                Tok::Star,
                Tok::Slash,
                Tok::Percent,
                Tok::Eof
            ]
        );
        let t = tokenize("中文 == 1").unwrap();
        assert_eq!(t[1].pos, 3);
        assert_eq!(t[1].start, 7);
        assert!(lex_err("$.a = 1").contains("'=' at position 4"));
        assert!(lex_err("a & b").contains("'&' at position 2"));
        assert!(lex_err("a # b").contains("'#' at position 2"));
    }

    #[test]
    fn identifiers_are_unicode() {
        assert_eq!(toks("名字")[0], Tok::Ident("名字".into()));
        assert_eq!(toks("_a1")[0], Tok::Ident("_a1".into()));
    }
}
