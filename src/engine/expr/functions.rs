//! Built-in functions of the state-machine language (definitions.md Part IV).
//!
//! Arity is checked at parse time; argument types at run time (`EvalError`).

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::Write as _;

use base64::Engine as _;
use rand::RngExt as _;
use regex::Regex;
use serde_json::{Map, Value};
use sha2::Digest as _;

use super::EvalError;
use super::eval::Mode;
use super::ops::{canonical_key, type_name, values_equal};
use super::parser::compile_regex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Func {
    Format,
    Length,
    ArrayContains,
    ArrayUnique,
    ToArray,
    MapKeys,
    MapValues,
    JsonMerge,
    StringToJson,
    FromJson,
    FromBase64,
    ToBase64,
    JsonToString,
    Hash,
    Get,
    IntAdd,
    RandomInt,
    RegexMatchString,
    Split,
    Uuid,
}

/// Name, function, minimum and maximum (`None`: variadic) argument count.
const TABLE: &[(&str, Func, usize, Option<usize>)] = &[
    ("format", Func::Format, 1, None),
    ("length", Func::Length, 1, Some(1)),
    ("arrayContains", Func::ArrayContains, 2, Some(2)),
    ("arrayUnique", Func::ArrayUnique, 1, Some(1)),
    ("toArray", Func::ToArray, 0, None),
    ("mapKeys", Func::MapKeys, 1, Some(1)),
    ("mapValues", Func::MapValues, 1, Some(1)),
    ("jsonMerge", Func::JsonMerge, 2, Some(2)),
    ("stringToJson", Func::StringToJson, 1, Some(1)),
    ("fromJSON", Func::FromJson, 1, Some(1)),
    ("fromBase64", Func::FromBase64, 1, Some(1)),
    ("toBase64", Func::ToBase64, 1, Some(1)),
    ("jsonToString", Func::JsonToString, 1, Some(1)),
    ("hash", Func::Hash, 2, Some(2)),
    ("get", Func::Get, 2, Some(2)),
    ("intAdd", Func::IntAdd, 2, Some(2)),
    ("randomInt", Func::RandomInt, 2, Some(2)),
    ("regexMatchString", Func::RegexMatchString, 2, Some(2)),
    ("split", Func::Split, 2, Some(2)),
    ("uuid", Func::Uuid, 0, Some(0)),
];

impl Func {
    /// Function names are case-sensitive.
    pub(super) fn lookup(name: &str) -> Option<Func> {
        TABLE.iter().find(|e| e.0 == name).map(|e| e.1)
    }

    pub(super) fn arity(self) -> (usize, Option<usize>) {
        TABLE
            .iter()
            .find(|e| e.1 == self)
            .map_or((0, None), |e| (e.2, e.3))
    }

    pub(super) fn name(self) -> &'static str {
        TABLE.iter().find(|e| e.1 == self).map_or("?", |e| e.0)
    }
}

static NULL: Value = Value::Null;

fn fail(message: String) -> EvalError {
    EvalError { message }
}

/// Argument `i`, or `null` if absent (the parser has already checked arity).
fn arg<'b>(args: &'b [Cow<'_, Value>], i: usize) -> &'b Value {
    args.get(i).map_or(&NULL, |c| c.as_ref())
}

fn type_err(f: Func, i: usize, expected: &str, got: &Value) -> EvalError {
    fail(format!(
        "{}: argument {} must be {expected}, got {}",
        f.name(),
        i + 1,
        type_name(got)
    ))
}

fn str_arg<'b>(f: Func, args: &'b [Cow<'_, Value>], i: usize) -> Result<&'b str, EvalError> {
    match arg(args, i) {
        Value::String(s) => Ok(s),
        v => Err(type_err(f, i, "a string", v)),
    }
}

fn array_arg<'b>(
    f: Func,
    args: &'b [Cow<'_, Value>],
    i: usize,
) -> Result<&'b Vec<Value>, EvalError> {
    match arg(args, i) {
        Value::Array(a) => Ok(a),
        v => Err(type_err(f, i, "an array", v)),
    }
}

fn object_arg<'b>(
    f: Func,
    args: &'b [Cow<'_, Value>],
    i: usize,
) -> Result<&'b Map<String, Value>, EvalError> {
    match arg(args, i) {
        Value::Object(m) => Ok(m),
        v => Err(type_err(f, i, "an object", v)),
    }
}

