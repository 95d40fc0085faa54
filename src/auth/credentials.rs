//! The access-key table (docs/COMPATIBILITY.md#authentication): AccessKeyId → account, secret and what the key may do.
//!
//! Keys come from three places:
//!
//! 1. a default key from the environment (`FNF_ACCESS_KEY_ID` + `FNF_ACCESS_KEY_SECRET`),
//!    which belongs to the default account and may do everything;
//! 2. an optional credentials file declaring accounts, their keys and per-key limits;
//! 3. when neither is configured, the development key [`DEV_ACCESS_KEY_ID`] /
//!    [`DEV_ACCESS_KEY_SECRET`] in the default account, so a fresh server works with no
//!    setup. [`Credentials::is_development_only`] tells the caller to warn about it.
//!
//! The file format is documented on [`CredentialsFile`].

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::path::{Path, PathBuf};

mod file;

pub use file::CredentialsFile;

/// Development key id, used only when no key is configured.
pub const DEV_ACCESS_KEY_ID: &str = "fnf-dev-access-key-id";
/// Development key secret, used only when no key is configured.
pub const DEV_ACCESS_KEY_SECRET: &str = "fnf-dev-access-key-secret";
/// Environment variable holding the default key's id.
pub const ENV_ACCESS_KEY_ID: &str = "FNF_ACCESS_KEY_ID";
/// Environment variable holding the default key's secret.
pub const ENV_ACCESS_KEY_SECRET: &str = "FNF_ACCESS_KEY_SECRET";

/// The service whose actions this server implements; action patterns name it.
const SERVICE: &str = "fnf";

/// An access-key secret. `Debug` and `Display` print `***` so it never reaches a log.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(secret.into())
    }

    /// The secret itself, for computing a signature and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Why the key table could not be built. Messages name the file (or variable) and the
/// problem, never a secret.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("cannot read credentials file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("credentials file {} is not valid {format}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        format: &'static str,
        message: String,
    },
    #[error(
        "credentials file {} is neither valid TOML ({toml}) nor valid YAML ({yaml})",
        path.display()
    )]
    UnknownFormat {
        path: PathBuf,
        toml: String,
        yaml: String,
    },
    #[error("credentials file {}: {problem}", path.display())]
    Invalid { path: PathBuf, problem: String },
    #[error("access key id '{id}' is declared twice: in {first} and in {second}")]
    DuplicateKey {
        id: String,
        first: String,
        second: String,
    },
    #[error("{present} is set but {missing} is not; set both or neither")]
    IncompleteEnvironmentKey {
        present: &'static str,
        missing: &'static str,
    },
    #[error("the default account id must not be empty")]
    EmptyDefaultAccount,
}

/// Where a key was declared; for logs and error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `FNF_ACCESS_KEY_ID` / `FNF_ACCESS_KEY_SECRET`.
    Environment,
    /// A credentials file, with the key's place in it (e.g. `accounts[0].keys[1]`).
    File { path: PathBuf, location: String },
    /// The built-in development key.
    Development,
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Environment => write!(f, "{ENV_ACCESS_KEY_ID}"),
            KeySource::File { path, location } => write!(f, "{} {location}", path.display()),
            KeySource::Development => f.write_str("the built-in development key"),
        }
    }
}

/// One access key: who it belongs to, its secret and what it may do.
#[derive(Debug, Clone)]
pub struct KeyEntry {
    access_key_id: String,
    account_id: String,
    secret: Secret,
    policy: KeyPolicy,
    source: KeySource,
}

impl KeyEntry {
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    pub fn source(&self) -> &KeySource {
        &self.source
    }

    /// Whether the key may call `action`: a bare action name (`StartExecution`, taken to be
    /// in service `fnf`) or a qualified one (`fnf:StartExecution`).
    pub fn allows_action(&self, action: &str) -> bool {
        let (service, name) = action.split_once(':').unwrap_or((SERVICE, action));
        match &self.policy.actions {
            None => true,
            Some(patterns) => patterns.iter().any(|p| p.matches(service, name)),
        }
    }

    /// The flow-name patterns the key is limited to; `None` when it may touch every flow
    /// (no `flows` list, or a pattern that matches any name).
    pub fn flow_patterns(&self) -> Option<&[String]> {
        let patterns = self.policy.flows.as_deref()?;
        let matches_any =
            |pattern: &String| !pattern.is_empty() && pattern.chars().all(|c| c == '*');
        (!patterns.iter().any(matches_any)).then_some(patterns)
    }

