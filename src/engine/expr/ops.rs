//! Value semantics of the operators (docs/COMPATIBILITY.md#expressions): equality, ordering,
//! membership and arithmetic.

use std::cmp::Ordering;
use std::fmt::Write as _;

use serde_json::{Number, Value};

use super::ast::{ArithOp, CmpOp};

pub(super) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A number reduced so that equal JSON numbers (`1`, `1.0`) have equal keys.
#[derive(Debug, Clone, Copy, PartialEq)]
enum NumKey {
    Int(i128),
    Float(f64),
}

/// Floats with no fractional part below this magnitude compare as integers.
const INTEGRAL_LIMIT: f64 = 1e36;

fn num_key(n: &Number) -> NumKey {
    if let Some(i) = n.as_i64() {
        return NumKey::Int(i128::from(i));
    }
    if let Some(u) = n.as_u64() {
        return NumKey::Int(i128::from(u));
    }
    let f = n.as_f64().unwrap_or(f64::NAN);
    if f.fract() == 0.0 && f.abs() < INTEGRAL_LIMIT {
        // Exact: `f` is integral and well inside i128's range.
        NumKey::Int(f as i128)
    } else {
        NumKey::Float(f)
    }
}

fn num_cmp(a: &Number, b: &Number) -> Option<Ordering> {
    match (num_key(a), num_key(b)) {
        (NumKey::Int(x), NumKey::Int(y)) => Some(x.cmp(&y)),
        (NumKey::Int(x), NumKey::Float(y)) => (x as f64).partial_cmp(&y),
        (NumKey::Float(x), NumKey::Int(y)) => x.partial_cmp(&(y as f64)),
        (NumKey::Float(x), NumKey::Float(y)) => x.partial_cmp(&y),
    }
}

/// JSON value equality; numbers numerically, no coercion, objects ignore key order.
pub(super) fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => num_cmp(x, y) == Some(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => false,
    }
}

/// Ordering for `< <= > >=`: numbers numerically, strings by code point, else none.
fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => num_cmp(x, y),
        // Rust compares `str` bytewise; UTF-8 byte order equals code point order.
        (Value::String(x), Value::String(y)) => Some(x.as_str().cmp(y.as_str())),
        _ => None,
    }
}

/// Comparison operators never fail (docs/COMPATIBILITY.md#expressions).
pub(super) fn compare(op: CmpOp, a: &Value, b: &Value) -> bool {
    match op {
        CmpOp::Eq => values_equal(a, b),
        CmpOp::Ne => !values_equal(a, b),
        CmpOp::Lt => order(a, b) == Some(Ordering::Less),
        CmpOp::Le => matches!(order(a, b), Some(Ordering::Less | Ordering::Equal)),
        CmpOp::Gt => order(a, b) == Some(Ordering::Greater),
        CmpOp::Ge => matches!(order(a, b), Some(Ordering::Greater | Ordering::Equal)),
        CmpOp::In => match b {
            Value::Array(items) => items.iter().any(|e| values_equal(a, e)),
            Value::Object(map) => a.as_str().is_some_and(|k| map.contains_key(k)),
            _ => false,
        },
    }
}

/// A key such that `canonical_key(a) == canonical_key(b)` iff `values_equal(a, b)`
/// (used to de-duplicate without quadratic comparisons).
pub(super) fn canonical_key(v: &Value) -> String {
    let mut out = String::new();
    write_key(v, &mut out);
    out
}

