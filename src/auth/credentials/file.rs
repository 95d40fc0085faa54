//! Reading the credentials file: TOML or YAML documents, validated into key entries.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use serde::Deserialize;

use super::{ActionPattern, CredentialsError, KeyEntry, KeyPolicy, KeySource, Secret};

/// A parsed and validated credentials file.
///
/// TOML (`.toml`) or YAML (`.yaml`, `.yml`); any other name is tried as TOML, then as YAML.
/// Unknown fields are errors, so a misspelt `action` cannot silently grant everything.
///
/// ```toml
/// [[accounts]]
/// id = "1234567890123456"        # a string; a bare integer is accepted too
///
/// [[accounts.keys]]
/// id = "orders-ci"
/// secret = "change-me"
/// actions = ["fnf:StartExecution", "fnf:Describe*", "fnf:GetExecutionHistory"]
/// flows = ["orders-*", "billing-v?"]
///
/// [[accounts.keys]]
/// id = "orders-admin"
/// secret = "change-me-too"       # no `actions` / `flows`: everything is allowed
///
/// [[accounts]]
/// id = "9999"
///
/// [[accounts.keys]]
/// id = "readonly"
/// secret = "s3cr3t"
/// actions = ["fnf:Describe*", "fnf:List*", "fnf:GetExecutionHistory"]
/// ```
///
/// The same in YAML:
///
/// ```yaml
/// accounts:
///   - id: "1234567890123456"
///     keys:
///       - id: orders-ci
///         secret: change-me
///         actions: ["fnf:StartExecution", "fnf:Describe*", "fnf:GetExecutionHistory"]
///         flows: ["orders-*", "billing-v?"]
///       - id: orders-admin
///         secret: change-me-too
///   - id: "9999"
///     keys:
///       - id: readonly
///         secret: s3cr3t
///         actions: ["fnf:Describe*", "fnf:List*", "fnf:GetExecutionHistory"]
/// ```
///
/// Rules:
/// * `actions`: each entry is `*` (everything) or `<service>:<action>`; the service part is
///   matched case-insensitively against `fnf`, the action part case-sensitively (action names
///   are, docs/COMPATIBILITY.md#action-and-version). Both parts are globs: `*` matches any run of characters, `?` one.
/// * `flows`: globs over flow names, case-sensitive (flow names are, docs/COMPATIBILITY.md#names).
/// * An absent list allows everything; an empty list (`actions = []`) allows nothing.
/// * Key ids are unique across the file and the environment key; account ids are unique.
/// * The file must declare at least one key.
#[derive(Debug, Clone)]
pub struct CredentialsFile {
    pub(super) keys: Vec<KeyEntry>,
}

/// Which parser a file name asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileFormat {
    Toml,
    Yaml,
    Unknown,
}

impl FileFormat {
    fn of(path: &Path) -> Self {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("toml") => FileFormat::Toml,
            Some("yaml" | "yml") => FileFormat::Yaml,
            _ => FileFormat::Unknown,
        }
    }
}

impl CredentialsFile {
    pub fn read(path: &Path) -> Result<CredentialsFile, CredentialsError> {
        let text = std::fs::read_to_string(path).map_err(|source| CredentialsError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        CredentialsFile::parse(path, &text)
    }

    /// Parses `text`; `path` picks the format (by extension) and appears in errors.
    pub fn parse(path: &Path, text: &str) -> Result<CredentialsFile, CredentialsError> {
        let syntax = |format: &'static str, message: String| CredentialsError::Syntax {
            path: path.to_path_buf(),
            format,
            message,
        };
        let document = match FileFormat::of(path) {
            FileFormat::Toml => parse_toml(text).map_err(|m| syntax("TOML", m))?,
            FileFormat::Yaml => parse_yaml(text).map_err(|m| syntax("YAML", m))?,
            FileFormat::Unknown => match parse_toml(text) {
                Ok(document) => document,
                Err(toml) => parse_yaml(text).map_err(|yaml| CredentialsError::UnknownFormat {
                    path: path.to_path_buf(),
                    toml,
                    yaml,
                })?,
            },
        };
        validate(path, document).map_err(|problem| match problem {
            Problem::Invalid(problem) => CredentialsError::Invalid {
                path: path.to_path_buf(),
                problem,
            },
            Problem::DuplicateKey { id, first, second } => {
                CredentialsError::DuplicateKey { id, first, second }
            }
        })
    }
}

/// TOML's own `Display` quotes the offending source line, which may hold a secret; report
/// only the message and the position.
fn parse_toml(text: &str) -> Result<FileDocument, String> {
    toml::from_str(text).map_err(|error| match error.span() {
        Some(span) => {
            let (line, column) = line_and_column(text, span.start);
            format!(
                "{} at line {line} column {column}",
                error.message().trim_end()
            )
        }
        None => error.message().trim_end().to_string(),
    })
}

