//! Where in a YAML definition a CreateFlow/UpdateFlow error points: the error names a path
//! (`States[2].Next`, `steps[0].goto`) or a parser position (`at line 4 column 3`); the
//! editor shows the message next to that line.

/// The 1-based line an error message points to, if it can be found in `definition`.
pub fn error_line(definition: &str, message: &str) -> Option<usize> {
    if let Some(line) = parser_line(message) {
        return Some(line);
    }
    let path = message
        .split("Definition ")
        .nth(1)?
        .split(':')
        .next()?
        .trim();
    path_line(definition, path)
}

/// `… at line 4 column 3 …`
fn parser_line(message: &str) -> Option<usize> {
    let rest = &message[message.find("line ")? + 5..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|line| *line > 0)
}

/// One step of a path: a mapping key or a sequence index.
#[derive(Debug, PartialEq)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

fn segments(path: &str) -> Option<Vec<Segment<'_>>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|part| !part.is_empty()) {
        let (key, mut indexes) = match part.find('[') {
            Some(at) => (&part[..at], &part[at..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Segment::Key(key));
        }
        while let Some(rest) = indexes.strip_prefix('[') {
            let end = rest.find(']')?;
            out.push(Segment::Index(rest[..end].parse().ok()?));
            indexes = &rest[end + 1..];
        }
    }
    Some(out)
}

/// Follows a path through block-style YAML by indentation: the deepest line reached is the
/// answer (a path into a flow-style or JSON document stops at its first line).
fn path_line(definition: &str, path: &str) -> Option<usize> {
    let lines: Vec<(usize, &str)> = definition
        .lines()
        .map(|line| {
            let content = line.trim_start();
            (line.len() - content.len(), content)
        })
        .collect();
    let meaningful = |at: usize| !lines[at].1.is_empty() && !lines[at].1.starts_with('#');
    // The block being searched: lines [start, end), where keys sit at column `column`
    // (the column of the block's first key, `- ` items counted as indentation).
    let (mut start, mut end) = (0usize, lines.len());
    let mut found = None;
    for segment in segments(path)? {
        let first = (start..end).find(|&at| meaningful(at))?;
        let column = key_column(lines[first]);
        let hit = match segment {
            Segment::Key(key) => (first..end).find(|&at| {
                meaningful(at)
                    && key_column(lines[at]) == column
                    && strip_dash(lines[at].1).starts_with(&format!("{key}:"))
            }),
            Segment::Index(index) => (first..end)
                .filter(|&at| {
                    meaningful(at) && lines[at].0 == lines[first].0 && is_item(lines[at].1)
                })
                .nth(index),
        };
        let Some(at) = hit else {
            return found;
        };
        found = Some(at + 1);
        // The hit's block: up to the next line at or left of its own column.
        let own = match segment {
            Segment::Key(_) => key_column(lines[at]),
            Segment::Index(_) => lines[at].0,
        };
        // (YAML lets a key's sequence items sit at the key's own column.)
        let is_key = matches!(segment, Segment::Key(_));
        let block_end = (at + 1..end)
            .find(|&next| {
                meaningful(next)
                    && (lines[next].0 < own
                        || (lines[next].0 == own && !(is_key && is_item(lines[next].1))))
            })
            .unwrap_or(end);
        (start, end) = match segment {
            // An item's first key is on the item's own line, after `- `.
            Segment::Index(_) => (at, block_end),
            Segment::Key(_) => (at + 1, block_end),
        };
    }
    found
}

fn is_item(content: &str) -> bool {
    content == "-" || content.starts_with("- ")
}

fn strip_dash(content: &str) -> &str {
    let mut rest = content;
    while let Some(stripped) = rest.strip_prefix("- ") {
        rest = stripped.trim_start();
    }
    rest
}

/// The column of a line's key, past any `- ` item markers.
fn key_column((indent, content): (usize, &str)) -> usize {
    indent + content.len() - strip_dash(content).len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATE_MACHINE: &str = "\
Type: StateMachine
Name: demo
SpecVersion: v1
StartAt: First
States:
  - Type: Pass
    Name: First
    Next: Second
  - Type: Pass
    Name: Second
    Next: Nowhere
";

    #[test]
    fn paths_find_their_line() {
        assert_eq!(path_line(STATE_MACHINE, "States[1].Next"), Some(11));
        assert_eq!(path_line(STATE_MACHINE, "States[0].Type"), Some(6));
        assert_eq!(path_line(STATE_MACHINE, "States[1]"), Some(9));
        assert_eq!(path_line(STATE_MACHINE, "StartAt"), Some(4));
        assert_eq!(
            path_line(STATE_MACHINE, "States[5].Next"),
            Some(5),
            "as deep as it exists"
        );
    }

    #[test]
    fn messages_name_their_line() {
        let message = "Parameter error: Definition States[1].Next: names no state 'Nowhere'";
        assert_eq!(error_line(STATE_MACHINE, message), Some(11));
        let parser =
            "Parameter error: Definition is invalid: did not find expected key at line 7 column 5";
        assert_eq!(error_line(STATE_MACHINE, parser), Some(7));
        assert_eq!(
            error_line("{}", "Parameter error: Definition is invalid: x"),
            None
        );
    }

    #[test]
    fn fdl_steps_nest() {
        let fdl = "version: v1\ntype: flow\nsteps:\n  - type: pass\n    name: a\n  - type: choice\n    name: b\n    choices:\n      - condition: $.x\n        goto: nowhere\n";
        assert_eq!(path_line(fdl, "steps[1].choices[0].goto"), Some(10));
        let flush = "steps:\n- type: pass\n  name: a\n- type: pass\n  name: b\n";
        assert_eq!(path_line(flush, "steps[1].name"), Some(5));
    }
}
