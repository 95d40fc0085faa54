//! `get(container, key_or_index)`: one element of an object or an array; an absent one
//! follows the missing-path rule of the evaluation mode (docs/COMPATIBILITY.md#expressions).

use std::borrow::Cow;

use serde_json::Value;

use super::{NULL, as_integer, fail};
use crate::engine::expr::EvalError;
use crate::engine::expr::eval::Mode;
use crate::engine::expr::ops::type_name;

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
/// the evaluation mode (docs/COMPATIBILITY.md#expressions).
pub(super) fn get<'a>(args: Vec<Cow<'a, Value>>, mode: Mode) -> Result<Cow<'a, Value>, EvalError> {
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::engine::expr::tests::{eval_with, scope};
    use crate::engine::expr::{Expr, Root};

    #[test]
    fn get_follows_the_missing_path_rule() {
        let input = json!({"a": {"b": 1}, "list": [10, 20]});
        let t = |src: &str| eval_with(src, input.clone());
        assert_eq!(t("get($Input, \"a\")"), Ok(json!({"b": 1})));
        assert_eq!(t("get($Input.list, 1)"), Ok(json!(20)));
        assert_eq!(t("get($Input.list, 1.0)"), Ok(json!(20)));
        assert_eq!(t("get([1, 2], 0)"), Ok(json!(1)));
        assert_eq!(t("get(get($Input, \"a\"), \"b\")"), Ok(json!(1)));
        assert_eq!(
            t("get($Input, \"zz\")"),
            Err("get: element \"zz\" not found".into())
        );
        assert_eq!(
            t("get($Input.list, 2)"),
            Err("get: element 2 not found".into())
        );
        assert_eq!(
            t("get($Input.list, -1)"),
            Err("get: element -1 not found".into())
        );
        assert_eq!(
            t("get($Input.list, \"0\")"),
            Err("get: an array index must be an integer, got string".into())
        );
        assert_eq!(
            t("get($Input, 0)"),
            Err("get: an object key must be a string, got number".into())
        );
        assert_eq!(
            t("get(\"abc\", 0)"),
            Err("get: argument 1 must be an object or an array, got string".into())
        );
        // In a condition an absent element is null.
        let s = scope(&[(Root::Input, input.clone())]);
        let e = Expr::parse("get($Input, \"zz\") == null").unwrap();
        assert_eq!(e.eval_condition(&s), Ok(true));
    }
}
