//! Built-in functions of the state-machine language (docs/COMPATIBILITY.md#built-in-functions).
//!
//! Arity is checked at parse time; argument types at run time (`EvalError`).

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::Write as _;

use base64::Engine as _;
use rand::RngExt as _;
use regex_automata::meta::Regex;
use serde_json::{Map, Value};
use sha2::Digest as _;

use super::EvalError;
use super::eval::Mode;
use super::ops::{canonical_key, type_name, values_equal};
use super::parser::compile_regex;

mod get;

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
        Func::StringToJson | Func::FromJson => {
            crate::engine::json::parse_data(str_arg(f, &args, 0)?)
                .map(Cow::Owned)
                .map_err(|e| fail(format!("{}: invalid JSON: {e}", f.name())))
        }
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
        Func::Get => get::get(args, mode),
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::tests::{eval, eval_with, parse_err};
    use super::*;

    #[test]
    fn documented_examples() {
        assert_eq!(
            eval("format(\"hello {}\", \"world\")"),
            Ok(json!("hello world"))
        );
        assert_eq!(eval("length([1,2,3])"), Ok(json!(3)));
        assert_eq!(
            eval("length({\"name\": \"Tom\", \"age\": 10})"),
            Ok(json!(2))
        );
        assert_eq!(eval("length(\"name\")"), Ok(json!(4)));
        assert_eq!(eval("arrayContains([\"Tom\",10],10)"), Ok(json!(true)));
        assert_eq!(
            eval("arrayContains([\"Tom\",10],\"Jack\")"),
            Ok(json!(false))
        );
        assert_eq!(eval("arrayUnique([1, 2, 3, 1])"), Ok(json!([1, 2, 3])));
        assert_eq!(eval("fromBase64(\"Rm5G\")"), Ok(json!("FnF")));
        assert_eq!(
            eval("stringToJson('{\"name\": \"Tom\", \"age\": 10}')"),
            Ok(json!({"name": "Tom", "age": 10}))
        );
        assert_eq!(
            eval("fromJSON('{\"name\": \"Tom\", \"age\": 10}')"),
            Ok(json!({"name": "Tom", "age": 10}))
        );
        assert_eq!(
            eval("hash(\"abc\",\"MD5\")"),
            Ok(json!("900150983cd24fb0d6963f7d28e17f72"))
        );
        assert_eq!(
            eval(
                "jsonMerge({\"name\": \"Tom\", \"age\": 10},{\"name\": \"Tom\", \"address\": \"beijing\"})"
            ),
            Ok(json!({"name": "Tom", "age": 10, "address": "beijing"}))
        );
    }

    #[test]
    fn format_renders_values() {
        assert_eq!(
            eval("format(\"{}-{}-{}-{}\", 1, 1.5, [1, \"a\"], {\"k\": null})"),
            Ok(json!("1-1.5-[1,\"a\"]-{\"k\":null}"))
        );
        assert_eq!(
            eval("format(\"{} {}\", true, null)"),
            Ok(json!("true null"))
        );
        assert_eq!(
            eval("format(\"no placeholders\")"),
            Ok(json!("no placeholders"))
        );
        assert_eq!(eval("format(\"{}\", \"a\", \"extra\")"), Ok(json!("a")));
        assert_eq!(eval("format(\"中{}文\", \"é\")"), Ok(json!("中é文")));
        assert_eq!(
            eval("format(\"{} {}\", 1)"),
            Err("format: the template has 2 placeholders but only 1 arguments were given".into())
        );
        assert_eq!(
            eval("format(1)"),
            Err("format: argument 1 must be a string, got number".into())
        );
    }

    #[test]
    fn length_counts_characters() {
        assert_eq!(eval("length(\"中文\")"), Ok(json!(2)));
        assert_eq!(eval("length([])"), Ok(json!(0)));
        assert_eq!(
            eval("length(1)"),
            Err("length: argument 1 must be an array, an object or a string, got number".into())
        );
    }

    #[test]
    fn array_functions() {
        assert_eq!(eval("arrayContains([1, [2]], [2])"), Ok(json!(true)));
        assert_eq!(eval("arrayContains([1.0], 1)"), Ok(json!(true)));
        assert_eq!(
            eval("arrayContains(\"abc\", \"a\")"),
            Err("arrayContains: argument 1 must be an array, got string".into())
        );
        assert_eq!(
            eval("arrayUnique([{\"a\": 1, \"b\": 2}, 1.0, {\"b\": 2, \"a\": 1}, 1, \"1\"])"),
            Ok(json!([{"a": 1, "b": 2}, 1.0, "1"]))
        );
        assert_eq!(eval("arrayUnique([])"), Ok(json!([])));
        assert_eq!(eval("toArray()"), Ok(json!([])));
        assert_eq!(eval("toArray(1, \"a\", [2])"), Ok(json!([1, "a", [2]])));
    }

    #[test]
    fn map_functions() {
        let m = "{\"b\": 2, \"a\": 1, \"c\": [3]}";
        assert_eq!(eval(&format!("mapKeys({m})")), Ok(json!(["a", "b", "c"])));
        assert_eq!(eval(&format!("mapValues({m})")), Ok(json!([1, 2, [3]])));
        assert_eq!(
            eval("mapKeys([1])"),
            Err("mapKeys: argument 1 must be an object, got array".into())
        );
        assert_eq!(
            eval("jsonMerge({\"a\": {\"x\": 1}}, {\"a\": {\"y\": 2}})"),
            Ok(json!({"a": {"y": 2}}))
        );
        assert_eq!(
            eval("jsonMerge({}, 1)"),
            Err("jsonMerge: argument 2 must be an object, got number".into())
        );
    }

    #[test]
    fn json_and_base64() {
        assert_eq!(eval("stringToJson(\"[1, 2.5]\")"), Ok(json!([1, 2.5])));
        assert!(
            eval("stringToJson(\"{\")")
                .unwrap_err()
                .starts_with("stringToJson: invalid JSON")
        );
        assert!(
            eval("fromJSON(\"x\")")
                .unwrap_err()
                .starts_with("fromJSON: invalid JSON")
        );
        assert_eq!(
            eval("jsonToString({\"a\": [1, \"x\"], \"b\": null})"),
            Ok(json!("{\"a\":[1,\"x\"],\"b\":null}"))
        );
        assert_eq!(eval("jsonToString(\"s\")"), Ok(json!("\"s\"")));
        assert_eq!(eval("toBase64(\"FnF\")"), Ok(json!("Rm5G")));
        assert_eq!(eval("toBase64(\"中\")"), Ok(json!("5Lit")));
        assert_eq!(eval("fromBase64(toBase64(\"héllo\"))"), Ok(json!("héllo")));
        assert_eq!(eval("fromBase64(\"YQ==\")"), Ok(json!("a")));
        assert_eq!(eval("fromBase64(\"YQ\")"), Ok(json!("a")));
        assert!(
            eval("fromBase64(\"!!\")")
                .unwrap_err()
                .starts_with("fromBase64: invalid base64")
        );
        assert_eq!(
            eval("fromBase64(\"/w==\")"),
            Err("fromBase64: decoded bytes are not valid UTF-8".into())
        );
        assert_eq!(
            eval("toBase64(1)"),
            Err("toBase64: argument 1 must be a string, got number".into())
        );
    }

    #[test]
    fn hashes() {
        assert_eq!(
            eval("hash(\"abc\", \"SHA-1\")"),
            Ok(json!("a9993e364706816aba3e25717850c26c9cd0d89d"))
        );
        assert_eq!(
            eval("hash(\"abc\", \"SHA-256\")"),
            Ok(json!(
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
            ))
        );
        assert_eq!(
            eval("hash(\"abc\", \"SHA-512\")"),
            Ok(json!(
                "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
            ))
        );
        assert_eq!(
            eval("hash(\"abc\", \"md5\")"),
            Ok(json!("900150983cd24fb0d6963f7d28e17f72"))
        );
        assert_eq!(
            eval("hash(\"abc\", \"CRC32\")"),
            Err("hash: unsupported algorithm 'CRC32' (use MD5, SHA-1, SHA-256 or SHA-512)".into())
        );
    }

    #[test]
    fn integers() {
        assert_eq!(eval("intAdd(123, 321)"), Ok(json!(444)));
        assert_eq!(eval("intAdd(-5, 2.0)"), Ok(json!(-3)));
        assert_eq!(
            eval("intAdd(1.5, 1)"),
            Err("intAdd: argument 1 must be an integer, got number".into())
        );
        assert_eq!(
            eval("intAdd(1, \"2\")"),
            Err("intAdd: argument 2 must be an integer, got string".into())
        );
        assert_eq!(
            eval("intAdd(9223372036854775807, 1)"),
            Err("intAdd: integer overflow".into())
        );
        let input = json!({"Branch0": {"FieldA": 123}, "Branch1": {"FieldA": 321}});
        assert_eq!(
            eval_with(
                "intAdd($Input.Branch0.FieldA, $Input.Branch1.FieldA)",
                input
            ),
            Ok(json!(444))
        );
        for _ in 0..200 {
            let v = eval("randomInt(-2, 3)").unwrap().as_i64().unwrap();
            assert!((-2..3).contains(&v));
        }
        assert_eq!(eval("randomInt(5, 6)"), Ok(json!(5)));
        assert_eq!(
            eval("randomInt(3, 3)"),
            Err("randomInt: min (3) must be less than max (3)".into())
        );
    }

    #[test]
    fn strings() {
        assert_eq!(
            eval("regexMatchString(\"^a.c$\", \"abc\")"),
            Ok(json!(true))
        );
        assert_eq!(eval("regexMatchString(\"b\", \"abc\")"), Ok(json!(true)));
        assert_eq!(eval("regexMatchString(\"^b\", \"abc\")"), Ok(json!(false)));
        // A pattern computed at run time is compiled then.
        let input = json!({"p": "[0-9]+", "bad": "("});
        assert_eq!(
            eval_with("regexMatchString($Input.p, \"a1\")", input.clone()),
            Ok(json!(true))
        );
        assert!(
            eval_with("regexMatchString($Input.bad, \"a\")", input)
                .unwrap_err()
                .starts_with("regexMatchString: invalid regular expression")
        );
        assert!(
            parse_err("regexMatchString(\"a{99999}{99999}\", \"a\")")
                .starts_with("regexMatchString: invalid regular expression")
        );
        assert_eq!(
            eval("split(\"a,b,,c\", \",\")"),
            Ok(json!(["a", "b", "", "c"]))
        );
        assert_eq!(eval("split(\"a--b\", \"--\")"), Ok(json!(["a", "b"])));
        assert_eq!(eval("split(\"\", \",\")"), Ok(json!([""])));
        assert_eq!(eval("split(\"中文\", \"\")"), Ok(json!(["中", "文"])));
        assert_eq!(
            eval("split(1, \",\")"),
            Err("split: argument 1 must be a string, got number".into())
        );
        let id = eval("uuid()").unwrap();
        let id = id.as_str().unwrap();
        assert_eq!(id.len(), 36);
        assert_eq!(id.as_bytes()[14], b'4');
        assert_ne!(eval("uuid()").unwrap(), eval("uuid()").unwrap());
    }

    #[test]
    fn table_is_consistent() {
        for (name, f, min, max) in TABLE {
            assert_eq!(Func::lookup(name), Some(*f));
            assert_eq!(f.name(), *name);
            assert_eq!(f.arity(), (*min, *max));
        }
    }
}
