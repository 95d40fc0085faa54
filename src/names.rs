//! Name rules (docs/COMPATIBILITY.md#names).

/// Flow, execution, schedule and alias names chosen at creation:
/// `^[A-Za-z_][A-Za-z0-9_-]{0,127}$`. The error says why, for `InvalidArgument`.
pub fn check_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "'{}' must match ^[A-Za-z_][A-Za-z0-9_-]{{0,127}}$",
            shorten(name)
        ))
    }
}

/// Names used to look something up need only be non-empty and at most 256 characters:
/// generated names do not follow the creation rule (docs/COMPATIBILITY.md#names).
pub fn check_lookup_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().count() > 256 {
        Err("must be between 1 and 256 characters long".to_string())
    } else {
        Ok(())
    }
}

/// A client value quoted in a message, cut so messages stay short.
pub fn shorten(value: &str) -> String {
    const MAX: usize = 64;
    if value.chars().count() <= MAX {
        value.to_string()
    } else {
        let cut: String = value.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creation_rule() {
        for good in ["a", "_", "my_flow-1", &"a".repeat(128)] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "1abc", "-a", "a b", "é", &"a".repeat(129), "a:b"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert_eq!(
            check_name("bad name").unwrap_err(),
            "'bad name' must match ^[A-Za-z_][A-Za-z0-9_-]{0,127}$"
        );
    }

    #[test]
    fn lookup_rule() {
        assert!(check_lookup_name("name:5d0c1b9e-0000").is_ok());
        assert!(check_lookup_name("").is_err());
        assert!(check_lookup_name(&"x".repeat(257)).is_err());
    }
}
