//! Loading a definition's YAML within fixed budgets.
//!
//! libyaml (under serde_yaml_ng) spends time proportional to the flow-collection depth on
//! every token, so `[[[[…` is quadratic, and serde_yaml_ng checks its own nesting limit only
//! after the whole document has been parsed. Aliases are expanded by copying the anchored
//! node, so a few kilobytes of text can stand for gigabytes of values. Before serde_yaml_ng
//! sees a definition, one pass of the same event parser stops at the first collection nested
//! deeper than [`MAX_DEPTH`] and counts what the aliases would copy against
//! [`MAX_ALIAS_EXPANSION`]; its cost is linear in the text.

use std::collections::HashMap;

use serde_json::Value;

use super::DefinitionError;
use super::common::err;

/// Collections nested deeper than this are refused (serde_yaml_ng's own limit).
pub const MAX_DEPTH: usize = 128;
/// What all the aliases of a definition may copy, in bytes of scalar text (plus one per node).
pub const MAX_ALIAS_EXPANSION: u64 = 1024 * 1024;

/// Parses a definition's text into JSON values, refusing it when it is nested too deeply or
/// its aliases expand too much.
pub fn load(text: &str) -> Result<Value, DefinitionError> {
    check_budgets(text)?;
    serde_yaml_ng::from_str(text).map_err(|e| err("", e.to_string()))
}

/// One open collection: its anchor, and the size of what it holds so far.
struct Open {
    anchor: Option<Vec<u8>>,
    size: u64,
}

/// Walks the events once. A syntax error ends the walk quietly: serde_yaml_ng then reports
/// it, having done no more work than the walk did.
fn check_budgets(text: &str) -> Result<(), DefinitionError> {
    let mut events = Events::new(text);
    let mut open: Vec<Open> = Vec::new();
    // Anchors are named per document; a later anchor of the same name replaces the earlier.
    let mut anchors: HashMap<Vec<u8>, u64> = HashMap::new();
    let mut expanded: u64 = 0;
    while let Some(Event { kind, line, column }) = events.next() {
        let at = |reason: String| {
            err(
                "",
                format!("{reason} (line {} column {})", line + 1, column + 1),
            )
        };
        let (size, anchor) = match kind {
            Kind::DocumentStart => {
                anchors.clear();
                continue;
            }
            Kind::Other => continue,
            Kind::Start { anchor } => {
                if open.len() >= MAX_DEPTH {
                    return Err(at(format!("is nested more than {MAX_DEPTH} levels deep")));
                }
                open.push(Open { anchor, size: 1 });
                continue;
            }
            Kind::End => match open.pop() {
                Some(closed) => (closed.size, closed.anchor),
                None => continue,
            },
            Kind::Scalar { anchor, length } => (length.saturating_add(1), anchor),
            Kind::Alias { anchor } => {
                if open.iter().any(|o| o.anchor.as_ref() == Some(&anchor)) {
                    return Err(at("has an alias to a node that contains it".into()));
                }
                // An unknown anchor is serde_yaml_ng's error to report.
                let Some(&size) = anchors.get(&anchor) else {
                    continue;
                };
                expanded = expanded.saturating_add(size);
                if expanded > MAX_ALIAS_EXPANSION {
                    return Err(at(format!(
                        "has aliases that expand to more than {MAX_ALIAS_EXPANSION} bytes"
                    )));
                }
                (size, None)
            }
        };
        if let Some(name) = anchor {
            anchors.insert(name, size);
        }
        if let Some(parent) = open.last_mut() {
            parent.size = parent.size.saturating_add(size);
        }
    }
    Ok(())
}

/// What the walk needs of one libyaml event.
struct Event {
    kind: Kind,
    line: u64,
    column: u64,
}

enum Kind {
    DocumentStart,
    Start {
        anchor: Option<Vec<u8>>,
    },
    End,
    Scalar {
        anchor: Option<Vec<u8>>,
        length: u64,
    },
    Alias {
        anchor: Vec<u8>,
    },
    Other,
}

/// libyaml's event parser over a borrowed text (the same calls serde_yaml_ng makes).
struct Events<'a> {
    /// Boxed: libyaml keeps using the address it was initialized at. `None` when libyaml
    /// could not allocate its buffers (serde_yaml_ng then fails the same way).
    parser: Option<Box<unsafe_libyaml::yaml_parser_t>>,
    _text: &'a str,
}

impl<'a> Events<'a> {
    fn new(text: &'a str) -> Self {
        let mut parser = Box::<unsafe_libyaml::yaml_parser_t>::new_uninit();
        // SAFETY: `yaml_parser_initialize` fills the whole struct (and says whether it could
        // allocate); the input pointer stays valid for `'a`, which `Events` borrows.
        let parser = unsafe {
            if unsafe_libyaml::yaml_parser_initialize(parser.as_mut_ptr()).fail {
                None
            } else {
                let mut parser = parser.assume_init();
                unsafe_libyaml::yaml_parser_set_encoding(
                    &mut *parser,
                    unsafe_libyaml::YAML_UTF8_ENCODING,
                );
                unsafe_libyaml::yaml_parser_set_input_string(
                    &mut *parser,
                    text.as_ptr(),
                    text.len() as u64,
                );
                Some(parser)
            }
        };
        Events {
            parser,
            _text: text,
        }
    }