/// serde_yaml_ng's messages carry a position and the field path, not source text.
fn parse_yaml(text: &str) -> Result<FileDocument, String> {
    serde_yaml_ng::from_str(text).map_err(|error| error.to_string())
}

/// 1-based line and column (in characters) of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |tail| tail.chars().count())
        + 1;
    (line, column)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDocument {
    #[serde(default)]
    accounts: Vec<AccountDocument>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountDocument {
    id: AccountIdDocument,
    #[serde(default)]
    keys: Vec<KeyDocument>,
}

/// Account ids are numeric in the cloud, so `id = 1234` is accepted as well as `"1234"`.
#[derive(Debug)]
struct AccountIdDocument(String);

impl<'de> Deserialize<'de> for AccountIdDocument {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AccountIdVisitor)
    }
}

struct AccountIdVisitor;

impl serde::de::Visitor<'_> for AccountIdVisitor {
    type Value = AccountIdDocument;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a non-negative integer")
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(AccountIdDocument(value.to_string()))
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(AccountIdDocument(value.to_string()))
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Self::Value, E> {
        u64::try_from(value)
            .map(|value| AccountIdDocument(value.to_string()))
            .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(value), &self))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyDocument {
    id: String,
    secret: Secret,
    actions: Option<Vec<String>>,
    flows: Option<Vec<String>>,
}

enum Problem {
    Invalid(String),
    DuplicateKey {
        id: String,
        first: String,
        second: String,
    },
}

fn validate(path: &Path, document: FileDocument) -> Result<CredentialsFile, Problem> {
    let mut keys: Vec<KeyEntry> = Vec::new();
    let mut account_places: HashMap<String, String> = HashMap::new();
    let mut key_places: HashMap<String, KeySource> = HashMap::new();

    for (account_index, account) in document.accounts.into_iter().enumerate() {
        let account_place = format!("accounts[{account_index}]");
        let account_id = account.id.0;
        if account_id.trim().is_empty() {
            return Err(Problem::Invalid(format!(
                "{account_place}.id must not be empty"
            )));
        }
        if let Some(first) = account_places.insert(account_id.clone(), account_place.clone()) {
            return Err(Problem::Invalid(format!(
                "account id '{account_id}' is declared twice: {first} and {account_place}"
            )));
        }

        for (key_index, key) in account.keys.into_iter().enumerate() {
            let place = format!("{account_place}.keys[{key_index}]");
            if key.id.trim().is_empty() {
                return Err(Problem::Invalid(format!("{place}.id must not be empty")));
            }
            if key.secret.expose().is_empty() {
                return Err(Problem::Invalid(format!(
                    "{place}.secret must not be empty"
                )));
            }
            let source = KeySource::File {
                path: path.to_path_buf(),
                location: place.clone(),
            };
            if let Some(first) = key_places.insert(key.id.clone(), source.clone()) {
                return Err(Problem::DuplicateKey {
                    id: key.id,
                    first: first.to_string(),
                    second: source.to_string(),
                });
            }
            let policy = KeyPolicy {
                actions: key
                    .actions
                    .map(|patterns| parse_action_patterns(&place, patterns))
                    .transpose()?,
                flows: key
                    .flows
                    .map(|patterns| check_flow_patterns(&place, patterns))
                    .transpose()?,
            };
            keys.push(KeyEntry {
                access_key_id: key.id,
                account_id: account_id.clone(),
                secret: key.secret,
                policy,
                source,
            });
        }
    }

    if keys.is_empty() {
        return Err(Problem::Invalid("declares no access keys".to_string()));
    }
    Ok(CredentialsFile { keys })
}

fn parse_action_patterns(
    place: &str,
    patterns: Vec<String>,
) -> Result<Vec<ActionPattern>, Problem> {
    patterns
        .iter()
        .enumerate()
        .map(|(index, pattern)| {
            ActionPattern::parse(pattern).ok_or_else(|| {
                Problem::Invalid(format!(
                    "{place}.actions[{index}] '{pattern}' must be '*' or '<service>:<action>', \
                     e.g. 'fnf:Describe*'"
                ))
            })
        })
        .collect()
}

fn check_flow_patterns(place: &str, patterns: Vec<String>) -> Result<Vec<String>, Problem> {
    match patterns.iter().position(String::is_empty) {
        Some(index) => Err(Problem::Invalid(format!(
            "{place}.flows[{index}] must not be empty"
        ))),
        None => Ok(patterns),
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_string(SecretVisitor)
    }
}

