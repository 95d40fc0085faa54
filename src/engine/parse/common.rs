//! Helpers both languages share: error paths, typed field readers that report the exact
//! path at fault, expressions with allowed roots, FDL mappings and state-machine templates.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::DefinitionError;
use crate::engine::expr::{Expr, Root};
use crate::engine::ir::{Mapping, Mappings, Source, Template};

pub(super) type Result<T> = std::result::Result<T, DefinitionError>;

pub(super) fn err(path: impl Into<String>, reason: impl Into<String>) -> DefinitionError {
    DefinitionError {
        path: path.into(),
        reason: reason.into(),
    }
}

/// `parent.key`, or just `key` at the document level.
pub(super) fn field(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// `parent[i]`.
pub(super) fn item(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

/// A value as short JSON text for a reason; long values are cut.
pub(super) fn show(value: &Value) -> String {
    const MAX: usize = 40;
    let text = value.to_string();
    if text.chars().count() <= MAX {
        text
    } else {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

/// A mapping of the document together with its path, for typed reads.
pub(super) struct Obj<'a> {
    pub map: &'a Map<String, Value>,
    pub path: String,
}

impl<'a> Obj<'a> {
    pub fn new(value: &'a Value, path: String) -> Result<Self> {
        match value {
            Value::Object(map) => Ok(Obj { map, path }),
            _ => Err(err(path, "must be a mapping")),
        }
    }

    /// Path of one of this mapping's fields.
    pub fn at(&self, key: &str) -> String {
        field(&self.path, key)
    }

    /// A field's value. An explicit `null` (`key:` with nothing after it) counts as absent.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn required(&self, key: &str) -> Result<&'a Value> {
        self.get(key)
            .ok_or_else(|| err(self.at(key), "is required"))
    }

    pub fn string(&self, key: &str) -> Result<Option<&'a str>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(err(self.at(key), "must be a string")),
        }
    }

    pub fn required_string(&self, key: &str) -> Result<&'a str> {
        self.string(key)?
            .ok_or_else(|| err(self.at(key), "is required"))
    }

    /// An optional string that must not be empty when given (names, keys, ARNs).
    pub fn name_opt(&self, key: &str) -> Result<Option<&'a str>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
            Some(_) => Err(err(self.at(key), "must be a non-empty string")),
        }
    }

    pub fn name(&self, key: &str) -> Result<&'a str> {
        self.name_opt(key)?
            .ok_or_else(|| err(self.at(key), "is required"))
    }

    pub fn boolean(&self, key: &str) -> Result<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(err(self.at(key), "must be true or false")),
        }
    }

    /// An integer in `min..=max` (no upper bound when `max` is `None`). Floats and strings
    /// are rejected.
    pub fn integer(&self, key: &str, min: u64, max: Option<u64>) -> Result<Option<u64>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => integer_in(v, &self.at(key), min, max).map(Some),
        }
    }

    pub fn required_integer(&self, key: &str, min: u64, max: Option<u64>) -> Result<u64> {
        self.integer(key, min, max)?
            .ok_or_else(|| err(self.at(key), "is required"))
    }

    /// A number (integer or float) of at least `min`.
    pub fn number(&self, key: &str, min: f64) -> Result<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.as_f64() {
                Some(n) if n >= min => Ok(Some(n)),
                _ => Err(err(
                    self.at(key),
                    format!("must be a number of at least {min}, got {}", show(v)),
                )),
            },
        }
    }

    pub fn list(&self, key: &str) -> Result<Option<&'a [Value]>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(list)) => Ok(Some(list)),
            Some(_) => Err(err(self.at(key), "must be a list")),
        }
    }

    /// A required list with at least one element.
    pub fn non_empty_list(&self, key: &str) -> Result<&'a [Value]> {
        match self.list(key)? {
            None => Err(err(self.at(key), "is required")),
            Some([]) => Err(err(self.at(key), "must not be empty")),
            Some(list) => Ok(list),
        }
    }

    pub fn object(&self, key: &str) -> Result<Option<Obj<'a>>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => Obj::new(v, self.at(key)).map(Some),
        }
    }

    pub fn required_object(&self, key: &str) -> Result<Obj<'a>> {
        Obj::new(self.required(key)?, self.at(key))
    }
}