    /// The next event; `None` after the end of the stream or a syntax error.
    fn next(&mut self) -> Option<Event> {
        let parser = self.parser.as_deref_mut()?;
        let mut raw = std::mem::MaybeUninit::<unsafe_libyaml::yaml_event_t>::uninit();
        // SAFETY: the parser is initialized; a successful `yaml_parser_parse` fills the
        // event, whose strings (anchor names) are copied before `yaml_event_delete` frees
        // them. After a failure libyaml leaves no event to free.
        unsafe {
            if parser.error != unsafe_libyaml::YAML_NO_ERROR
                || unsafe_libyaml::yaml_parser_parse(parser, raw.as_mut_ptr()).fail
            {
                return None;
            }
            let raw = raw.assume_init_mut();
            let anchor = |pointer: *const u8| {
                (!pointer.is_null())
                    .then(|| std::ffi::CStr::from_ptr(pointer.cast()).to_bytes().to_vec())
            };
            let kind = match raw.type_ {
                unsafe_libyaml::YAML_STREAM_END_EVENT => None,
                unsafe_libyaml::YAML_DOCUMENT_START_EVENT => Some(Kind::DocumentStart),
                unsafe_libyaml::YAML_SEQUENCE_START_EVENT => Some(Kind::Start {
                    anchor: anchor(raw.data.sequence_start.anchor),
                }),
                unsafe_libyaml::YAML_MAPPING_START_EVENT => Some(Kind::Start {
                    anchor: anchor(raw.data.mapping_start.anchor),
                }),
                unsafe_libyaml::YAML_SEQUENCE_END_EVENT
                | unsafe_libyaml::YAML_MAPPING_END_EVENT => Some(Kind::End),
                unsafe_libyaml::YAML_SCALAR_EVENT => Some(Kind::Scalar {
                    anchor: anchor(raw.data.scalar.anchor),
                    length: raw.data.scalar.length,
                }),
                unsafe_libyaml::YAML_ALIAS_EVENT => Some(match anchor(raw.data.alias.anchor) {
                    Some(anchor) => Kind::Alias { anchor },
                    None => Kind::Other,
                }),
                _ => Some(Kind::Other),
            };
            let (line, column) = (raw.start_mark.line, raw.start_mark.column);
            unsafe_libyaml::yaml_event_delete(raw);
            kind.map(|kind| Event { kind, line, column })
        }
    }
}

impl Drop for Events<'_> {
    fn drop(&mut self) {
        if let Some(parser) = self.parser.as_deref_mut() {
            // SAFETY: initialized in `new`, freed only here.
            unsafe { unsafe_libyaml::yaml_parser_delete(parser) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(text: &str) -> String {
        load(text).unwrap_err().reason
    }

    #[test]
    fn ordinary_documents_load_as_before() {
        let text = "a: &x [1, {b: 'c'}]\nd: *x\ne: |\n  text\n";
        assert_eq!(
            load(text).unwrap(),
            serde_yaml_ng::from_str::<Value>(text).unwrap()
        );
        assert_eq!(load("").unwrap(), Value::Null);
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_refused_at_its_first_level() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(load(&deep).is_ok());
        let too_deep = format!("{}{}", "[".repeat(300_000), "]".repeat(300_000));
        assert_eq!(
            reason(&too_deep),
            format!("is nested more than {MAX_DEPTH} levels deep (line 1 column 129)")
        );
        // Block collections count the same way.
        let mut block = String::new();
        for level in 0..=MAX_DEPTH {
            block.push_str(&format!("{}k:\n", " ".repeat(level)));
        }
        block.push_str(&format!("{}v", " ".repeat(MAX_DEPTH + 1)));
        assert!(reason(&block).starts_with("is nested more than 128 levels deep"));
    }

    #[test]
    fn aliases_expanding_past_the_budget_are_refused() {
        let big = "x".repeat(200 * 1024);
        let uses = vec!["*a"; 4000].join(", ");
        let bomb = format!("a: &a '{big}'\nb: [{uses}]\n");
        assert!(reason(&bomb).starts_with(&format!(
            "has aliases that expand to more than {MAX_ALIAS_EXPANSION} bytes"
        )));
        // Nested doubling ("billion laughs"): each level counts what it copies.
        let mut laughs = String::from("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for level in 1..20 {
            let previous = level - 1;
            laughs.push_str(&format!(
                "l{level}: &l{level} [*l{previous}, *l{previous}, *l{previous}, *l{previous}]\n"
            ));
        }
        assert!(reason(&laughs).starts_with("has aliases that expand"));
        // A few aliases of a small anchor are fine.
        let retry = "r: &r {Errors: [FnF.ALL], MaxAttempts: 3}\ns: [*r, *r, *r]\n";
        assert_eq!(load(retry).unwrap()["s"][2]["MaxAttempts"], 3);
    }

    #[test]
    fn an_alias_inside_its_own_anchor_is_refused() {
        assert!(reason("a: &a [1, *a]").starts_with("has an alias to a node that contains it"));
    }

    #[test]
    fn syntax_errors_are_reported_by_the_loader() {
        let error = load("a: [1, 2").unwrap_err();
        assert!(error.reason.contains("did not find expected"), "{error}");
        let unknown = load("a: *nowhere").unwrap_err();
        assert!(unknown.reason.contains("unknown anchor"), "{unknown}");
    }
}