fn write_key(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push('n'),
        Value::Bool(b) => out.push(if *b { 't' } else { 'f' }),
        Value::Number(n) => match num_key(n) {
            NumKey::Int(i) => {
                let _ = write!(out, "i{i};");
            }
            NumKey::Float(f) => {
                let _ = write!(out, "d{};", f.to_bits());
            }
        },
        Value::String(s) => {
            let _ = write!(out, "s{}:{s}", s.len());
        }
        Value::Array(items) => {
            let _ = write!(out, "a{}[", items.len());
            items.iter().for_each(|e| write_key(e, out));
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let _ = write!(out, "o{}{{", keys.len());
            for k in keys {
                let _ = write!(out, "{}:{k}", k.len());
                if let Some(v) = map.get(k) {
                    write_key(v, out);
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Num {
    I(i64),
    F(f64),
}

fn to_num(v: &Value) -> Option<Num> {
    let Value::Number(n) = v else { return None };
    Some(match n.as_i64() {
        Some(i) => Num::I(i),
        None => Num::F(n.as_f64()?),
    })
}

fn as_f64(n: Num) -> f64 {
    match n {
        Num::I(i) => i as f64,
        Num::F(f) => f,
    }
}

fn float_value(f: f64) -> Result<Value, String> {
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| "arithmetic result is not a finite number".to_string())
}

/// Integer arithmetic stays integral when exact; overflow falls back to floats (docs/COMPATIBILITY.md#expressions).
fn int_op(op: ArithOp, x: i64, y: i64) -> Result<Value, String> {
    let exact = match op {
        ArithOp::Add => x.checked_add(y),
        ArithOp::Sub => x.checked_sub(y),
        ArithOp::Mul => x.checked_mul(y),
        ArithOp::Div => match x.checked_rem(y) {
            Some(0) => x.checked_div(y),
            _ => None,
        },
        // Only `y == 0` (excluded by the caller) can fail; `MIN % -1` is 0.
        ArithOp::Rem => Some(x.wrapping_rem(y)),
    };
    match exact {
        Some(v) => Ok(Value::from(v)),
        None => float_op(op, x as f64, y as f64),
    }
}

fn float_op(op: ArithOp, x: f64, y: f64) -> Result<Value, String> {
    float_value(match op {
        ArithOp::Add => x + y,
        ArithOp::Sub => x - y,
        ArithOp::Mul => x * y,
        ArithOp::Div => x / y,
        ArithOp::Rem => x % y,
    })
}

/// Applies a binary arithmetic operator; the error message says why it failed.
pub(super) fn arith(op: ArithOp, a: &Value, b: &Value) -> Result<Value, String> {
    if let (ArithOp::Add, Value::String(x), Value::String(y)) = (op, a, b) {
        let mut s = String::with_capacity(x.len() + y.len());
        s.push_str(x);
        s.push_str(y);
        return Ok(Value::String(s));
    }
    let (Some(x), Some(y)) = (to_num(a), to_num(b)) else {
        return Err(format!(
            "cannot apply '{}' to {} and {}",
            op.symbol(),
            type_name(a),
            type_name(b)
        ));
    };
    if matches!(op, ArithOp::Div | ArithOp::Rem) && as_f64(y) == 0.0 {
        return Err(if op == ArithOp::Div {
            "division by zero".to_string()
        } else {
            "modulo by zero".to_string()
        });
    }
    match (x, y) {
        (Num::I(x), Num::I(y)) => int_op(op, x, y),
        _ => float_op(op, as_f64(x), as_f64(y)),
    }
}

/// Unary minus: numbers only (docs/COMPATIBILITY.md#expressions).
pub(super) fn negate(v: &Value) -> Result<Value, String> {
    match to_num(v) {
        Some(Num::I(i)) => match i.checked_neg() {
            Some(n) => Ok(Value::from(n)),
            None => float_value(-(i as f64)),
        },
        Some(Num::F(f)) => float_value(-f),
        None => Err(format!("cannot negate {}", type_name(v))),
    }
}

/// `&&`, `||`, conditions: only the boolean `true` counts as true (docs/COMPATIBILITY.md#expressions).
pub(super) fn is_true(v: &Value) -> bool {
    matches!(v, Value::Bool(true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equality_is_numeric_and_deep() {
        assert!(values_equal(&json!(1), &json!(1.0)));
        assert!(values_equal(&json!(u64::MAX), &json!(u64::MAX)));
        assert!(!values_equal(&json!(u64::MAX), &json!(-1)));
        assert!(!values_equal(&json!("10"), &json!(10)));
        assert!(values_equal(&json!(null), &json!(null)));
        assert!(!values_equal(&json!(null), &json!(false)));
        assert!(values_equal(
            &json!([1, {"a": 2.0}]),
            &json!([1.0, {"a": 2}])
        ));
        assert!(!values_equal(&json!([1, 2]), &json!([2, 1])));
        assert!(values_equal(
            &json!({"a": 1, "b": [true]}),
            &json!({"b": [true], "a": 1})
        ));
        assert!(!values_equal(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
    }

    #[test]
    fn ordering() {
        assert!(compare(CmpOp::Lt, &json!(1), &json!(1.5)));
        assert!(compare(CmpOp::Ge, &json!(2.0), &json!(2)));
        assert!(compare(CmpOp::Lt, &json!("abc"), &json!("abd")));
        assert!(compare(CmpOp::Lt, &json!("Z"), &json!("a")));
        assert!(compare(CmpOp::Gt, &json!("é"), &json!("z")));
        assert!(!compare(CmpOp::Lt, &json!(null), &json!(1)));
        assert!(!compare(CmpOp::Ge, &json!(null), &json!(null)));
        assert!(!compare(CmpOp::Lt, &json!("1"), &json!(2)));
        assert!(!compare(CmpOp::Le, &json!([1]), &json!([1])));
        assert!(compare(CmpOp::Gt, &json!(-1), &json!(i64::MIN)));
        assert!(compare(CmpOp::Gt, &json!(u64::MAX), &json!(i64::MAX)));
    }

    #[test]
    fn membership() {
        assert!(compare(CmpOp::In, &json!(2), &json!([1, 2.0])));
        assert!(!compare(CmpOp::In, &json!("2"), &json!([1, 2])));
        assert!(compare(CmpOp::In, &json!("k"), &json!({"k": null})));
        assert!(!compare(CmpOp::In, &json!(1), &json!({"1": null})));
        assert!(!compare(CmpOp::In, &json!("b"), &json!("abc")));
        assert!(!compare(CmpOp::In, &json!(1), &json!(null)));
    }

    #[test]
    fn canonical_keys_match_equality() {
        let vals = [
            json!(1),
            json!(1.0),
            json!(1.5),
            json!("1"),
            json!(null),
            json!(true),
            json!([1, "a"]),
            json!([1.0, "a"]),
            json!({"a": 1, "b": 2}),
            json!({"b": 2.0, "a": 1}),
            json!({"a:": 1}),
            json!({"a": ":1"}),
            json!(["ab", "c"]),
            json!(["a", "bc"]),
        ];
        for a in &vals {
            for b in &vals {
                assert_eq!(
                    canonical_key(a) == canonical_key(b),
                    values_equal(a, b),
                    "{a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn arithmetic() {
        let a = |op, x: Value, y: Value| arith(op, &x, &y);
        assert_eq!(a(ArithOp::Add, json!(1), json!(2)), Ok(json!(3)));
        assert_eq!(a(ArithOp::Add, json!(1), json!(0.5)), Ok(json!(1.5)));
        assert_eq!(a(ArithOp::Sub, json!(1), json!(3)), Ok(json!(-2)));
        assert_eq!(a(ArithOp::Mul, json!(1.5), json!(2)), Ok(json!(3.0)));
        assert_eq!(a(ArithOp::Div, json!(6), json!(3)), Ok(json!(2)));
        assert_eq!(a(ArithOp::Div, json!(7), json!(2)), Ok(json!(3.5)));
        assert_eq!(a(ArithOp::Rem, json!(7), json!(3)), Ok(json!(1)));
        assert_eq!(a(ArithOp::Rem, json!(-7), json!(3)), Ok(json!(-1)));
        assert_eq!(a(ArithOp::Rem, json!(7.5), json!(2)), Ok(json!(1.5)));
        assert_eq!(a(ArithOp::Add, json!("a"), json!("b")), Ok(json!("ab")));
        assert_eq!(
            a(ArithOp::Add, json!(i64::MAX), json!(1)),
            Ok(json!(9223372036854775808.0))
        );
        assert_eq!(
            a(ArithOp::Div, json!(i64::MIN), json!(-1)),
            Ok(json!(9223372036854775808.0))
        );
        assert_eq!(a(ArithOp::Rem, json!(i64::MIN), json!(-1)), Ok(json!(0)));
        assert_eq!(
            a(ArithOp::Div, json!(1), json!(0)),
            Err("division by zero".into())
        );
        assert_eq!(
            a(ArithOp::Div, json!(1.0), json!(0.0)),
            Err("division by zero".into())
        );
        assert_eq!(
            a(ArithOp::Rem, json!(1), json!(0)),
            Err("modulo by zero".into())
        );
        assert_eq!(
            a(ArithOp::Add, json!("a"), json!(1)),
            Err("cannot apply '+' to string and number".into())
        );
        assert_eq!(
            a(ArithOp::Mul, json!("a"), json!("b")),
            Err("cannot apply '*' to string and string".into())
        );
        assert_eq!(
            a(ArithOp::Sub, json!(null), json!(1)),
            Err("cannot apply '-' to null and number".into())
        );
        assert!(a(ArithOp::Mul, json!(1e308), json!(10)).is_err());
    }

    #[test]
    fn negation() {
        assert_eq!(negate(&json!(3)), Ok(json!(-3)));
        assert_eq!(negate(&json!(-1.5)), Ok(json!(1.5)));
        assert_eq!(negate(&json!(i64::MIN)), Ok(json!(9223372036854775808.0)));
        assert_eq!(negate(&json!("a")), Err("cannot negate string".into()));
    }
}