pub(super) fn integer_in(value: &Value, path: &str, min: u64, max: Option<u64>) -> Result<u64> {
    match value.as_u64() {
        Some(n) if n >= min && max.is_none_or(|max| n <= max) => Ok(n),
        _ => {
            let expected = match (min, max) {
                (_, Some(max)) => format!("an integer between {min} and {max}"),
                (0, None) => "a non-negative integer".to_string(),
                (1, None) => "a positive integer".to_string(),
                (_, None) => format!("an integer of at least {min}"),
            };
            Err(err(
                path,
                format!("must be {expected}, got {}", show(value)),
            ))
        }
    }
}

/// Error names of a retry/catch policy: a non-empty list of non-empty strings.
pub(super) fn error_names(obj: &Obj, key: &str) -> Result<Vec<String>> {
    let path = obj.at(key);
    obj.non_empty_list(key)?
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::String(s) if !s.is_empty() => Ok(s.clone()),
            _ => Err(err(item(&path, i), "must be a non-empty string")),
        })
        .collect()
}

/// The names of one step/state list, for resolving `goto` / `Next` / `StartAt`.
pub(super) struct Siblings<'a> {
    names: HashMap<&'a str, usize>,
    /// FDL says "sibling step", the state machine "state in this list".
    state_machine: bool,
}

impl<'a> Siblings<'a> {
    /// Collects leniently (elements without a usable name are skipped) so that problems are
    /// still reported in document order when the elements are validated one by one.
    pub fn collect(list: &'a [Value], name_key: &str, state_machine: bool) -> Self {
        let mut names = HashMap::new();
        for (i, v) in list.iter().enumerate() {
            if let Some(Value::String(name)) = v.get(name_key) {
                names.entry(name.as_str()).or_insert(i);
            }
        }
        Siblings {
            names,
            state_machine,
        }
    }

    pub fn resolve(&self, target: &str, path: &str) -> Result<usize> {
        self.names.get(target).copied().ok_or_else(|| {
            let reason = if self.state_machine {
                format!("names no state '{target}' of this States list")
            } else {
                format!("names no sibling step '{target}'")
            };
            err(path, reason)
        })
    }

    /// Index of the first element with this name, for duplicate detection.
    pub fn first(&self, name: &str) -> Option<usize> {
        self.names.get(name).copied()
    }
}

// -----------------------------------------------------------------------------------------
// Expressions
// -----------------------------------------------------------------------------------------

/// FDL mapping sources (docs/COMPATIBILITY.md#fdl-data-flow).
pub(super) const FDL_MAPPING_ROOTS: &[Root] = &[Root::FdlInput, Root::FdlLocal, Root::FdlContext];
/// FDL conditions, collection, wait and serviceParams (docs/COMPATIBILITY.md#expressions).
pub(super) const FDL_DOLLAR_ROOTS: &[Root] = &[Root::Dollar];
/// State machine everywhere except output/global constructors (docs/COMPATIBILITY.md#state-machine-data-flow).
pub(super) const SM_INPUT_ROOTS: &[Root] = &[Root::Input, Root::Context, Root::Global];
/// A distributed Map's `ItemConstructor` (docs/COMPATIBILITY.md#distributed-map): `$Item` is the original item.
pub(super) const SM_ITEM_ROOTS: &[Root] = &[Root::Input, Root::Context, Root::Global, Root::Item];
/// State machine output and global constructors, Catch `OutputConstructor`.
pub(super) const SM_OUTPUT_ROOTS: &[Root] =
    &[Root::Input, Root::Output, Root::Context, Root::Global];

fn root_name(root: Root) -> &'static str {
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

