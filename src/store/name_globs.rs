//! Flow-name patterns of a key's policy (`orders-*`, `job-??`) as SQL conditions, so a
//! listing is filtered where it is read: a page never has to skip names the caller may not
//! see, and its `NextToken` is always a name the caller may see. Each pattern's literal
//! prefix also becomes a name range, which the name index serves directly.
//!
//! The patterns are the credentials file's globs: `*` matches any run of characters, `?` one
//! character, everything else itself, case-sensitively.

use sqlx::{Database, Encode, QueryBuilder, Type};

/// How a backend matches a glob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobSyntax {
    /// `LIKE … ESCAPE '\'` (case-sensitive in Postgres).
    Like,
    /// SQLite's `GLOB` (case-sensitive; its `LIKE` is not).
    Glob,
}

/// Above every character a name can continue a prefix with, in byte order.
const PAST_ANY_CHARACTER: char = char::MAX;

/// Appends ` AND (…)`: `column` matches one of `patterns` (none: nothing matches).
pub fn push_name_filter<DB>(
    builder: &mut QueryBuilder<DB>,
    column: &str,
    patterns: &[String],
    syntax: GlobSyntax,
) where
    DB: Database,
    String: for<'t> Encode<'t, DB> + Type<DB>,
{
    builder.push(" AND (");
    if patterns.is_empty() {
        builder.push("1 = 0");
    }
    for (index, pattern) in patterns.iter().enumerate() {
        if index > 0 {
            builder.push(" OR ");
        }
        let prefix: String = pattern.chars().take_while(|c| !is_wildcard(*c)).collect();
        if prefix.len() == pattern.len() {
            builder.push(format!("{column} = ")).push_bind(prefix);
            continue;
        }
        builder.push("(");
        let only_a_trailing_star = pattern[prefix.len()..] == *"*";
        if !prefix.is_empty() {
            let past_prefix = format!("{prefix}{PAST_ANY_CHARACTER}");
            builder
                .push(format!("{column} >= "))
                .push_bind(prefix.clone())
                .push(format!(" AND {column} < "))
                .push_bind(past_prefix);
            if only_a_trailing_star {
                builder.push(")");
                continue;
            }
            builder.push(" AND ");
        }
        match syntax {
            GlobSyntax::Like => builder
                .push(format!("{column} LIKE "))
                .push_bind(like_pattern(pattern))
                .push(" ESCAPE '\\'"),
            GlobSyntax::Glob => builder
                .push(format!("{column} GLOB "))
                .push_bind(glob_pattern(pattern)),
        };
        builder.push(")");
    }
    builder.push(")");
}

fn is_wildcard(c: char) -> bool {
    c == '*' || c == '?'
}

/// `*` → `%`, `?` → `_`; the characters `LIKE` gives a meaning (`%`, `_`, `\`) escaped.
fn like_pattern(glob: &str) -> String {
    let mut like = String::with_capacity(glob.len() + 4);
    for c in glob.chars() {
        match c {
            '*' => like.push('%'),
            '?' => like.push('_'),
            '%' | '_' | '\\' => {
                like.push('\\');
                like.push(c);
            }
            other => like.push(other),
        }
    }
    like
}

/// `*` and `?` mean the same in `GLOB`; only its character classes need a literal `[`.
fn glob_pattern(glob: &str) -> String {
    glob.replace('[', "[[]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_what_like_means() {
        assert_eq!(like_pattern("orders-*"), "orders-%");
        assert_eq!(like_pattern("job_??"), "job\\___");
        assert_eq!(like_pattern("100%\\*"), "100\\%\\\\%");
    }

    #[test]
    fn glob_patterns_escape_brackets() {
        assert_eq!(glob_pattern("a[1]*?"), "a[[]1]*?");
    }

    #[test]
    fn conditions_use_the_literal_prefix_as_a_range() {
        let patterns = ["orders-*", "job-??", "exact", "*-eu"].map(String::from);
        let mut builder = QueryBuilder::<sqlx::Postgres>::new("SELECT name FROM flows WHERE true");
        push_name_filter(&mut builder, "name", &patterns, GlobSyntax::Like);
        assert_eq!(
            builder.sql().as_str(),
            "SELECT name FROM flows WHERE true AND ((name >= $1 AND name < $2) OR \
             (name >= $3 AND name < $4 AND name LIKE $5 ESCAPE '\\') OR name = $6 OR \
             (name LIKE $7 ESCAPE '\\'))"
        );
        let mut builder = QueryBuilder::<sqlx::Sqlite>::new("SELECT name FROM flows WHERE true");
        push_name_filter(&mut builder, "name", &[], GlobSyntax::Glob);
        assert_eq!(
            builder.sql().as_str(),
            "SELECT name FROM flows WHERE true AND (1 = 0)"
        );
    }
}
