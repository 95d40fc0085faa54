//! Accessor evaluation (docs/COMPATIBILITY.md#fdl-data-flow): `.key`, `["key"]`, `[n]`, `[*]`.
//!
//! Resolution borrows from the document; only the caller decides what to clone.

use serde_json::Value;

use super::ast::Accessor;

/// What a chain of accessors selected.
pub(super) enum Found<'v> {
    /// No wildcard was applied: a single value.
    One(&'v Value),
    /// After a `[*]`: the projected values, which the caller turns into an array.
    Many(Vec<&'v Value>),
}

impl Found<'_> {
    pub(super) fn to_value(&self) -> Value {
        match self {
            Found::One(v) => (*v).clone(),
            Found::Many(vs) => Value::Array(vs.iter().map(|v| (*v).clone()).collect()),
        }
    }
}

/// Why a path resolved to nothing.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Miss {
    NoKey(String),
    OutOfRange {
        index: usize,
        len: usize,
    },
    WrongType {
        accessor: String,
        found: &'static str,
    },
}

impl Miss {
    pub(super) fn describe(&self) -> String {
        match self {
            Miss::NoKey(k) => format!("no key '{k}'"),
            Miss::OutOfRange { index, len } => {
                format!("index {index} is out of range (length {len})")
            }
            Miss::WrongType { accessor, found } => {
                format!("cannot apply '{accessor}' to {found}")
            }
        }
    }
}

fn accessor_text(acc: &Accessor) -> String {
    match acc {
        Accessor::Key(k) => {
            let plain = k
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && k.chars().all(|c| c.is_alphanumeric() || c == '_');
            if plain {
                format!(".{k}")
            } else {
                format!("[{}]", Value::String(k.clone()))
            }
        }
        Accessor::Index(i) => format!("[{i}]"),
        Accessor::Wildcard => "[*]".to_string(),
    }
}

fn wrong_type(acc: &Accessor, v: &Value) -> Miss {
    let found = match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    Miss::WrongType {
        accessor: accessor_text(acc),
        found,
    }
}

/// One non-wildcard step.
fn step<'v>(v: &'v Value, acc: &Accessor) -> Result<&'v Value, Miss> {
    match (acc, v) {
        (Accessor::Key(k), Value::Object(m)) => m.get(k).ok_or_else(|| Miss::NoKey(k.clone())),
        (Accessor::Index(i), Value::Array(a)) => a.get(*i).ok_or(Miss::OutOfRange {
            index: *i,
            len: a.len(),
        }),
        _ => Err(wrong_type(acc, v)),
    }
}

/// Pushes the elements of an array or the member values of an object; other values
/// contribute nothing (projection skips them).
fn push_children<'v>(v: &'v Value, out: &mut Vec<&'v Value>) {
    match v {
        Value::Array(a) => out.extend(a.iter()),
        Value::Object(m) => out.extend(m.values()),
        _ => {}
    }
}

/// Applies `accs` to `base`. Before the first `[*]` every step must succeed; after it,
/// steps apply to each projected value, values lacking the key are skipped and a further
/// `[*]` flattens (docs/COMPATIBILITY.md#fdl-data-flow).
pub(super) fn resolve<'v>(base: &'v Value, accs: &[Accessor]) -> Result<Found<'v>, Miss> {
    let mut cur = Found::One(base);
    for acc in accs {
        cur = match (cur, acc) {
            (Found::One(v), Accessor::Wildcard) => match v {
                Value::Array(_) | Value::Object(_) => {
                    let mut out = Vec::new();
                    push_children(v, &mut out);
                    Found::Many(out)
                }
                _ => return Err(wrong_type(acc, v)),
            },
            (Found::One(v), _) => Found::One(step(v, acc)?),
            (Found::Many(vs), Accessor::Wildcard) => {
                let mut out = Vec::new();
                vs.into_iter().for_each(|v| push_children(v, &mut out));
                Found::Many(out)
            }
            (Found::Many(vs), _) => {
                Found::Many(vs.into_iter().filter_map(|v| step(v, acc).ok()).collect())
            }
        };
    }
    Ok(cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(k: &str) -> Accessor {
        Accessor::Key(k.into())
    }

    fn get(v: &Value, accs: &[Accessor]) -> Result<Value, Miss> {
        resolve(v, accs).map(|f| f.to_value())
    }

    #[test]
    fn plain_steps() {
        let doc = json!({"a": {"b": [10, 20]}, "名字": "x"});
        assert_eq!(get(&doc, &[]), Ok(doc.clone()));
        assert_eq!(
            get(&doc, &[key("a"), key("b"), Accessor::Index(1)]),
            Ok(json!(20))
        );
        assert_eq!(get(&doc, &[key("名字")]), Ok(json!("x")));
        assert_eq!(get(&doc, &[key("z")]), Err(Miss::NoKey("z".into())));
        assert_eq!(
            get(&doc, &[key("a"), key("b"), Accessor::Index(2)]),
            Err(Miss::OutOfRange { index: 2, len: 2 })
        );
        let e = get(&doc, &[key("a"), key("b"), key("c")]).unwrap_err();
        assert_eq!(e.describe(), "cannot apply '.c' to an array");
        let e = get(&doc, &[key("a"), Accessor::Index(0)]).unwrap_err();
        assert_eq!(e.describe(), "cannot apply '[0]' to an object");
        let e = get(&doc, &[key("名字"), key("x y")]).unwrap_err();
        assert_eq!(e.describe(), "cannot apply '[\"x y\"]' to a string");
        let e = get(&json!(null), &[Accessor::Wildcard]).unwrap_err();
        assert_eq!(e.describe(), "cannot apply '[*]' to null");
    }

    #[test]
    fn wildcards_project_skip_and_flatten() {
        let doc = json!([{"parts": [1, 2]}, {"parts": [3]}, {"other": 0}, 5]);
        assert_eq!(
            get(
                &doc,
                &[Accessor::Wildcard, key("parts"), Accessor::Wildcard]
            ),
            Ok(json!([1, 2, 3]))
        );
        assert_eq!(
            get(&doc, &[Accessor::Wildcard, key("parts")]),
            Ok(json!([[1, 2], [3]]))
        );
        assert_eq!(
            get(
                &doc,
                &[Accessor::Wildcard, key("parts"), Accessor::Index(1)]
            ),
            Ok(json!([2]))
        );
        let obj = json!({"x": {"id": 1}, "y": {"id": 2}, "z": {}});
        assert_eq!(
            get(&obj, &[Accessor::Wildcard, key("id")]),
            Ok(json!([1, 2]))
        );
        assert_eq!(
            get(&json!([]), &[Accessor::Wildcard, key("a")]),
            Ok(json!([]))
        );
        // A projection stays an array even when it selects a single element.
        assert_eq!(
            get(&json!([{"a": 1}]), &[Accessor::Wildcard, key("a")]),
            Ok(json!([1]))
        );
    }
}