/// Parses an expression and rejects roots not allowed at this place.
pub(super) fn expression(src: &str, path: &str, roots: &[Root]) -> Result<Expr> {
    let expr =
        Expr::parse(src).map_err(|e| err(path, format!("is not a valid expression: {e}")))?;
    if let Some(root) = expr.roots().into_iter().find(|r| !roots.contains(r)) {
        return Err(err(path, format!("may not use {} here", root_name(root))));
    }
    Ok(expr)
}

/// Like `expression`, but only a bare path (root + accessors) is accepted.
pub(super) fn path_expression(src: &str, path: &str, roots: &[Root]) -> Result<Expr> {
    let expr = expression(src, path, roots)?;
    if !expr.is_path() {
        return Err(err(path, "must be a path, not a computed expression"));
    }
    Ok(expr)
}

// -----------------------------------------------------------------------------------------
// FDL mappings (docs/COMPATIBILITY.md#fdl-data-flow)
// -----------------------------------------------------------------------------------------

/// Whether an FDL mapping `source` string is a path rather than a constant.
fn is_mapping_path(source: &str) -> bool {
    ["$input", "$local", "$context"]
        .iter()
        .any(|root| source.starts_with(root))
}

pub(super) fn mappings(obj: &Obj, key: &str) -> Result<Option<Mappings>> {
    let Some(list) = obj.list(key)? else {
        return Ok(None);
    };
    let path = obj.at(key);
    let mut out = Vec::with_capacity(list.len());
    for (i, entry) in list.iter().enumerate() {
        let entry = Obj::new(entry, item(&path, i))?;
        let target = entry.name("target")?;
        // `source: null` is present: the constant null (docs/COMPATIBILITY.md#validation).
        let Some(source) = entry.map.get("source") else {
            return Err(err(entry.at("source"), "is required"));
        };
        let source = match source {
            Value::String(s) if is_mapping_path(s) => {
                Source::Expr(path_expression(s, &entry.at("source"), FDL_MAPPING_ROOTS)?)
            }
            // Constants are copied as written, never searched for paths (docs/COMPATIBILITY.md#fdl-data-flow).
            other => Source::Const(other.clone()),
        };
        out.push(Mapping {
            target: target.to_string(),
            source,
        });
    }
    Ok(Some(Mappings(out)))
}

// -----------------------------------------------------------------------------------------
// State-machine constructors (docs/COMPATIBILITY.md#state-machine-data-flow)
// -----------------------------------------------------------------------------------------

/// An optional constructor field; it must be a mapping when present.
pub(super) fn constructor(obj: &Obj, key: &str, roots: &[Root]) -> Result<Option<Template>> {
    match obj.object(key)? {
        None => Ok(None),
        Some(map) => object_template(&map, roots).map(Some),
    }
}

pub(super) fn object_template(obj: &Obj, roots: &[Root]) -> Result<Template> {
    let mut fields = Vec::with_capacity(obj.map.len());
    for (key, value) in obj.map {
        let path = obj.at(key);
        let entry = match key.strip_suffix(".$") {
            Some(stripped) => {
                let Value::String(src) = value else {
                    return Err(err(path, "must be a string expression"));
                };
                (
                    stripped.to_string(),
                    Template::Expr(expression(src, &path, roots)?),
                )
            }
            None => (key.clone(), template(value, &path, roots)?),
        };
        fields.push(entry);
    }
    Ok(Template::Object(fields))
}

/// Recursion is bounded by the YAML loader's nesting limit.
fn template(value: &Value, path: &str, roots: &[Root]) -> Result<Template> {
    match value {
        Value::Object(map) => object_template(
            &Obj {
                map,
                path: path.to_string(),
            },
            roots,
        ),
        Value::Array(list) => list
            .iter()
            .enumerate()
            .map(|(i, v)| template(v, &item(path, i), roots))
            .collect::<Result<Vec<_>>>()
            .map(Template::Array),
        other => Ok(Template::Literal(other.clone())),
    }
}