/// Accepts only strings. serde's default errors quote the offending value ("invalid type:
/// integer `123`"), which for this field would print the secret; these do not.
struct SecretVisitor;

impl SecretVisitor {
    fn not_a_string<E: serde::de::Error>() -> E {
        E::custom("secret must be a string")
    }
}

impl serde::de::Visitor<'_> for SecretVisitor {
    type Value = Secret;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Secret, E> {
        Ok(Secret::new(value))
    }

    fn visit_string<E: serde::de::Error>(self, value: String) -> Result<Secret, E> {
        Ok(Secret(value))
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Secret, E> {
        Err(Self::not_a_string())
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Secret, E> {
        Err(Self::not_a_string())
    }

    fn visit_i128<E: serde::de::Error>(self, _: i128) -> Result<Secret, E> {
        Err(Self::not_a_string())
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Secret, E> {
        Err(Self::not_a_string())
    }

    fn visit_u128<E: serde::de::Error>(self, _: u128) -> Result<Secret, E> {
        Err(Self::not_a_string())
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Secret, E> {
        Err(Self::not_a_string())
    }

    fn visit_char<E: serde::de::Error>(self, _: char) -> Result<Secret, E> {
        Err(Self::not_a_string())
    }

    fn visit_bytes<E: serde::de::Error>(self, _: &[u8]) -> Result<Secret, E> {
        Err(Self::not_a_string())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Credentials, DEV_ACCESS_KEY_ID, DefaultKey};
    use super::*;

    const TOML_EXAMPLE: &str = r#"
[[accounts]]
id = "1234567890123456"

[[accounts.keys]]
id = "orders-ci"
secret = "change-me"
actions = ["fnf:StartExecution", "fnf:Describe*", "fnf:GetExecutionHistory"]
flows = ["orders-*", "billing-v?"]

[[accounts.keys]]
id = "orders-admin"
secret = "change-me-too"

[[accounts]]
id = 9999

[[accounts.keys]]
id = "readonly"
secret = "s3cr3t"
actions = ["fnf:Describe*", "fnf:List*", "fnf:GetExecutionHistory"]
"#;

    const YAML_EXAMPLE: &str = r#"
accounts:
  - id: "1234567890123456"
    keys:
      - id: orders-ci
        secret: change-me
        actions: ["fnf:StartExecution", "fnf:Describe*", "fnf:GetExecutionHistory"]
        flows: ["orders-*", "billing-v?"]
      - id: orders-admin
        secret: change-me-too
  - id: 9999
    keys:
      - id: readonly
        secret: s3cr3t
        actions: ["fnf:Describe*", "fnf:List*", "fnf:GetExecutionHistory"]
"#;

    fn no_default_key() -> DefaultKey<'static> {
        DefaultKey {
            account_id: "1000",
            access_key_id: None,
            access_key_secret: None,
        }
    }

    fn from_file(name: &str, text: &str) -> Result<Credentials, CredentialsError> {
        let file = CredentialsFile::parse(Path::new(name), text)?;
        Credentials::build(no_default_key(), Some(file))
    }

    fn assert_example(credentials: &Credentials) {
        assert_eq!(credentials.len(), 3);
        assert!(!credentials.is_development_only());
        let ci = credentials.lookup("orders-ci").unwrap();
        assert_eq!(ci.account_id(), "1234567890123456");
        assert_eq!(ci.secret().expose(), "change-me");
        assert!(ci.allows_action("StartExecution"));
        assert!(ci.allows_action("DescribeFlow"));
        assert!(!ci.allows_action("DeleteFlow"));
        assert!(ci.allows_flow("orders-eu"));
        assert!(ci.allows_flow("billing-v2"));
        assert!(!ci.allows_flow("billing-v10"));
        let admin = credentials.lookup("orders-admin").unwrap();
        assert!(admin.allows_action("DeleteFlow") && admin.allows_flow("anything"));
        let readonly = credentials.lookup("readonly").unwrap();
        assert_eq!(readonly.account_id(), "9999");
        assert!(readonly.allows_action("ListExecutions"));
        assert!(!readonly.allows_action("StopExecution"));
        assert!(
            credentials.lookup("ORDERS-CI").is_none(),
            "ids are case-sensitive"
        );
        assert!(credentials.lookup(DEV_ACCESS_KEY_ID).is_none());
    }

    #[test]
    fn parses_the_documented_toml_example() {
        assert_example(&from_file("/etc/fnf/credentials.toml", TOML_EXAMPLE).unwrap());
    }

    #[test]
    fn parses_the_documented_yaml_example() {
        assert_example(&from_file("credentials.yaml", YAML_EXAMPLE).unwrap());
        assert_example(&from_file("credentials.YML", YAML_EXAMPLE).unwrap());
    }

    #[test]
    fn other_extensions_try_toml_then_yaml() {
        assert_example(&from_file("credentials", TOML_EXAMPLE).unwrap());
        assert_example(&from_file("credentials.conf", YAML_EXAMPLE).unwrap());
        let error = from_file("credentials.conf", "[[[not either").unwrap_err();
        assert!(
            matches!(error, CredentialsError::UnknownFormat { .. }),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .starts_with("credentials file credentials.conf is neither")
        );
    }

    #[test]
    fn the_extension_decides_the_parser() {
        let error = from_file("credentials.toml", YAML_EXAMPLE).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("credentials file credentials.toml is not valid TOML:"),
            "{error}"
        );
    }

    #[test]
    fn duplicate_key_ids_are_rejected_with_both_places() {
        let text = r#"
[[accounts]]
id = "1"
[[accounts.keys]]
id = "k"
secret = "a"
[[accounts]]
id = "2"
[[accounts.keys]]
id = "k"
secret = "b"
"#;
        assert_eq!(
            from_file("c.toml", text).unwrap_err().to_string(),
            "access key id 'k' is declared twice: in c.toml accounts[0].keys[0] and in \
             c.toml accounts[1].keys[0]"
        );
    }

    #[test]
    fn invalid_files_name_the_file_and_the_problem() {
        let cases = [
            ("", "credentials file c.toml: declares no access keys"),
            (
                "[[accounts]]\nid = \"\"\n",
                "credentials file c.toml: accounts[0].id must not be empty",
            ),
            (
                "[[accounts]]\nid = \"1\"\n[[accounts]]\nid = 1\n",
                "credentials file c.toml: account id '1' is declared twice: accounts[0] and accounts[1]",
            ),
            (
                "[[accounts]]\nid = -1\n",
                "credentials file c.toml is not valid TOML: invalid value: integer `-1`, expected \
                 a string or a non-negative integer at line 2 column 6",
            ),
            (
                "[[accounts]]\nid = \"1\"\n[[accounts.keys]]\nid = \"k\"\nsecret = \"\"\n",
                "credentials file c.toml: accounts[0].keys[0].secret must not be empty",
            ),
            (
                "[[accounts]]\nid = \"1\"\n[[accounts.keys]]\nid = \" \"\nsecret = \"s\"\n",
                "credentials file c.toml: accounts[0].keys[0].id must not be empty",
            ),
            (
                "[[accounts]]\nid = \"1\"\n[[accounts.keys]]\nid = \"k\"\nsecret = \"s\"\nactions = [\"*\", \"Describe*\"]\n",
                "credentials file c.toml: accounts[0].keys[0].actions[1] 'Describe*' must be \
                 '*' or '<service>:<action>', e.g. 'fnf:Describe*'",
            ),
            (
                "[[accounts]]\nid = \"1\"\n[[accounts.keys]]\nid = \"k\"\nsecret = \"s\"\nflows = [\"\"]\n",
                "credentials file c.toml: accounts[0].keys[0].flows[0] must not be empty",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(
                from_file("c.toml", text).unwrap_err().to_string(),
                expected,
                "{text}"
            );
        }
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let text = "[[accounts]]\nid = \"1\"\n[[accounts.keys]]\nid = \"k\"\nsecret = \"s\"\naction = [\"fnf:List*\"]\n";
        let message = from_file("c.toml", text).unwrap_err().to_string();
        assert!(message.contains("unknown field `action`"), "{message}");
        assert!(message.contains("line 6"), "{message}");
    }

    #[test]
    fn errors_never_print_a_secret() {
        let toml_cases = [
            "[[accounts]]\nid = \"1\"\n[[accounts.keys]]\nid = \"k\"\nsecret = \"hunter2\n",
            "[[accounts]]\nid = \"1\"\n[[accounts.keys]]\nid = \"k\"\nsecret = 735197\n",
            "[[accounts]]\nid = \"1\"\n[[accounts.keys]]\nid = \"k\"\nsecret = \"hunter2\" junk\n",
        ];
        for text in toml_cases {
            let message = from_file("c.toml", text).unwrap_err().to_string();
            assert!(
                !message.contains("hunter2") && !message.contains("735197"),
                "{message}"
            );
        }
        let yaml = "accounts:\n  - id: '1'\n    keys:\n      - id: k\n        secret: [hunter2]\n";
        let message = from_file("c.yaml", yaml).unwrap_err().to_string();
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn unreadable_file_names_the_path() {
        let missing = Path::new("/nonexistent/fnf-credentials.toml");
        let error = CredentialsFile::read(missing).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("cannot read credentials file /nonexistent/fnf-credentials.toml:"),
            "{error}"
        );
    }
}