/// An integer, or a float with no fractional part (accepted because YAML and JSON
/// producers sometimes write `3.0` for 3).
fn as_integer(v: &Value) -> Option<i64> {
    let Value::Number(n) = v else { return None };
    n.as_i64().or_else(|| {
        let f = n.as_f64()?;
        let fits = f.fract() == 0.0 && f >= -(2f64.powi(63)) && f < 2f64.powi(63);
        fits.then_some(f as i64)
    })
}

fn int_arg(f: Func, args: &[Cow<'_, Value>], i: usize) -> Result<i64, EvalError> {
    let v = arg(args, i);
    as_integer(v).ok_or_else(|| type_err(f, i, "an integer", v))
}

fn owned<'a>(v: Value) -> Result<Cow<'a, Value>, EvalError> {
    Ok(Cow::Owned(v))
}

pub(super) fn call<'a>(
    f: Func,
    args: Vec<Cow<'a, Value>>,
    regex: Option<&Regex>,
    mode: Mode,
) -> Result<Cow<'a, Value>, EvalError> {
    match f {
        Func::Format => owned(Value::String(format(&args)?)),
        Func::Length => owned(Value::from(match arg(&args, 0) {
            Value::Array(a) => a.len(),
            Value::Object(m) => m.len(),
            Value::String(s) => s.chars().count(),
            v => return Err(type_err(f, 0, "an array, an object or a string", v)),
        })),
        Func::ArrayContains => {
            let needle = arg(&args, 1);
            let found = array_arg(f, &args, 0)?
                .iter()
                .any(|e| values_equal(e, needle));
            owned(Value::Bool(found))
        }
        Func::ArrayUnique => {
            let mut seen = HashSet::new();
            let items = array_arg(f, &args, 0)?
                .iter()
                .filter(|v| seen.insert(canonical_key(v)))
                .cloned()
                .collect();
            owned(Value::Array(items))
        }
        Func::ToArray => owned(Value::Array(
            args.into_iter().map(Cow::into_owned).collect(),
        )),
        Func::MapKeys | Func::MapValues => {
            let m = object_arg(f, &args, 0)?;
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            // Sorted for determinism (Part IV, [D]).
            entries.sort_by(|a, b| a.0.cmp(b.0));
            owned(Value::Array(
                entries
                    .into_iter()
                    .map(|(k, v)| match f {
                        Func::MapKeys => Value::String(k.clone()),
                        _ => v.clone(),
                    })
                    .collect(),
            ))
        }
        Func::JsonMerge => {
            let b = object_arg(f, &args, 1)?;
            let mut merged = object_arg(f, &args, 0)?.clone();
            for (k, v) in b {
                merged.insert(k.clone(), v.clone());
            }
            owned(Value::Object(merged))
        }
        Func::StringToJson | Func::FromJson => serde_json::from_str(str_arg(f, &args, 0)?)
            .map(Cow::Owned)
            .map_err(|e| fail(format!("{}: invalid JSON: {e}", f.name()))),
        Func::FromBase64 => {
            let bytes = base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT
                .decode(str_arg(f, &args, 0)?)
                .map_err(|e| fail(format!("fromBase64: invalid base64: {e}")))?;
            let s = String::from_utf8(bytes)
                .map_err(|_| fail("fromBase64: decoded bytes are not valid UTF-8".into()))?;
            owned(Value::String(s))
        }
        Func::ToBase64 => owned(Value::String(
            base64::engine::general_purpose::STANDARD.encode(str_arg(f, &args, 0)?),
        )),
        Func::JsonToString => owned(Value::String(arg(&args, 0).to_string())),
        Func::Hash => owned(Value::String(hash(
            str_arg(f, &args, 0)?,
            str_arg(f, &args, 1)?,
        )?)),
        Func::Get => get(args, mode),
        Func::IntAdd => {
            let (a, b) = (int_arg(f, &args, 0)?, int_arg(f, &args, 1)?);
            let sum = a
                .checked_add(b)
                .ok_or_else(|| fail("intAdd: integer overflow".into()))?;
            owned(Value::from(sum))
        }
        Func::RandomInt => {
            let (min, max) = (int_arg(f, &args, 0)?, int_arg(f, &args, 1)?);
            if min >= max {
                return Err(fail(format!(
                    "randomInt: min ({min}) must be less than max ({max})"
                )));
            }
            owned(Value::from(rand::rng().random_range(min..max)))
        }
        Func::RegexMatchString => {
            let s = str_arg(f, &args, 1)?;
            let matched = match regex {
                Some(re) => re.is_match(s),
                None => compile_regex(str_arg(f, &args, 0)?)
                    .map_err(|e| fail(format!("regexMatchString: {e}")))?
                    .is_match(s),
            };
            owned(Value::Bool(matched))
        }
        Func::Split => {
            let (s, sep) = (str_arg(f, &args, 0)?, str_arg(f, &args, 1)?);
            let parts: Vec<Value> = if sep.is_empty() {
                s.chars().map(|c| Value::String(c.to_string())).collect()
            } else {
                s.split(sep).map(|p| Value::String(p.to_string())).collect()
            };
            owned(Value::Array(parts))
        }
        Func::Uuid => owned(Value::String(uuid::Uuid::new_v4().to_string())),
    }
}