    /// Whether the key's secret is the public development secret: anyone can sign with it.
    pub fn has_public_secret(&self) -> bool {
        self.secret.expose() == DEV_ACCESS_KEY_SECRET
    }

    /// Whether the key may touch the flow called `flow_name`.
    pub fn allows_flow(&self, flow_name: &str) -> bool {
        match &self.policy.flows {
            None => true,
            Some(patterns) => patterns.iter().any(|p| glob_matches(p, flow_name)),
        }
    }
}

/// What a key may do; `None` means unrestricted.
#[derive(Debug, Clone, Default)]
struct KeyPolicy {
    actions: Option<Vec<ActionPattern>>,
    flows: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ActionPattern {
    /// `*`
    Any,
    /// `<service glob>:<action glob>`; the service glob is stored lower case.
    Scoped { service: String, action: String },
}

impl ActionPattern {
    fn parse(pattern: &str) -> Option<Self> {
        if pattern == "*" {
            return Some(ActionPattern::Any);
        }
        let (service, action) = pattern.split_once(':')?;
        if service.is_empty() || action.is_empty() {
            return None;
        }
        Some(ActionPattern::Scoped {
            service: service.to_lowercase(),
            action: action.to_string(),
        })
    }

    fn matches(&self, service: &str, action: &str) -> bool {
        match self {
            ActionPattern::Any => true,
            ActionPattern::Scoped {
                service: service_glob,
                action: action_glob,
            } => {
                glob_matches(service_glob, &service.to_lowercase())
                    && glob_matches(action_glob, action)
            }
        }
    }
}

/// `*` matches any run of characters (including none), `?` exactly one; everything else
/// matches itself. Greedy with one backtrack point: O(pattern × text) at worst.
fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    // Position of the last `*` and the text position it is currently absorbing up to.
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star, absorbed)) => {
                    backtrack = Some((star, absorbed + 1));
                    p = star + 1;
                    t = absorbed + 1;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// The default account and the optional environment key, as read by the config layer.
#[derive(Debug, Clone, Copy)]
pub struct DefaultKey<'a> {
    pub account_id: &'a str,
    /// `FNF_ACCESS_KEY_ID`; an empty value counts as unset.
    pub access_key_id: Option<&'a str>,
    /// `FNF_ACCESS_KEY_SECRET`; an empty value counts as unset.
    pub access_key_secret: Option<&'a str>,
}

/// The key table the signature layer consults.
#[derive(Debug, Clone)]
pub struct Credentials {
    keys: HashMap<String, KeyEntry>,
}

impl Credentials {
    /// Reads the credentials file (if any) and builds the table.
    pub fn load(
        default_key: DefaultKey<'_>,
        file: Option<&Path>,
    ) -> Result<Credentials, CredentialsError> {
        let file = file.map(CredentialsFile::read).transpose()?;
        Credentials::build(default_key, file)
    }

    /// Builds the table from already-parsed parts; falls back to the development key when
    /// neither an environment key nor a file is given.
    pub fn build(
        default_key: DefaultKey<'_>,
        file: Option<CredentialsFile>,
    ) -> Result<Credentials, CredentialsError> {
        let mut keys = HashMap::new();
        if let Some((id, secret)) = environment_key(default_key)? {
            let entry = default_account_entry(default_key, id, secret, KeySource::Environment)?;
            keys.insert(entry.access_key_id.clone(), entry);
        }
        if let Some(file) = file {
            for entry in file.keys {
                match keys.entry(entry.access_key_id.clone()) {
                    Entry::Occupied(existing) => {
                        return Err(CredentialsError::DuplicateKey {
                            id: entry.access_key_id,
                            first: existing.get().source.to_string(),
                            second: entry.source.to_string(),
                        });
                    }
                    Entry::Vacant(slot) => {
                        slot.insert(entry);
                    }
                }
            }
        }
        if keys.is_empty() {
            let entry = default_account_entry(
                default_key,
                DEV_ACCESS_KEY_ID,
                DEV_ACCESS_KEY_SECRET,
                KeySource::Development,
            )?;
            keys.insert(entry.access_key_id.clone(), entry);
        }
        Ok(Credentials { keys })
    }

    /// The key with this id (ids are case-sensitive); `None` → `InvalidAccessKeyID`.
    pub fn lookup(&self, access_key_id: &str) -> Option<&KeyEntry> {
        self.keys.get(access_key_id)
    }

    /// True when nothing was configured and only the public development key is accepted.
    pub fn is_development_only(&self) -> bool {
        self.keys
            .values()
            .all(|entry| entry.source == KeySource::Development)
    }

    /// The keys signed with the public development secret, however they were configured
    /// (built in, the environment, a credentials file).
    pub fn public_keys(&self) -> impl Iterator<Item = &KeyEntry> {
        self.keys.values().filter(|entry| entry.has_public_secret())
    }

    /// The accounts the keys belong to, each once, sorted.
    pub fn account_ids(&self) -> Vec<String> {
        let mut accounts: Vec<String> = self
            .keys
            .values()
            .map(|entry| entry.account_id().to_string())
            .collect();
        accounts.sort();
        accounts.dedup();
        accounts
    }

    /// Number of keys in the table.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// The environment key if both halves are set; an error if only one is.
fn environment_key<'a>(
    default_key: DefaultKey<'a>,
) -> Result<Option<(&'a str, &'a str)>, CredentialsError> {
    let id = default_key.access_key_id.filter(|v| !v.is_empty());
    let secret = default_key.access_key_secret.filter(|v| !v.is_empty());
    match (id, secret) {
        (Some(id), Some(secret)) => Ok(Some((id, secret))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(CredentialsError::IncompleteEnvironmentKey {
            present: ENV_ACCESS_KEY_ID,
            missing: ENV_ACCESS_KEY_SECRET,
        }),
        (None, Some(_)) => Err(CredentialsError::IncompleteEnvironmentKey {
            present: ENV_ACCESS_KEY_SECRET,
            missing: ENV_ACCESS_KEY_ID,
        }),
    }
}

fn default_account_entry(
    default_key: DefaultKey<'_>,
    id: &str,
    secret: &str,
    source: KeySource,
) -> Result<KeyEntry, CredentialsError> {
    if default_key.account_id.is_empty() {
        return Err(CredentialsError::EmptyDefaultAccount);
    }
    Ok(KeyEntry {
        access_key_id: id.to_string(),
        account_id: default_key.account_id.to_string(),
        secret: Secret::new(secret),
        policy: KeyPolicy::default(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORDERS_CI_FILE: &str =
        "[[accounts]]\nid = \"7\"\n[[accounts.keys]]\nid = \"orders-ci\"\nsecret = \"ci-secret\"\n";

    fn no_default_key() -> DefaultKey<'static> {
        DefaultKey {
            account_id: "1000",
            access_key_id: None,
            access_key_secret: None,
        }
    }

    fn key(id: &str, rules: &str) -> KeyEntry {
        let text = format!(
            "[[accounts]]\nid = \"1\"\n[[accounts.keys]]\nid = \"{id}\"\nsecret = \"s\"\n{rules}"
        );
        let file = CredentialsFile::parse(Path::new("keys.toml"), &text).expect("valid test file");
        Credentials::build(no_default_key(), Some(file))
            .expect("valid test file")
            .lookup(id)
            .expect("declared key")
            .clone()
    }

    #[test]
    fn nothing_configured_gives_the_development_key() {
        let credentials = Credentials::build(no_default_key(), None).unwrap();
        assert!(credentials.is_development_only());
        let dev = credentials.lookup(DEV_ACCESS_KEY_ID).unwrap();
        assert_eq!(dev.secret().expose(), DEV_ACCESS_KEY_SECRET);
        assert_eq!(dev.account_id(), "1000");
        assert_eq!(dev.source(), &KeySource::Development);
        assert!(dev.allows_action("DeleteFlow") && dev.allows_flow("x"));

        let empty_env = DefaultKey {
            access_key_id: Some(""),
            access_key_secret: Some(""),
            ..no_default_key()
        };
        assert!(
            Credentials::build(empty_env, None)
                .unwrap()
                .is_development_only()
        );
    }

    #[test]
    fn environment_key_replaces_the_development_key() {
        let env = DefaultKey {
            account_id: "42",
            access_key_id: Some("env-id"),
            access_key_secret: Some("env-secret"),
        };
        let credentials = Credentials::build(env, None).unwrap();
        assert!(!credentials.is_development_only());
        assert!(credentials.lookup(DEV_ACCESS_KEY_ID).is_none());
        let key = credentials.lookup("env-id").unwrap();
        assert_eq!(key.account_id(), "42");
        assert_eq!(key.secret().expose(), "env-secret");

        let with_file = Credentials::build(
            env,
            Some(CredentialsFile::parse(Path::new("c.toml"), ORDERS_CI_FILE).unwrap()),
        )
        .unwrap();
        assert_eq!(with_file.len(), 2);
    }

    #[test]
    fn half_an_environment_key_is_an_error() {
        let only_id = DefaultKey {
            access_key_id: Some("id"),
            ..no_default_key()
        };
        assert_eq!(
            Credentials::build(only_id, None).unwrap_err().to_string(),
            "FNF_ACCESS_KEY_ID is set but FNF_ACCESS_KEY_SECRET is not; set both or neither"
        );
        let only_secret = DefaultKey {
            access_key_secret: Some("secret"),
            ..no_default_key()
        };
        assert!(Credentials::build(only_secret, None).is_err());
    }

    #[test]
    fn empty_default_account_is_an_error_when_used() {
        let nameless = DefaultKey {
            account_id: "",
            ..no_default_key()
        };
        assert!(matches!(
            Credentials::build(nameless, None),
            Err(CredentialsError::EmptyDefaultAccount)
        ));
    }

    #[test]
    fn environment_key_clashing_with_a_file_key_is_rejected() {
        let env = DefaultKey {
            account_id: "1",
            access_key_id: Some("orders-ci"),
            access_key_secret: Some("x"),
        };
        let file = CredentialsFile::parse(Path::new("c.toml"), ORDERS_CI_FILE).unwrap();
        assert_eq!(
            Credentials::build(env, Some(file)).unwrap_err().to_string(),
            "access key id 'orders-ci' is declared twice: in FNF_ACCESS_KEY_ID and in \
             c.toml accounts[0].keys[0]"
        );
    }

    #[test]
    fn secrets_are_redacted_in_debug_and_display() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "***");
        assert_eq!(format!("{secret}"), "***");
        let file = CredentialsFile::parse(Path::new("c.toml"), ORDERS_CI_FILE).unwrap();
        let env = DefaultKey {
            account_id: "1",
            access_key_id: Some("env-id"),
            access_key_secret: Some("env-secret"),
        };
        let dump = format!("{:?}", Credentials::build(env, Some(file)).unwrap());
        for leaked in ["ci-secret", "env-secret"] {
            assert!(!dump.contains(leaked), "{dump}");
        }
        assert!(dump.contains("orders-ci") && dump.contains("env-id"));
        let dev = Credentials::build(no_default_key(), None).unwrap();
        assert!(!format!("{dev:?}").contains(DEV_ACCESS_KEY_SECRET));
    }

    #[test]
    fn action_patterns_wildcards_and_case() {
        let entry = key("k", "actions = [\"FNF:Describe*\", \"fnf:Stop?xecution\"]");
        assert!(entry.allows_action("DescribeExecution"));
        assert!(entry.allows_action("Describe"));
        assert!(entry.allows_action("fnf:DescribeFlow"));
        assert!(
            entry.allows_action("Fnf:DescribeFlow"),
            "service part is case-insensitive"
        );
        assert!(
            !entry.allows_action("describeFlow"),
            "action part is case-sensitive"
        );
        assert!(!entry.allows_action("oss:DescribeFlow"));
        assert!(entry.allows_action("StopExecution"));
        assert!(!entry.allows_action("StopExecutions"));

        let any = key("k", "actions = [\"*\"]");
        assert!(any.allows_action("CreateFlow") && any.allows_action("oss:PutObject"));
        let service_wide = key("k", "actions = [\"fnf:*\"]");
        assert!(service_wide.allows_action("CreateFlow"));
        assert!(!service_wide.allows_action("oss:PutObject"));
        let nothing = key("k", "actions = []");
        assert!(!nothing.allows_action("DescribeFlow"));
        assert!(
            nothing.allows_flow("any"),
            "flows are unrestricted when absent"
        );
    }

    #[test]
    fn flow_patterns_are_case_sensitive_globs() {
        let entry = key("k", "flows = [\"orders-*\", \"job-??\", \"exact\"]");
        assert!(entry.allows_flow("orders-"));
        assert!(entry.allows_flow("orders-eu-1"));
        assert!(!entry.allows_flow("Orders-eu"));
        assert!(entry.allows_flow("job-01"));
        assert!(!entry.allows_flow("job-1"));
        assert!(entry.allows_flow("exact"));
        assert!(!entry.allows_flow("exactly"));
        assert!(!key("k", "flows = []").allows_flow("exact"));
    }

    #[test]
    fn glob_matching() {
        let cases = [
            ("*", "", true),
            ("*", "abc", true),
            ("", "", true),
            ("", "a", false),
            ("a*c", "abbbc", true),
            ("a*c", "abbbd", false),
            ("*b*", "abc", true),
            ("a**", "a", true),
            ("?", "é", true),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            ("*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(
                glob_matches(pattern, text),
                expected,
                "{pattern:?} vs {text:?}"
            );
        }
    }
}