/// `format(tpl, args...)`: each `{}` takes the next argument; strings are inserted as
/// is, other values as compact JSON.
fn format(args: &[Cow<'_, Value>]) -> Result<String, EvalError> {
    let tpl = str_arg(Func::Format, args, 0)?;
    let mut pieces = tpl.split("{}");
    let mut out = String::from(pieces.next().unwrap_or_default());
    let mut given = args.iter().skip(1);
    for piece in pieces {
        let Some(a) = given.next() else {
            return Err(fail(format!(
                "format: the template has {} placeholders but only {} arguments were given",
                tpl.matches("{}").count(),
                args.len().saturating_sub(1)
            )));
        };
        match a.as_ref() {
            Value::String(s) => out.push_str(s),
            v => {
                let _ = write!(out, "{v}");
            }
        }
        out.push_str(piece);
    }
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn hash(s: &str, alg: &str) -> Result<String, EvalError> {
    let data = s.as_bytes();
    // Documented spellings are MD5, SHA-1, SHA-256, SHA-512; case and '-' are ignored.
    Ok(match alg.to_ascii_uppercase().replace('-', "").as_str() {
        "MD5" => hex(&md5::Md5::digest(data)),
        "SHA1" => hex(&sha1::Sha1::digest(data)),
        "SHA256" => hex(&sha2::Sha256::digest(data)),
        "SHA512" => hex(&sha2::Sha512::digest(data)),
        _ => {
            return Err(fail(format!(
                "hash: unsupported algorithm '{alg}' (use MD5, SHA-1, SHA-256 or SHA-512)"
            )));
        }
    })
}

/// Looks `key` up in `container`: `Ok(None)` when absent, `Err` when the types don't fit.
fn lookup<'v>(container: &'v Value, key: &Value) -> Result<Option<&'v Value>, String> {
    match (container, key) {
        (Value::Object(m), Value::String(k)) => Ok(m.get(k)),
        (Value::Array(a), _) if as_integer(key).is_some() => Ok(as_integer(key)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| a.get(i))),
        (Value::Array(_), _) => Err(format!(
            "get: an array index must be an integer, got {}",
            type_name(key)
        )),
        (Value::Object(_), _) => Err(format!(
            "get: an object key must be a string, got {}",
            type_name(key)
        )),
        _ => Err(format!(
            "get: argument 1 must be an object or an array, got {}",
            type_name(container)
        )),
    }
}

/// `get(container, key_or_index)`: an absent element follows the missing-path rule of
/// the evaluation mode (§III.3).
fn get<'a>(args: Vec<Cow<'a, Value>>, mode: Mode) -> Result<Cow<'a, Value>, EvalError> {
    let mut it = args.into_iter();
    let container = it.next().unwrap_or(Cow::Borrowed(&NULL));
    let key = it.next().unwrap_or(Cow::Borrowed(&NULL));
    let found = match container {
        Cow::Borrowed(c) => lookup(c, &key).map_err(fail)?.map(Cow::Borrowed),
        Cow::Owned(c) => lookup(&c, &key)
            .map_err(fail)?
            .map(|v| Cow::Owned(v.clone())),
    };
    match (found, mode) {
        (Some(v), _) => Ok(v),
        (None, Mode::Condition) => Ok(Cow::Owned(Value::Null)),
        (None, Mode::Value) => Err(fail(format!("get: element {key} not found"))),
    }
}
